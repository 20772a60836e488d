"""The lifecycle table, tested exhaustively: every state × every action, every action × every role.

The expected tables below are written out by hand from domain.md section 3, independently of
hotline.domain.lifecycle, so a change to the rules there must be mirrored here on purpose.
"""

from __future__ import annotations

import pytest

from hotline.domain.errors import (
    ActionNotAllowed,
    RoleNotAllowed,
    TransitionError,
    UnknownAction,
    UnknownRole,
    UnknownState,
)
from hotline.domain.lifecycle import PERMISSIONS, Action, TicketState, allowed_actions, transition
from hotline.domain.vocabulary import Role

EXPECTED_MOVES = """
received            dispatch            dispatched
returned            dispatch            dispatched
received            answer_directly     closed
dispatched          sign_for            signed
dispatched          request_return      return_requested
signed              request_return      return_requested
return_requested    approve_return      returned
return_requested    reject_return       signed
signed              record_progress     in_progress
in_progress         record_progress     in_progress
signed              request_extension   extension_requested
in_progress         request_extension   extension_requested
extension_requested approve_extension   in_progress
extension_requested reject_extension    in_progress
signed              request_suspension  suspension_requested
in_progress         request_suspension  suspension_requested
suspension_requested approve_suspension suspended
suspension_requested reject_suspension  in_progress
suspended           resume              in_progress
signed              reply               replied
in_progress         reply               replied
replied             approve_reply       awaiting_follow_up
replied             reject_reply        in_progress
awaiting_follow_up  follow_up           followed_up
awaiting_follow_up  close               closed
followed_up         close               closed
followed_up         reopen              dispatched
closed              reopen              dispatched
closed              archive             archived
received            merge               merged
dispatched          merge               merged
returned            merge               merged
signed              merge               merged
in_progress         merge               merged
return_requested    merge               merged
"""
# 催办 / 督办 / 通报 leave the state as it is, wherever someone owes work on the ticket.
RECORDED_IN = [
    "dispatched",
    "return_requested",
    "signed",
    "in_progress",
    "extension_requested",
    "suspension_requested",
]

EXPECTED_ROLES = {
    "create": {"call_taker", "supervisor", "system"},
    "dispatch": {"call_taker", "supervisor", "system"},  # the system: rules-routed API pushes
    "answer_directly": {"call_taker", "supervisor"},
    "sign_for": {"agency_staff"},
    "request_return": {"agency_staff"},
    "approve_return": {"supervisor"},
    "reject_return": {"supervisor"},
    "record_progress": {"agency_staff"},
    "request_extension": {"agency_staff"},
    "approve_extension": {"supervisor"},
    "reject_extension": {"supervisor"},
    "request_suspension": {"agency_staff"},
    "approve_suspension": {"supervisor"},
    "reject_suspension": {"supervisor"},
    "resume": {"agency_staff", "supervisor"},
    "reply": {"agency_staff"},
    "approve_reply": {"supervisor"},
    "reject_reply": {"supervisor"},
    "follow_up": {"call_taker", "supervisor"},
    "close": {"supervisor"},
    "reopen": {"supervisor"},
    "archive": {"supervisor", "admin", "system"},
    "merge": {"call_taker", "supervisor"},
    "chase": {"supervisor", "system"},
    "supervise": {"supervisor"},
    "criticize": {"supervisor", "system"},
    "reclassify": {"call_taker", "supervisor"},
}
# 调整分类 corrects category or priority (and so the deadlines) while the work is not yet done.
RECLASSIFIABLE_IN = [
    "received",
    "returned",
    "dispatched",
    "return_requested",
    "signed",
    "in_progress",
    "extension_requested",
    "suspension_requested",
    "suspended",
]


def _expected() -> dict[tuple[str, str], str]:
    moves: dict[tuple[str, str], str] = {}
    for line in EXPECTED_MOVES.strip().splitlines():
        start, action, end = line.split()
        moves[(start, action)] = end
    for state in RECORDED_IN:
        for action in ("chase", "supervise", "criticize"):
            moves[(state, action)] = state
    for state in RECLASSIFIABLE_IN:
        moves[(state, "reclassify")] = state
    return moves


EXPECTED = _expected()


def _permitted_role(action: Action) -> Role:
    return Role(sorted(EXPECTED_ROLES[action.value])[0])


@pytest.mark.parametrize("state", list(TicketState), ids=lambda s: s.value)
@pytest.mark.parametrize("action", [a for a in Action if a is not Action.CREATE], ids=str)
def test_every_state_and_action(state: TicketState, action: Action) -> None:
    role = _permitted_role(action)
    expected = EXPECTED.get((state.value, action.value))
    if expected is None:
        with pytest.raises(ActionNotAllowed) as info:
            transition(state, action, role)
        assert info.value.details == {"action": action.value, "state": state.value}
        assert state.label in info.value.message
    else:
        assert transition(state, action, role) is TicketState(expected)


def test_create_has_no_from_state() -> None:
    for state in TicketState:
        with pytest.raises(ActionNotAllowed):
            transition(state, Action.CREATE, Role.CALL_TAKER)


@pytest.mark.parametrize("action", list(Action), ids=str)
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_action_and_role(action: Action, role: Role) -> None:
    allowed = role.value in EXPECTED_ROLES[action.value]
    assert (role in PERMISSIONS[action]) is allowed
    # Find a state where the action applies, so only the role decides.
    state = next((TicketState(s) for (s, a) in EXPECTED if a == action.value), None)
    if state is None:
        return
    if allowed:
        transition(state, action, role)
    else:
        with pytest.raises(RoleNotAllowed) as info:
            transition(state, action, role)
        assert info.value.http_status == 403


def test_the_table_has_no_moves_the_test_does_not_know() -> None:
    from hotline.domain.lifecycle import TRANSITIONS

    actual = {(s.value, a.value): t.value for (s, a), t in TRANSITIONS.items()}
    assert actual == EXPECTED


def test_finished_states_accept_nothing_but_reopen_and_archive() -> None:
    closed_actions = {a for (s, a) in EXPECTED if s == "closed"}
    assert closed_actions == {"reopen", "archive"}
    for state in ("archived", "merged"):
        assert not [a for (s, a) in EXPECTED if s == state]
    assert [s for s in TicketState if not s.is_open] == [
        TicketState.CLOSED,
        TicketState.ARCHIVED,
        TicketState.MERGED,
    ]


@pytest.mark.parametrize(
    ("state", "action", "role", "error"),
    [
        ("nonsense", "dispatch", "call_taker", UnknownState),
        ("received", "teleport", "call_taker", UnknownAction),
        ("received", "dispatch", "janitor", UnknownRole),
    ],
)
def test_unknown_values_raise_typed_errors(state, action, role, error) -> None:
    with pytest.raises(error) as info:
        transition(state, action, role)
    assert isinstance(info.value, TransitionError)
    assert info.value.http_status == 422


def test_strings_are_accepted_for_known_values() -> None:
    assert transition("dispatched", "sign_for", "agency_staff") is TicketState.SIGNED


def test_allowed_actions_for_ui() -> None:
    assert allowed_actions(TicketState.IN_PROGRESS, Role.AGENCY_STAFF) == [
        Action.RECORD_PROGRESS,
        Action.REQUEST_EXTENSION,
        Action.REQUEST_SUSPENSION,
        Action.REPLY,
    ]
    assert allowed_actions(TicketState.ARCHIVED, Role.SUPERVISOR) == []
