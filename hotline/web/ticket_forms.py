"""The ticket page's action forms: which a person may use, and how a submitted form becomes a
service call. The forms post to one route; a table maps each form to its service function."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hotline.domain.errors import ValidationError
from hotline.domain.lifecycle import Action, allowed_actions
from hotline.domain.text import ascii_number
from hotline.domain.vocabulary import Role
from hotline.models import Ticket
from hotline.services import tickets
from hotline.services.context import Context

Form = Mapping[str, str]
Handler = Callable[[Context, int, Form, int], Ticket]


@dataclass(frozen=True)
class ActionForm:
    key: str  # the form's name in URLs and templates
    label: str
    actions: tuple[Action, ...]  # the lifecycle actions it can fire (approve, reject)
    handler: Handler


def _text(form: Form, name: str) -> str | None:
    value = form.get(name)
    return value if value not in (None, "") else None


def _yes_no(form: Form, name: str) -> bool:
    value = form.get(name)
    if value not in ("yes", "no"):
        raise ValidationError(name, "请选择“是”或“否”")
    return value == "yes"


def _decision(form: Form) -> bool:
    value = form.get("decision")
    if value not in ("approve", "reject"):
        raise ValidationError("decision", "请选择同意或驳回")
    return value == "approve"


def _positive_int(form: Form, name: str, *, required: bool = True) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        if required:
            raise ValidationError(name, "必填")
        return None
    value = ascii_number(raw, 18)
    if value is None:
        raise ValidationError(name, "应为正整数")
    return value


def _agency_refs(form: Form, name: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    values = getlist(name) if getlist else [form.get(name, "")]
    return [v for v in values if v]


def parse_version(form: Form) -> int:
    version = _positive_int(form, "version")
    assert version is not None
    return version


def _dispatch(ctx: Context, tid: int, f: Form, v: int) -> Ticket:
    lead = _text(f, "lead_agency")
    if lead is None:
        raise ValidationError("lead_agency", "请选择主办单位")
    return tickets.dispatch(
        ctx,
        tid,
        lead_agency=lead,
        assisting=_agency_refs(f, "assisting"),
        informed=_agency_refs(f, "informed"),
        note=_text(f, "note"),
        expected_version=v,
    )


def _request_return(ctx: Context, tid: int, f: Form, v: int) -> Ticket:
    suggested = _text(f, "suggested_agency")
    if suggested is None:
        raise ValidationError("suggested_agency", "请选择建议承办单位")
    return tickets.request_return(
        ctx,
        tid,
        reason_code=f.get("reason_code", ""),
        reason=f.get("reason", ""),
        suggested_agency=suggested,
        expected_version=v,
    )


def _request_extension(ctx: Context, tid: int, f: Form, v: int) -> Ticket:
    days = _positive_int(f, "working_days")
    assert days is not None
    return tickets.request_extension(
        ctx, tid, working_days=days, reason=f.get("reason", ""), expected_version=v
    )


def _decide_extension(ctx: Context, tid: int, f: Form, v: int) -> Ticket:
    approve = _decision(f)
    days = _positive_int(f, "working_days", required=False) if approve else None
    return tickets.decide_extension(
        ctx, tid, approve=approve, working_days=days, note=_text(f, "note"), expected_version=v
    )


def _reply(ctx: Context, tid: int, f: Form, v: int) -> Ticket:
    return tickets.reply(
        ctx,
        tid,
        contacted_caller=_yes_no(f, "contacted_caller"),
        resolved=_yes_no(f, "resolved"),
        reply_text=f.get("reply_text", ""),
        expected_version=v,
    )


def _merge(ctx: Context, tid: int, f: Form, v: int) -> Ticket:
    into = _positive_int(f, "into_ticket_id")
    assert into is not None
    return tickets.merge(ctx, tid, into_ticket_id=into, note=_text(f, "note"), expected_version=v)


def _reclassify(ctx: Context, tid: int, f: Form, v: int) -> Ticket:
    return tickets.reclassify(
        ctx,
        tid,
        reason=f.get("reason", ""),
        category_level1=_text(f, "category_level1"),
        category_level2=_text(f, "category_level2"),
        priority=_text(f, "priority"),
        expected_version=v,
    )


def _decider(
    service: Callable[..., Ticket],
) -> Handler:
    def handle(ctx: Context, tid: int, f: Form, v: int) -> Ticket:
        return service(ctx, tid, approve=_decision(f), note=_text(f, "note"), expected_version=v)

    return handle


A = Action
FORMS: dict[str, ActionForm] = {
    form.key: form
    for form in (
        ActionForm("dispatch", "派单", (A.DISPATCH,), _dispatch),
        ActionForm(
            "answer_directly",
            "直办答复",
            (A.ANSWER_DIRECTLY,),
            lambda c, t, f, v: tickets.answer_directly(
                c, t, reply_text=f.get("reply_text", ""), expected_version=v
            ),
        ),
        ActionForm(
            "sign_for",
            "签收",
            (A.SIGN_FOR,),
            lambda c, t, f, v: tickets.sign_for(c, t, expected_version=v),
        ),
        ActionForm("request_return", "退单申请", (A.REQUEST_RETURN,), _request_return),
        ActionForm(
            "decide_return",
            "退单审核",
            (A.APPROVE_RETURN, A.REJECT_RETURN),
            _decider(tickets.decide_return),
        ),
        ActionForm(
            "record_progress",
            "办理进展",
            (A.RECORD_PROGRESS,),
            lambda c, t, f, v: tickets.record_progress(
                c, t, note=f.get("note", ""), expected_version=v
            ),
        ),
        ActionForm("request_extension", "延期申请", (A.REQUEST_EXTENSION,), _request_extension),
        ActionForm(
            "decide_extension",
            "延期审核",
            (A.APPROVE_EXTENSION, A.REJECT_EXTENSION),
            _decide_extension,
        ),
        ActionForm(
            "request_suspension",
            "挂起申请",
            (A.REQUEST_SUSPENSION,),
            lambda c, t, f, v: tickets.request_suspension(
                c, t, reason=f.get("reason", ""), expected_version=v
            ),
        ),
        ActionForm(
            "decide_suspension",
            "挂起审核",
            (A.APPROVE_SUSPENSION, A.REJECT_SUSPENSION),
            _decider(tickets.decide_suspension),
        ),
        ActionForm(
            "resume",
            "恢复办理",
            (A.RESUME,),
            lambda c, t, f, v: tickets.resume(c, t, note=_text(f, "note"), expected_version=v),
        ),
        ActionForm("reply", "答复", (A.REPLY,), _reply),
        ActionForm(
            "review_reply",
            "答复审核",
            (A.APPROVE_REPLY, A.REJECT_REPLY),
            _decider(tickets.review_reply),
        ),
        ActionForm(
            "follow_up",
            "回访",
            (A.FOLLOW_UP,),
            lambda c, t, f, v: tickets.follow_up(
                c, t, rating=f.get("rating", ""), note=_text(f, "note"), expected_version=v
            ),
        ),
        ActionForm(
            "close",
            "办结",
            (A.CLOSE,),
            lambda c, t, f, v: tickets.close(c, t, note=_text(f, "note"), expected_version=v),
        ),
        ActionForm(
            "reopen",
            "重办",
            (A.REOPEN,),
            lambda c, t, f, v: tickets.reopen(c, t, reason=f.get("reason", ""), expected_version=v),
        ),
        ActionForm(
            "chase",
            "催办",
            (A.CHASE,),
            lambda c, t, f, v: tickets.chase(c, t, note=_text(f, "note"), expected_version=v),
        ),
        ActionForm(
            "supervise",
            "督办",
            (A.SUPERVISE,),
            lambda c, t, f, v: tickets.supervise(c, t, note=f.get("note", ""), expected_version=v),
        ),
        ActionForm("merge", "合并重复工单", (A.MERGE,), _merge),
        ActionForm("reclassify", "调整分类", (A.RECLASSIFY,), _reclassify),
        ActionForm(
            "archive",
            "归档",
            (A.ARCHIVE,),
            lambda c, t, f, v: tickets.archive(c, t, expected_version=v),
        ),
    )
}


def available_forms(ctx: Context, ticket: Ticket) -> list[ActionForm]:
    """The forms this person can use on this ticket now: the lifecycle's table for the role and
    state, and for agency staff only on tickets their agency leads."""
    role = ctx.actor.role
    if role is Role.AGENCY_STAFF and ticket.lead_agency_id != ctx.actor.agency_id:
        return []
    allowed = set(allowed_actions(ticket.state, role))
    return [form for form in FORMS.values() if allowed.intersection(form.actions)]
