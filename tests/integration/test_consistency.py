"""The store audit (`hotline check`): silent on a healthy store, and each kind of damage found."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from hotline.domain.lifecycle import TicketState
from hotline.domain.vocabulary import CallStatus
from hotline.models import Call, Ticket, TicketEvent
from hotline.services import tickets as svc
from hotline.services.consistency import check


@pytest.fixture
def store(city):
    """Tickets in several states, as the services leave them."""
    city.new_ticket()
    city.dispatched()
    city.replied()
    ticket = city.signed()
    svc.request_extension(city.ctx(city.housing_staff), ticket.id, working_days=2, reason="协调")
    city.db.flush()
    return city


def problems(db) -> dict[str, list[int]]:
    return {p.name: p.sample for p in check(db).problems}


def test_a_healthy_store_passes(store) -> None:
    report = check(store.db)
    assert report.ok, report.lines()
    assert report.counts["tickets"] == 4 and report.counts["calls"] == 4
    assert report.lines()[0].startswith("PASS")


def test_a_transferred_call_without_a_ticket(store) -> None:
    call = Call(**_call_fields(store), status=CallStatus.TRANSFERRED)
    store.db.add(call)
    store.db.flush()
    assert problems(store.db) == {"transferred_call_without_one_ticket": [call.id]}


def test_a_queued_call_with_a_ticket(store) -> None:
    ticket = store.db.scalars(sa.select(Ticket)).first()
    store.db.get(Call, ticket.call_id).status = CallStatus.QUEUED
    store.db.flush()
    assert problems(store.db) == {"queued_call_with_ticket": [ticket.call_id]}


def test_a_step_without_its_event(store) -> None:
    # Events are append-only (the database refuses deletes), so a gap means a version was
    # bumped without its event: a half-written step.
    ticket = store.db.scalars(sa.select(Ticket).where(Ticket.version > 2)).first()
    store.db.execute(
        sa.update(Ticket).where(Ticket.id == ticket.id).values(version=Ticket.version + 1)
    )
    assert problems(store.db) == {"event_log_gap": [ticket.id]}


def test_a_log_that_does_not_start_with_intake(store) -> None:
    # Events cannot be changed afterwards, so write a ticket whose log began elsewhere.
    call = Call(**_call_fields(store))
    store.db.add(call)
    store.db.flush()
    now = store.clock.now()
    ticket = Ticket(
        call_id=call.id,
        direction="internal",
        source_hotline="12345",
        summary="测试",
        priority_rank=2,
        state=TicketState.RECEIVED,
        is_open=True,
        created_at=now,
        updated_at=now,
        version=1,
    )
    store.db.add(ticket)
    store.db.flush()
    store.db.add(
        TicketEvent(
            ticket_id=ticket.id,
            seq=1,
            occurred_at=now,
            action="dispatch",
            to_state=TicketState.RECEIVED,
            actor_role="system",
            payload={},
        )
    )
    store.db.flush()
    assert problems(store.db) == {"first_event_not_create": [ticket.id]}


def test_a_state_the_log_does_not_explain(store) -> None:
    ticket = store.db.scalars(
        sa.select(Ticket).where(Ticket.state == TicketState.DISPATCHED)
    ).first()
    store.db.execute(
        sa.update(Ticket).where(Ticket.id == ticket.id).values(state=TicketState.SIGNED)
    )
    found = problems(store.db)
    assert found["state_differs_from_last_event"] == [ticket.id]
    # SIGNED runs the reply clock, DISPATCHED the sign-for clock: the stored deadline is stale.
    assert found["running_deadline_wrong"] == [ticket.id]


def test_an_agency_ticket_without_an_agency_is_stuck(store) -> None:
    ticket = store.db.scalars(
        sa.select(Ticket).where(Ticket.state == TicketState.DISPATCHED)
    ).first()
    store.db.execute(sa.update(Ticket).where(Ticket.id == ticket.id).values(lead_agency_id=None))
    assert problems(store.db) == {"agency_state_without_lead": [ticket.id]}


def test_the_command_exits_non_zero_on_damage(runner, store) -> None:
    store.db.commit()
    healthy = runner.invoke(args=["check", "--json"])
    assert healthy.exit_code == 0, healthy.output
    assert json.loads(healthy.output)["ok"] is True
    ticket = store.db.scalars(sa.select(Ticket)).first()
    store.db.execute(sa.update(Ticket).where(Ticket.id == ticket.id).values(version=99))
    store.db.commit()
    damaged = runner.invoke(args=["check"])
    assert damaged.exit_code == 1 and "FAIL" in damaged.output
    assert "event_log_gap" in damaged.output


def _call_fields(city) -> dict[str, object]:
    now = city.clock.now()
    return {
        "hotline": "12345",
        "channel": "phone",
        "transcript": "测试",
        "received_at": now,
        "nature": "help",
        "urgency": "normal",
        "created_at": now,
    }
