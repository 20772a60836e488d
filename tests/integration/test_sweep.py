"""The deadline sweep on a real database with a fixed clock: each alert exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import CHINA_TZ
from hotline.domain.lifecycle import Action
from hotline.jobs.sweep import tick
from hotline.models import Ticket, TicketAlert, TicketEvent
from hotline.services import tickets as svc

CN = WorkingCalendar.chinese()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def alerts(db, ticket_id: int) -> list[str]:
    return list(
        db.scalars(
            sa.select(TicketAlert.kind)
            .where(TicketAlert.ticket_id == ticket_id)
            .order_by(TicketAlert.id)
        )
    )


def system_actions(db, ticket_id: int) -> list[Action]:
    return list(
        db.scalars(
            sa.select(TicketEvent.action)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.actor_id.is_(None))
            .order_by(TicketEvent.seq)
        )
    )


def test_a_ticket_walks_through_warning_overdue_chase_and_criticism(city, db) -> None:
    ticket = city.dispatched()  # Tuesday 10 March 2026, 09:30; sign-for due Wed 23:59:59
    db.commit()  # the sweep works in its own transactions
    assert ticket.next_alert_at is not None and ticket.next_alert_at < ticket.sign_for_due_at

    assert tick(db, local(2026, 3, 10, 12), CN).looked_at == 0
    assert tick(db, local(2026, 3, 11, 22), CN).alerts == {"warning": 1}
    assert tick(db, local(2026, 3, 11, 22, 30), CN).looked_at == 0  # nothing twice
    assert tick(db, local(2026, 3, 12, 0, 1), CN).alerts == {"overdue": 1}
    assert tick(db, local(2026, 3, 12, 9, 5), CN).alerts == {"chase": 1}
    # More than five working days overdue after the chase: Thu 19 March, 09:00.
    assert tick(db, local(2026, 3, 18, 9, 5), CN).looked_at == 0
    assert tick(db, local(2026, 3, 19, 9, 5), CN).alerts == {"criticism": 1}
    assert tick(db, local(2026, 4, 30, 9), CN).looked_at == 0

    assert alerts(db, ticket.id) == ["warning", "overdue", "chase", "criticism"]
    assert system_actions(db, ticket.id) == [Action.CHASE, Action.CRITICIZE]
    assert db.get(Ticket, ticket.id).next_alert_at is None


def test_a_sweep_that_was_down_catches_up_in_one_tick(city, db) -> None:
    ticket = city.dispatched()
    db.commit()
    report = tick(db, local(2026, 3, 13, 10), CN)
    assert report.alerts == {"warning": 1, "overdue": 1, "chase": 1}
    assert alerts(db, ticket.id) == ["warning", "overdue", "chase"]


def test_signing_starts_a_new_clock_with_its_own_alerts(city, db) -> None:
    ticket = city.dispatched()
    db.commit()
    tick(db, local(2026, 3, 11, 22), CN)  # sign-for warning
    city.clock.set(local(2026, 3, 11, 23))
    signed = svc.sign_for(city.ctx(city.housing_staff), ticket.id)
    db.commit()
    assert signed.next_due_at == signed.reply_due_at
    assert signed.next_alert_at > local(2026, 3, 11, 23)  # the reply clock's warning, later
    assert tick(db, local(2026, 3, 12, 0, 1), CN).looked_at == 0  # signed in time: no overdue


def test_two_schedulers_record_each_alert_once(city, db, session_factory) -> None:
    ticket = city.dispatched()
    db.commit()
    other = session_factory()
    first = tick(db, local(2026, 3, 13, 10), CN)
    second = tick(other, local(2026, 3, 13, 10), CN)
    other.close()
    assert first.claimed == 1 and second.claimed == 0
    assert alerts(db, ticket.id) == ["warning", "overdue", "chase"]
    assert system_actions(db, ticket.id) == [Action.CHASE]


def test_finished_tickets_leave_the_sweep(city, db) -> None:
    ticket = city.replied()
    db.commit()
    assert ticket.next_alert_at is None
    assert tick(db, local(2026, 6, 1), CN).looked_at == 0


def test_a_batch_claim_wins_nothing_when_another_scheduler_moved_first(city, db) -> None:
    from hotline.jobs.sweep import _Claim, _claim_all

    ticket = city.dispatched()
    db.commit()
    seen = ticket.next_alert_at
    stale = _Claim(ticket.id, seen - timedelta(seconds=1), ticket.next_due_at, (), None, None)
    assert _claim_all(db, [stale]) == set()
    fresh = _Claim(ticket.id, seen, ticket.next_due_at, (), None, None)
    assert _claim_all(db, [fresh]) == {ticket.id}
    assert _claim_all(db, [fresh]) == set()  # the first claim moved next_alert_at on
    db.rollback()


def test_one_broken_ticket_does_not_hold_back_the_others(city, db, monkeypatch) -> None:
    first, second = city.dispatched(), city.dispatched()
    db.commit()
    real_chase = svc.chase

    def chase(ctx, ticket_id, **kwargs):
        if ticket_id == first.id:
            raise RuntimeError("corrupt row")
        return real_chase(ctx, ticket_id, **kwargs)

    monkeypatch.setattr(svc, "chase", chase)
    report = tick(db, local(2026, 3, 13, 10), CN)  # both owe a chase
    assert report.failed == 1 and system_actions(db, second.id) == [Action.CHASE]
    assert system_actions(db, first.id) == []
    assert db.get(Ticket, first.id).next_alert_at is not None  # retried next tick
