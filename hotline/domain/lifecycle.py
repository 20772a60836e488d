"""The ticket lifecycle as a pure state machine.

One table says which action moves a ticket from which state to which; a second says
which roles may fire each action. ``transition`` is the only way the service layer
learns the next state, so the rules live in exactly one place and are table-tested.

受理 → 派单 → 签收 / 退单(审核) → 办理 → 延期申请(审核) → 答复 → 审核 → 回访 → 办结 → 归档,
with 重办, 挂起(审核), 合并, and the recorded actions 催办 / 督办 / 通报 / 办理进展.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from hotline.domain.errors import (
    ActionNotAllowed,
    RoleNotAllowed,
    UnknownAction,
    UnknownRole,
    UnknownState,
)
from hotline.domain.vocabulary import LabelledEnum, Role


class TicketState(LabelledEnum):
    RECEIVED = "received", "已受理"
    DISPATCHED = "dispatched", "待签收"
    RETURN_REQUESTED = "return_requested", "退单待审核"
    RETURNED = "returned", "已退回待重派"
    SIGNED = "signed", "已签收"
    IN_PROGRESS = "in_progress", "办理中"
    EXTENSION_REQUESTED = "extension_requested", "延期待审核"
    SUSPENSION_REQUESTED = "suspension_requested", "挂起待审核"
    SUSPENDED = "suspended", "已挂起"
    REPLIED = "replied", "已答复待审核"
    AWAITING_FOLLOW_UP = "awaiting_follow_up", "待回访"
    FOLLOWED_UP = "followed_up", "已回访"
    CLOSED = "closed", "已办结"
    ARCHIVED = "archived", "已归档"
    MERGED = "merged", "已合并"

    @property
    def is_open(self) -> bool:
        """Open tickets still need someone to act; they are what inboxes and sweeps look at."""
        return self not in _FINISHED

    @property
    def with_agency(self) -> bool:
        """The lead agency holds the ticket and its clocks run against the agency."""
        return self in _WITH_AGENCY


_FINISHED = frozenset({TicketState.CLOSED, TicketState.ARCHIVED, TicketState.MERGED})
_WITH_AGENCY = frozenset(
    {
        TicketState.DISPATCHED,
        TicketState.SIGNED,
        TicketState.IN_PROGRESS,
        TicketState.EXTENSION_REQUESTED,
        TicketState.RETURN_REQUESTED,
        TicketState.SUSPENSION_REQUESTED,
    }
)


class Action(LabelledEnum):
    CREATE = "create", "受理"
    DISPATCH = "dispatch", "派单"
    ANSWER_DIRECTLY = "answer_directly", "直办"
    SIGN_FOR = "sign_for", "签收"
    REQUEST_RETURN = "request_return", "退单申请"
    APPROVE_RETURN = "approve_return", "同意退单"
    REJECT_RETURN = "reject_return", "驳回退单"
    RECORD_PROGRESS = "record_progress", "办理进展"
    REQUEST_EXTENSION = "request_extension", "延期申请"
    APPROVE_EXTENSION = "approve_extension", "同意延期"
    REJECT_EXTENSION = "reject_extension", "驳回延期"
    REQUEST_SUSPENSION = "request_suspension", "挂起申请"
    APPROVE_SUSPENSION = "approve_suspension", "同意挂起"
    REJECT_SUSPENSION = "reject_suspension", "驳回挂起"
    RESUME = "resume", "恢复办理"
    REPLY = "reply", "答复"
    APPROVE_REPLY = "approve_reply", "审核通过"
    REJECT_REPLY = "reject_reply", "审核退回"
    FOLLOW_UP = "follow_up", "回访"
    CLOSE = "close", "办结"
    REOPEN = "reopen", "重办"
    ARCHIVE = "archive", "归档"
    MERGE = "merge", "合并"
    CHASE = "chase", "催办"
    SUPERVISE = "supervise", "督办"
    CRITICIZE = "criticize", "通报"
    RECLASSIFY = "reclassify", "调整分类"


S = TicketState
A = Action

# Actions that are recorded on the ticket without moving it ("the state stays").
RECORDED_ACTIONS: frozenset[Action] = frozenset({A.CHASE, A.SUPERVISE, A.CRITICIZE})

# States in which a recorded action (催办/督办/通报) makes sense: someone owes work.
_CHASEABLE = frozenset(
    {
        S.DISPATCHED,
        S.RETURN_REQUESTED,
        S.SIGNED,
        S.IN_PROGRESS,
        S.EXTENSION_REQUESTED,
        S.SUSPENSION_REQUESTED,
    }
)
# The category or priority may still be corrected (deadlines follow) while work is owed,
# before dispatch, and while the clocks are paused.
_RECLASSIFIABLE = _CHASEABLE | {S.RECEIVED, S.RETURNED, S.SUSPENDED}
# States from which a duplicate can still be merged into another ticket.
_MERGEABLE = frozenset(
    {S.RECEIVED, S.DISPATCHED, S.RETURNED, S.SIGNED, S.IN_PROGRESS, S.RETURN_REQUESTED}
)


def _build_table() -> Mapping[tuple[TicketState, Action], TicketState]:
    table: dict[tuple[TicketState, Action], TicketState] = {
        (S.RECEIVED, A.DISPATCH): S.DISPATCHED,
        (S.RETURNED, A.DISPATCH): S.DISPATCHED,
        (S.RECEIVED, A.ANSWER_DIRECTLY): S.CLOSED,
        (S.DISPATCHED, A.SIGN_FOR): S.SIGNED,
        # An agency may return before or after signing, within the return window.
        (S.DISPATCHED, A.REQUEST_RETURN): S.RETURN_REQUESTED,
        (S.SIGNED, A.REQUEST_RETURN): S.RETURN_REQUESTED,
        (S.RETURN_REQUESTED, A.APPROVE_RETURN): S.RETURNED,
        # A rejected return leaves the agency holding the ticket: it counts as signed for.
        (S.RETURN_REQUESTED, A.REJECT_RETURN): S.SIGNED,
        (S.SIGNED, A.RECORD_PROGRESS): S.IN_PROGRESS,
        (S.IN_PROGRESS, A.RECORD_PROGRESS): S.IN_PROGRESS,
        (S.SIGNED, A.REQUEST_EXTENSION): S.EXTENSION_REQUESTED,
        (S.IN_PROGRESS, A.REQUEST_EXTENSION): S.EXTENSION_REQUESTED,
        (S.EXTENSION_REQUESTED, A.APPROVE_EXTENSION): S.IN_PROGRESS,
        (S.EXTENSION_REQUESTED, A.REJECT_EXTENSION): S.IN_PROGRESS,
        (S.SIGNED, A.REQUEST_SUSPENSION): S.SUSPENSION_REQUESTED,
        (S.IN_PROGRESS, A.REQUEST_SUSPENSION): S.SUSPENSION_REQUESTED,
        (S.SUSPENSION_REQUESTED, A.APPROVE_SUSPENSION): S.SUSPENDED,
        (S.SUSPENSION_REQUESTED, A.REJECT_SUSPENSION): S.IN_PROGRESS,
        (S.SUSPENDED, A.RESUME): S.IN_PROGRESS,
        (S.SIGNED, A.REPLY): S.REPLIED,
        (S.IN_PROGRESS, A.REPLY): S.REPLIED,
        (S.REPLIED, A.APPROVE_REPLY): S.AWAITING_FOLLOW_UP,
        (S.REPLIED, A.REJECT_REPLY): S.IN_PROGRESS,
        (S.AWAITING_FOLLOW_UP, A.FOLLOW_UP): S.FOLLOWED_UP,
        # Closing without a follow-up is allowed (caller unreachable); 回访率 shows it.
        (S.AWAITING_FOLLOW_UP, A.CLOSE): S.CLOSED,
        (S.FOLLOWED_UP, A.CLOSE): S.CLOSED,
        # 重办 goes back to the agency's sign-for queue so it cannot be missed.
        (S.FOLLOWED_UP, A.REOPEN): S.DISPATCHED,
        (S.CLOSED, A.REOPEN): S.DISPATCHED,
        (S.CLOSED, A.ARCHIVE): S.ARCHIVED,
    }
    for state in _MERGEABLE:
        table[(state, A.MERGE)] = S.MERGED
    for state in _CHASEABLE:
        for action in RECORDED_ACTIONS:
            table[(state, action)] = state
    for state in _RECLASSIFIABLE:
        table[(state, A.RECLASSIFY)] = state
    return MappingProxyType(table)


TRANSITIONS: Mapping[tuple[TicketState, Action], TicketState] = _build_table()

# CREATE is not in TRANSITIONS: it has no from-state. Its roles are listed for the service.
_R = Role
PERMISSIONS: Mapping[Action, frozenset[Role]] = MappingProxyType(
    {
        A.CREATE: frozenset({_R.CALL_TAKER, _R.SUPERVISOR, _R.SYSTEM}),
        # The system dispatches what the other platform pushes in and the rules route.
        A.DISPATCH: frozenset({_R.CALL_TAKER, _R.SUPERVISOR, _R.SYSTEM}),
        A.ANSWER_DIRECTLY: frozenset({_R.CALL_TAKER, _R.SUPERVISOR}),
        A.SIGN_FOR: frozenset({_R.AGENCY_STAFF}),
        A.REQUEST_RETURN: frozenset({_R.AGENCY_STAFF}),
        A.APPROVE_RETURN: frozenset({_R.SUPERVISOR}),
        A.REJECT_RETURN: frozenset({_R.SUPERVISOR}),
        A.RECORD_PROGRESS: frozenset({_R.AGENCY_STAFF}),
        A.REQUEST_EXTENSION: frozenset({_R.AGENCY_STAFF}),
        A.APPROVE_EXTENSION: frozenset({_R.SUPERVISOR}),
        A.REJECT_EXTENSION: frozenset({_R.SUPERVISOR}),
        A.REQUEST_SUSPENSION: frozenset({_R.AGENCY_STAFF}),
        A.APPROVE_SUSPENSION: frozenset({_R.SUPERVISOR}),
        A.REJECT_SUSPENSION: frozenset({_R.SUPERVISOR}),
        A.RESUME: frozenset({_R.AGENCY_STAFF, _R.SUPERVISOR}),
        A.REPLY: frozenset({_R.AGENCY_STAFF}),
        A.APPROVE_REPLY: frozenset({_R.SUPERVISOR}),
        A.REJECT_REPLY: frozenset({_R.SUPERVISOR}),
        A.FOLLOW_UP: frozenset({_R.CALL_TAKER, _R.SUPERVISOR}),
        A.CLOSE: frozenset({_R.SUPERVISOR}),
        A.REOPEN: frozenset({_R.SUPERVISOR}),
        A.ARCHIVE: frozenset({_R.SUPERVISOR, _R.ADMIN, _R.SYSTEM}),
        A.MERGE: frozenset({_R.CALL_TAKER, _R.SUPERVISOR}),
        A.CHASE: frozenset({_R.SUPERVISOR, _R.SYSTEM}),
        A.SUPERVISE: frozenset({_R.SUPERVISOR}),
        A.CRITICIZE: frozenset({_R.SUPERVISOR, _R.SYSTEM}),
        A.RECLASSIFY: frozenset({_R.CALL_TAKER, _R.SUPERVISOR}),
    }
)


def _coerce(enum: type[StrEnum], raw: object, error: type[Exception], what: str) -> StrEnum:
    if isinstance(raw, enum):
        return raw
    try:
        return enum(str(raw))
    except ValueError:
        raise error(f"未知的{what}：{raw!r}", value=str(raw)) from None


def transition(state: TicketState | str, action: Action | str, role: Role | str) -> TicketState:
    """Return the state that ``action`` by ``role`` leads to from ``state``, or raise.

    Raises UnknownState / UnknownAction for values outside the vocabularies,
    RoleNotAllowed when the role may never fire the action, and ActionNotAllowed when
    the action does not apply in this state.
    """
    state = _coerce(TicketState, state, UnknownState, "工单状态")
    action = _coerce(Action, action, UnknownAction, "操作")
    role = _coerce(Role, role, UnknownRole, "角色")
    if role not in PERMISSIONS[action]:
        raise RoleNotAllowed(
            f"{role.label}无权执行“{action.label}”",
            action=action.value,
            role=role.value,
        )
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise ActionNotAllowed(
            f"工单当前状态为“{state.label}”，不能执行“{action.label}”",
            action=action.value,
            state=state.value,
        )
    return target


def allowed_actions(state: TicketState, role: Role) -> list[Action]:
    """The actions a role can fire on a ticket in this state, in declaration order (for UIs)."""
    return [a for a in Action if (state, a) in TRANSITIONS and role in PERMISSIONS[a]]
