"""One-click transfer: one ticket per call however often it is asked, overrides need a reason
and feed the learning loop, and transfers go both ways."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from hotline.domain.errors import AlreadyTransferred, IdempotencyConflict, ValidationError
from hotline.domain.lifecycle import Action, TicketState
from hotline.domain.vocabulary import AgencyRole, CallStatus, Direction
from hotline.models import Call, Ticket, TicketEvent, Transfer
from hotline.services import feedback
from hotline.services.intake import CallInput
from hotline.services.transfer import Choice, request_hash, submit, transfer_call
from tests.support.routing import ROUTER, RULES


def push(city, text: str, key: str = "k-1", hotline: str = "110", choice: Choice | None = None):
    ctx = city.ctx(city.taker)
    data = CallInput(hotline=hotline, transcript=text, caller_number="13800001111")
    routed = ROUTER.route(text, ctx.now, hotline=hotline)
    body = {"hotline": hotline, "transcript": text, "choice": repr(choice)}
    return submit(ctx, data, routed, RULES, key=key, fingerprint=request_hash(body), choice=choice)


def count(city, model) -> int:
    return city.db.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_clear_call_becomes_one_dispatched_ticket_with_its_events(desk) -> None:
    outcome = push(desk, "小区井盖松动了")
    ticket = desk.db.get(Ticket, outcome.transfer.ticket_id)
    assert (ticket.state, ticket.lead_agency.code) == (TicketState.DISPATCHED, "housing")
    assert ticket.direction is Direction.TO_12345 and ticket.deadline_policy == "urgent"
    assert ticket.category_level1 == "城乡建设"
    assert [e.action for e in ticket.events] == [Action.CREATE, Action.DISPATCH]
    assert outcome.call.status is CallStatus.TRANSFERRED and not outcome.replayed
    assert outcome.transfer.suggested["rules"] == ["MANHOLE"]
    assert not outcome.transfer.overridden


def test_a_replayed_key_creates_nothing_and_a_changed_payload_is_refused(desk) -> None:
    first = push(desk, "小区井盖松动了")
    again = push(desk, "小区井盖松动了")
    assert again.replayed and again.transfer.ticket_id == first.transfer.ticket_id
    with pytest.raises(IdempotencyConflict):
        push(desk, "小区井盖不见了")
    assert (count(desk, Call), count(desk, Ticket), count(desk, TicketEvent)) == (1, 1, 2)


def test_review_waits_on_the_queue_until_a_person_decides(desk) -> None:
    outcome = push(desk, "嗯，那个，我也说不清")
    assert outcome.transfer is None and outcome.call.status is CallStatus.QUEUED
    assert count(desk, Ticket) == 0
    ctx = desk.ctx(desk.taker)
    with pytest.raises(ValidationError, match="destination"):
        transfer_call(ctx, outcome.call.id, RULES)
    # Deciding a review call is the expected act, not an override: no reason needed.
    transfer = transfer_call(ctx, outcome.call.id, RULES, Choice(destination="12345:urban"))
    assert not transfer.overridden and transfer.ticket.lead_agency.code == "urban"
    assert outcome.call.status is CallStatus.TRANSFERRED


def test_an_override_needs_a_reason_and_teaches_the_classifier(desk) -> None:
    with pytest.raises(ValidationError, match="reason"):
        push(desk, "小区井盖松动了", choice=Choice(destination="110"))
    assert (count(desk, Call), count(desk, Ticket)) == (0, 0)
    choice = Choice(destination="110", reason="井盖被盗，涉嫌盗窃", police_type="刑事")
    outcome = push(desk, "小区井盖松动了", key="k-2", choice=choice)
    transfer = outcome.transfer
    assert transfer.overridden and transfer.suggested_destination == "12345:housing"
    ticket = transfer.ticket
    assert ticket.lead_agency.code == "police" and ticket.direction is Direction.INTERNAL
    dispatch = ticket.events[-1]
    assert dispatch.payload["note"] == "转接：井盖被盗，涉嫌盗窃"
    assert ticket.deadline_policy != "urgent"  # the rule's policy went with its destination
    [row] = [r for r in feedback.labelled_examples(desk.db) if r["id"].startswith("override")]
    assert (row["police"], row["police_type"], row["text"]) == ("1", "刑事", "小区井盖松动了")


def test_a_second_transfer_of_the_same_call_finds_the_first(desk) -> None:
    outcome = push(desk, "嗯，说不清")
    ctx = desk.ctx(desk.taker)
    first = transfer_call(ctx, outcome.call.id, RULES, Choice(destination="12345:urban"))
    again = transfer_call(ctx, outcome.call.id, RULES, Choice(destination="12345:urban"))
    assert again.id == first.id
    with pytest.raises(AlreadyTransferred):
        transfer_call(ctx, outcome.call.id, RULES, Choice(destination="110"))
    assert count(desk, Ticket) == 1 and count(desk, Transfer) == 1


def test_joint_handling_is_one_ticket_with_police_leading_and_12345_assisting(desk) -> None:
    ticket = push(desk, "几十个工人讨工资，在厂门口堵路").transfer.ticket
    assert ticket.lead_agency.code == "police"
    roles = {(a.agency.code, a.role) for a in ticket.agencies}
    assert roles == {("urban", AgencyRole.ASSISTING), ("street", AgencyRole.INFORMED)}


def test_emergency_goes_to_the_line_agency_with_police_assisting(desk) -> None:
    ticket = push(desk, "厨房着火了", hotline="12345").transfer.ticket
    assert ticket.lead_agency.code == "fire" and ticket.priority.value == "critical"
    assert ticket.direction is Direction.TO_110
    assert {a.agency.code for a in ticket.agencies} == {"police"}


def test_12345_pushes_police_matters_to_110_and_generic_12345_waits_for_dispatch(desk) -> None:
    police = push(desk, "楼下有人打架", hotline="12345").transfer.ticket
    assert (police.direction, police.lead_agency.code) == (Direction.TO_110, "police")
    generic = push(desk, "我想咨询一下社保", key="k-3").transfer.ticket
    assert generic.state is TicketState.RECEIVED and generic.lead_agency is None
    assert generic.direction is Direction.TO_12345


@pytest.mark.parametrize(
    ("destination", "field"),
    [("review", "destination"), ("12345:nowhere", "destination"), ("911", "destination")],
)
def test_bad_destinations_are_clear_errors(desk, destination: str, field: str) -> None:
    outcome = push(desk, "说不清")
    with pytest.raises(ValidationError) as info:
        transfer_call(desk.ctx(desk.taker), outcome.call.id, RULES, Choice(destination))
    assert info.value.field == field
    assert count(desk, Ticket) == 0


def test_markup_in_a_transcript_is_stored_as_text(desk) -> None:
    text = "<script>alert(1)</script>井盖坏了"
    outcome = push(desk, text)
    assert desk.db.get(Call, outcome.call.id).transcript == text


def test_the_stamp_of_the_call_is_the_clock(desk) -> None:
    outcome = push(desk, "井盖坏了")
    assert outcome.call.received_at == desk.clock.now()
    assert isinstance(outcome.transfer.created_at, datetime)
