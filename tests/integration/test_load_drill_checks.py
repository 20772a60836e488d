"""The load drill's verdict compares the store with what clients were told: it must notice a
lost step, a step done twice, a ticket named wrongly and a call nobody was told about."""

from __future__ import annotations

from drills.load_checks import _calls, _steps
from hotline.domain.lifecycle import Action
from hotline.models import Call
from hotline.services import tickets as svc

PREFIX = "load-1x-1"


def _drill_ticket(city, n: int, *, signed: bool = False):
    ticket = city.signed() if signed else city.dispatched()
    city.db.get(Call, ticket.call_id).idempotency_key = f"api:1:{PREFIX}-0-{n}"
    city.db.flush()
    return ticket


def test_every_accepted_call_with_its_one_ticket_passes(city) -> None:
    a, b = _drill_ticket(city, 1), _drill_ticket(city, 2)
    city.dispatched()  # another ticket, not the drill's: not counted
    lines: list[str] = []
    assert _calls(city.db, PREFIX, {a.call_id: a.id, b.call_id: b.id}, 0, lines)
    assert "in the store: 2, accepted by the API: 2" in lines[0]


def test_a_stored_call_no_client_heard_of_needs_a_client_that_gave_up(city) -> None:
    a, b = _drill_ticket(city, 1), _drill_ticket(city, 2)
    assert not _calls(city.db, PREFIX, {a.call_id: a.id}, 0, [])
    assert _calls(city.db, PREFIX, {a.call_id: a.id}, 1, [])
    assert _calls(city.db, PREFIX, {a.call_id: a.id, b.call_id: b.id}, 0, [])


def test_an_answer_that_named_another_ticket_fails(city) -> None:
    a, b = _drill_ticket(city, 1), _drill_ticket(city, 2)
    assert not _calls(city.db, PREFIX, {a.call_id: b.id, b.call_id: b.id}, 0, [])


def test_confirmed_sign_fors_must_all_be_events(city) -> None:
    a, b = _drill_ticket(city, 1, signed=True), _drill_ticket(city, 2)
    lines: list[str] = []
    assert _steps(city.db, PREFIX, "sign_for", Action.SIGN_FOR, [a.id], 0, lines)
    assert "lost: 0, twice: 0" in lines[0]
    # The client was told b was signed for, but the store has no such event: lost.
    assert not _steps(city.db, PREFIX, "sign_for", Action.SIGN_FOR, [a.id, b.id], 0, [])
    # Told twice for one ticket.
    assert not _steps(city.db, PREFIX, "sign_for", Action.SIGN_FOR, [a.id, a.id], 0, [])


def test_an_unconfirmed_step_needs_an_unanswered_request(city) -> None:
    a = _drill_ticket(city, 1)
    svc.sign_for(city.ctx(city.housing_staff), a.id)
    city.db.flush()
    assert not _steps(city.db, PREFIX, "sign_for", Action.SIGN_FOR, [], 0, [])
    assert _steps(city.db, PREFIX, "sign_for", Action.SIGN_FOR, [], 1, [])


def test_a_call_queued_for_review_has_no_ticket_and_one_told_a_ticket_has_one(city) -> None:
    from hotline.services.intake import CallInput, register_call

    a = _drill_ticket(city, 1)
    ctx = city.ctx(city.taker)
    queued = register_call(ctx, CallInput(hotline="110", transcript="可能是警情，需三方通话确认"))
    queued.idempotency_key = f"api:1:{PREFIX}-0-2"
    city.db.flush()
    lines: list[str] = []
    # The API answered 202 (queued for review, no ticket): none in the store is right.
    assert _calls(city.db, PREFIX, {a.call_id: a.id, queued.id: None}, 0, lines)
    assert "wrong number of tickets (one; none if queued for review): 0" in lines[0]
    # Told a ticket that is not there: wrong.
    assert not _calls(city.db, PREFIX, {a.call_id: a.id, queued.id: 999}, 0, [])
    # Told queued, but a ticket exists: wrong too.
    assert not _calls(city.db, PREFIX, {a.call_id: None}, 0, [])
