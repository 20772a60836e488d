"""Typed errors shared by the domain and the service layer.

Each error carries a stable machine ``code`` (English, for APIs and logs) and a
Chinese ``message`` for the person who caused it. The web layer maps them to
HTTP statuses; the CLI prints the message and exits non-zero.
"""

from __future__ import annotations


class HotlineError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message, **self.details}


class ValidationError(HotlineError):
    """A field is missing, malformed, too long or out of range."""

    code = "validation_error"
    http_status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.field = field


class NotFound(HotlineError):
    code = "not_found"
    http_status = 404


class UnknownAgency(NotFound):
    code = "unknown_agency"


class UnknownUser(NotFound):
    code = "unknown_user"


class UnknownTicket(NotFound):
    code = "unknown_ticket"


class TransitionError(HotlineError):
    """Base for every refused lifecycle step."""

    code = "transition_error"
    http_status = 409


class UnknownState(TransitionError):
    code = "unknown_state"
    http_status = 422


class UnknownAction(TransitionError):
    code = "unknown_action"
    http_status = 422


class UnknownRole(TransitionError):
    code = "unknown_role"
    http_status = 422


class ActionNotAllowed(TransitionError):
    """The action does not apply to a ticket in this state."""

    code = "action_not_allowed_in_state"


class RoleNotAllowed(TransitionError):
    """The actor's role may not fire this action at all."""

    code = "role_not_allowed"
    http_status = 403


class PermissionDenied(HotlineError):
    """The role may fire the action, but not on this ticket (another agency's)."""

    code = "permission_denied"
    http_status = 403


class ConflictError(HotlineError):
    """Someone else changed the ticket first; reload and try again. Nothing was saved."""

    code = "conflict"
    http_status = 409


class IdempotencyConflict(HotlineError):
    """The idempotency key was used before for a different request; nothing was done."""

    code = "idempotency_conflict"
    http_status = 409


class AlreadyTransferred(HotlineError):
    """The call was transferred already, to another destination; nothing was done."""

    code = "already_transferred"
    http_status = 409
