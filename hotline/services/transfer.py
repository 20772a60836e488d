"""One-click transfer (一键转接): a call in, its ticket out, exactly once.

``accept_call`` records a call with the classifier's reading and the rules' suggestion. A call
the rules send somewhere is transferred at once; one they send to human review waits on the
desk's queue until a call taker decides. ``transfer_call`` makes the call's one ticket:
dispatched to the destination's agency, with the other agencies the rule names as co-handlers.

Exactly once, however often a button is pressed or a request retried:
- a call's idempotency key is unique, and a replay must carry the same request (its hash);
- a transfer is unique per call, so a second transfer of the same call finds the first.
Both are claimed inside a savepoint, so the loser of a race reads the winner's row instead of
failing the whole request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from classifier.data import POLICE_TYPES
from hotline.domain.errors import (
    AlreadyTransferred,
    IdempotencyConflict,
    UnknownAgency,
    ValidationError,
)
from hotline.domain.text import clean_text
from hotline.domain.vocabulary import CallStatus, Direction, Hotline, Urgency
from hotline.models import Call, Transfer
from hotline.rules.schema import EMERGENCY_LINES, RuleSet
from hotline.services import tickets
from hotline.services.context import Context
from hotline.services.directory import find_agency
from hotline.services.intake import CallInput, open_ticket, register_call
from hotline.services.routing import Routed

MAX_KEY_CHARS = 128
MAX_REASON_CHARS = 500
POLICE_LINES = ("110", *EMERGENCY_LINES)
REVIEW = "review"


@dataclass(frozen=True)
class Choice:
    """What the call taker decided. No destination means "as suggested"; a different one is an
    override and needs a reason. A corrected reading, when given, is the learning loop's label."""

    destination: str | None = None
    reason: str | None = None
    category_level1: str | None = None
    category_level2: str | None = None
    police_type: str | None = None


@dataclass(frozen=True)
class Outcome:
    call: Call
    transfer: Transfer | None
    replayed: bool  # True when this request repeated one already done: nothing new was made


def request_hash(payload: Mapping[str, Any]) -> str:
    """A fingerprint of what a request asked for, independent of key order and whitespace."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    # surrogatepass: the request is hashed before its text is checked, and a lone surrogate
    # (valid JSON, "\ud800") must reach the check and its 422, not fail here with a 500.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def clean_key(value: object, field: str = "idempotency_key") -> str:
    key = value.strip() if isinstance(value, str) else ""
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable() or not key.isascii():
        raise ValidationError(field, f"应为 1–{MAX_KEY_CHARS} 个可打印 ASCII 字符")
    return key


def submit(
    ctx: Context,
    data: CallInput,
    routed: Routed,
    rules: RuleSet,
    *,
    key: str,
    fingerprint: str,
    choice: Choice | None = None,
    api_client_id: int | None = None,
    external_id: str | None = None,
) -> Outcome:
    """Record the call and, unless it waits for review, transfer it: one transaction, once.

    ``key`` must already be namespaced by its sender (one system's key never meets another's).
    """
    existing = _call_by_key(ctx, key)
    if existing is not None:
        return _replay(ctx, existing, fingerprint)
    try:
        # One savepoint for the whole request: a refused choice leaves no call behind either.
        with ctx.db.begin_nested():
            call = accept_call(
                ctx,
                data,
                routed,
                key=key,
                fingerprint=fingerprint,
                api_client_id=api_client_id,
                external_id=external_id,
            )
            transfer = None
            if choice is not None or routed.decision.destination != REVIEW:
                transfer = transfer_call(
                    ctx, call.id, rules, choice or Choice(), api_client_id=api_client_id
                )
    except sa.exc.IntegrityError:
        winner = _call_by_key(ctx, key)
        if winner is None:
            raise
        return _replay(ctx, winner, fingerprint)
    return Outcome(call, transfer, replayed=False)


def accept_call(
    ctx: Context,
    data: CallInput,
    routed: Routed,
    *,
    key: str | None = None,
    fingerprint: str | None = None,
    api_client_id: int | None = None,
    external_id: str | None = None,
) -> Call:
    call = register_call(ctx, data, flush=False)
    call.status = CallStatus.QUEUED
    call.routing = routed.to_dict()
    call.idempotency_key = key
    call.request_hash = fingerprint
    call.api_client_id = api_client_id
    call.external_id = clean_text(
        external_id, "external_id", max_chars=64, required=False, single_line=True
    )
    ctx.db.flush()
    return call


def transfer_call(
    ctx: Context,
    call_id: int,
    rules: RuleSet,
    choice: Choice = Choice(),
    *,
    api_client_id: int | None = None,
) -> Transfer:
    """The call's one ticket, dispatched where the call taker (or the suggestion) says."""
    call = ctx.db.get(Call, call_id) if isinstance(call_id, int) else None
    if call is None:
        raise ValidationError("call_id", f"来电 {call_id} 不存在")
    suggestion: dict[str, Any] = dict(call.routing or {})
    suggested = suggestion.get("destination")
    target = _destination(ctx, choice.destination or suggested, rules)
    earlier = transfer_of(ctx.db, call.id)
    if earlier is not None:
        return _same_transfer(earlier, target)
    overridden = target != suggested and suggested not in (None, REVIEW)
    reason = clean_text(choice.reason, "reason", max_chars=MAX_REASON_CHARS, required=overridden)
    label = _corrected_label(choice, suggestion, target, overridden)
    try:
        # A savepoint: a race lost on the unique call_id undoes only this, not the request.
        with ctx.db.begin_nested():
            return _make_transfer(
                ctx, call, rules, suggestion, target, overridden, reason, label, api_client_id
            )
    except sa.exc.IntegrityError:
        winner = transfer_of(ctx.db, call.id)
        if winner is None:
            raise
        return _same_transfer(winner, target)


