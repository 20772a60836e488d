"""Two sessions change one ticket at once: one wins, the other gets a conflict, nothing is lost.

These tests commit for real, so each gets a database of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.clock import FixedClock
from hotline.domain.errors import ConflictError, ValidationError
from hotline.domain.lifecycle import Action, TicketState
from hotline.models import Ticket, TicketEvent
from hotline.services import tickets as svc
from hotline.services.context import Actor, Context
from tests.factories import make_city

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("fresh_backend", ["sqlite", "postgresql"], indirect=True)
def test_concurrent_updates_one_wins_other_conflicts(fresh_backend) -> None:
    with Session(fresh_backend.engine) as setup:
        city = make_city(setup, FixedClock(NOW))
        ticket_id = city.dispatched().id
        staff = Actor.of(city.housing_staff)
        boss = Actor.of(city.supervisor)
        setup.commit()

    first = Session(fresh_backend.engine, expire_on_commit=False)
    second = Session(fresh_backend.engine, expire_on_commit=False)
    try:
        # Both read version 2 before either writes (held in variables: the identity map
        # only keeps weak references, and a reloaded object would not be stale).
        seen_first = first.get(Ticket, ticket_id)
        seen_second = second.get(Ticket, ticket_id)
        assert seen_first.version == seen_second.version == 2

        svc.sign_for(Context(db=first, actor=staff, now=NOW), ticket_id)
        first.commit()

        with pytest.raises(ConflictError):
            svc.chase(Context(db=second, actor=boss, now=NOW), ticket_id, note="快签收")
        second.rollback()
    finally:
        first.close()
        second.close()

    with Session(fresh_backend.engine) as check:
        ticket = check.get(Ticket, ticket_id)
        assert ticket.state is TicketState.SIGNED and ticket.version == 3
        log = check.scalars(
            sa.select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.seq)
        ).all()
        assert [(e.seq, e.action) for e in log] == [
            (1, Action.CREATE),
            (2, Action.DISPATCH),
            (3, Action.SIGN_FOR),
        ]
        # The loser retries on fresh data and succeeds: nothing was lost, only delayed.
        svc.chase(
            Context(db=check, actor=boss, now=NOW), ticket_id, note="快办理", expected_version=3
        )
        check.commit()
        assert check.get(Ticket, ticket_id).version == 4


@pytest.mark.parametrize("fresh_backend", ["postgresql"], indirect=True)
def test_writer_blocked_on_the_row_lock_gets_a_conflict_after_the_winner_commits(
    fresh_backend,
) -> None:
    """The overlapping case: B's UPDATE waits on A's row lock, then finds the version moved."""
    import threading

    with Session(fresh_backend.engine) as setup:
        city = make_city(setup, FixedClock(NOW))
        ticket_id = city.dispatched().id
        staff, boss = Actor.of(city.housing_staff), Actor.of(city.supervisor)
        setup.commit()

    winner = Session(fresh_backend.engine)
    loser = Session(fresh_backend.engine)
    stale = loser.get(Ticket, ticket_id)
    assert stale.version == 2
    svc.sign_for(Context(db=winner, actor=staff, now=NOW), ticket_id)  # flushed, row locked
    outcome: list[BaseException | None] = []

    def contend() -> None:
        try:
            svc.chase(Context(db=loser, actor=boss, now=NOW), ticket_id, note="催办")
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=contend)
    thread.start()
    # Wait until the loser is really blocked on the lock (no sleeps: ask the server).
    with fresh_backend.engine.connect() as monitor:
        for _ in range(10_000):
            waiting = monitor.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar()
            if waiting or not thread.is_alive():
                break
    winner.commit()
    thread.join(timeout=30)
    loser.rollback()
    winner.close()
    loser.close()
    assert len(outcome) == 1 and isinstance(outcome[0], ConflictError)
    with Session(fresh_backend.engine) as check:
        assert check.get(Ticket, ticket_id).version == 3
        seqs = check.scalars(
            sa.select(TicketEvent.seq).where(TicketEvent.ticket_id == ticket_id)
        ).all()
        assert sorted(seqs) == [1, 2, 3]


@pytest.mark.parametrize("fresh_backend", ["sqlite", "postgresql"], indirect=True)
def test_crossed_merges_leave_one_ticket_open(fresh_backend) -> None:
    """A merges 1 into 2 while B merges 2 into 1: exactly one merge may happen."""
    with Session(fresh_backend.engine) as setup:
        city = make_city(setup, FixedClock(NOW))
        one, two = city.dispatched().id, city.dispatched().id
        taker = Actor.of(city.taker)
        setup.commit()

    first = Session(fresh_backend.engine, expire_on_commit=False)
    second = Session(fresh_backend.engine, expire_on_commit=False)
    try:
        held = [second.get(Ticket, one), second.get(Ticket, two)]  # B has read both, open
        assert all(t.is_open for t in held)
        svc.merge(Context(db=first, actor=taker, now=NOW), one, into_ticket_id=two)
        first.commit()
        with pytest.raises((ConflictError, ValidationError)):
            svc.merge(Context(db=second, actor=taker, now=NOW), two, into_ticket_id=one)
        second.rollback()
    finally:
        first.close()
        second.close()

    with Session(fresh_backend.engine) as check:
        states = {t.id: t.state for t in check.scalars(sa.select(Ticket))}
        assert states == {one: TicketState.MERGED, two: TicketState.DISPATCHED}