def _make_transfer(
    ctx: Context,
    call: Call,
    rules: RuleSet,
    suggestion: dict[str, Any],
    target: str,
    overridden: bool,
    reason: str | None,
    label: dict[str, Any] | None,
    api_client_id: int | None,
) -> Transfer:
    as_suggested = target == suggestion.get("destination")
    lead = _agency_code(target, rules)
    helpers: list[str] = []
    readers: list[str] = []
    if as_suggested:
        # Co-handlers come with the rule that chose the destination, not with an override.
        helpers = [c for c in (_agency_code(t, rules) for t in suggestion.get("also", [])) if c]
        helpers += list(suggestion.get("assisting", []))
        readers = list(suggestion.get("informed", []))
    helpers = [c for c in dict.fromkeys(helpers) if c != lead]
    readers = [c for c in dict.fromkeys(readers) if c != lead and c not in helpers]
    category = label or suggestion
    priority = (as_suggested and suggestion.get("priority")) or call.urgency.value
    ticket = open_ticket(
        ctx,
        call,
        direction=_direction(call.hotline, target),
        category_level1=category.get("category_level1"),
        category_level2=category.get("category_level2"),
        priority=Urgency.parse(priority, "priority"),
    )
    if lead is not None:
        tickets.dispatch(
            ctx,
            ticket.id,
            lead_agency=lead,
            assisting=helpers,
            informed=readers,
            deadline_policy=suggestion.get("deadline_policy") if as_suggested else None,
            note=f"转接：{reason}" if overridden else None,
        )
    transfer = Transfer(
        call_id=call.id,
        ticket_id=ticket.id,
        destination=target,
        suggested=suggestion,
        suggested_destination=suggestion.get("destination"),
        overridden=overridden,
        override_reason=reason,
        corrected_label=label,
        actor_id=ctx.actor.user_id,
        api_client_id=api_client_id,
        created_at=ctx.now,
    )
    call.status = CallStatus.TRANSFERRED
    ctx.db.add(transfer)
    ctx.db.flush()
    return transfer


def transfer_of(db: Session, call_id: int) -> Transfer | None:
    return db.scalar(sa.select(Transfer).where(Transfer.call_id == call_id))


def _call_by_key(ctx: Context, key: str) -> Call | None:
    return ctx.db.scalar(sa.select(Call).where(Call.idempotency_key == key))


def _replay(ctx: Context, call: Call, fingerprint: str) -> Outcome:
    if call.request_hash != fingerprint:
        raise IdempotencyConflict("该幂等键已用于另一个不同的请求，未做任何处理", call_id=call.id)
    return Outcome(call, transfer_of(ctx.db, call.id), replayed=True)


def _same_transfer(earlier: Transfer, target: str) -> Transfer:
    if earlier.destination != target:
        raise AlreadyTransferred(
            f"该来电已转至 {earlier.destination}，不能再转至 {target}",
            ticket_id=earlier.ticket_id,
            destination=earlier.destination,
        )
    return earlier


def _destination(ctx: Context, raw: object, rules: RuleSet) -> str:
    text = raw.strip() if isinstance(raw, str) else ""
    if text == REVIEW or not text:
        raise ValidationError("destination", "请选择去向：110、119、120、122、12345 或 12345:单位")
    if text in POLICE_LINES or text == "12345":
        return text
    code = text.removeprefix("12345:")
    if code == text or not code:
        raise ValidationError("destination", f"无效的去向 {text!r}")
    try:
        return f"12345:{find_agency(ctx, code, 'destination').code}"
    except UnknownAgency as exc:
        raise ValidationError("destination", f"未知的承办单位 {code!r}") from exc


def _agency_code(target: str, rules: RuleSet) -> str | None:
    if target in rules.lines:
        return rules.lines[target]
    return target.removeprefix("12345:") if target.startswith("12345:") else None


def _direction(hotline: Hotline, target: str) -> Direction:
    police_side = target in POLICE_LINES
    if hotline is Hotline.SERVICE_12345 and police_side:
        return Direction.TO_110
    if hotline is Hotline.POLICE_110 and not police_side:
        return Direction.TO_12345
    return Direction.INTERNAL


def _corrected_label(
    choice: Choice, suggestion: dict[str, Any], target: str, overridden: bool
) -> dict[str, Any] | None:
    """What the call taker's decision says about the call, for the classifier to learn from.

    Only a decision that disagrees with the suggestion (or names a category) teaches anything.
    Sending it to 110 says "police"; to a 12345 agency, "not police"; 119/120/122 say neither.
    """
    level1 = clean_text(
        choice.category_level1, "category_level1", max_chars=32, required=False, single_line=True
    )
    level2 = clean_text(
        choice.category_level2, "category_level2", max_chars=64, required=False, single_line=True
    )
    police_type = choice.police_type or None
    if police_type is not None and police_type not in POLICE_TYPES:
        raise ValidationError("police_type", f"可选：{'、'.join(POLICE_TYPES)}")
    if not overridden and level1 is None and police_type is None:
        return None
    police = True if target == "110" else False if target.startswith("12345") else None
    if police:
        police_type = police_type or suggestion.get("police_type")
    return {
        "police": police,
        "police_type": police_type if police else None,
        "category_level1": level1 or suggestion.get("category_level1"),
        "category_level2": level2 if level1 else suggestion.get("category_level2"),
    }
