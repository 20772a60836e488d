"""Tickets walked through the services and the sweep on the official Chinese calendar.

National Day 2026 (with Mid-Autumn Festival and the make-up Saturday 10 October), Spring
Festival 2026 (with the make-up Saturday 28 February), and the year boundary into 2027 where
the official data ends; with an extension, a suspension and reclassifications on the way.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import CHINA_TZ
from hotline.domain.errors import ActionNotAllowed, ValidationError
from hotline.domain.lifecycle import Action, TicketState
from hotline.jobs.sweep import tick
from hotline.models import Ticket, TicketAlert, TicketEvent
from hotline.services import tickets as svc

CN = WorkingCalendar.chinese()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def alerts(db, ticket_id: int) -> list[tuple[str, datetime]]:
    rows = db.execute(
        sa.select(TicketAlert.kind, TicketAlert.recorded_at)
        .where(TicketAlert.ticket_id == ticket_id)
        .order_by(TicketAlert.id)
    )
    return [(kind, recorded.astimezone(CHINA_TZ)) for kind, recorded in rows]


def test_national_day_with_an_extension_and_a_suspension(city, clock, db) -> None:
    clock.set(local(2026, 9, 24, 10))  # Thursday; Friday 25 September is Mid-Autumn Festival
    ticket = city.dispatched()
    assert ticket.deadline_policy == "general"
    assert ticket.sign_for_due_at == local(2026, 9, 28, 23, 59, 59)
    assert ticket.reply_due_at == local(2026, 10, 9, 23, 59, 59)  # 28, 29, 30 Sep, 8, 9 Oct

    clock.set(local(2026, 9, 28, 9))
    svc.sign_for(city.ctx(city.housing_staff), ticket.id)
    clock.set(local(2026, 9, 28, 10))
    svc.request_extension(
        city.ctx(city.housing_staff), ticket.id, working_days=2, reason="需协调燃气公司"
    )
    ticket = svc.decide_extension(city.ctx(city.supervisor), ticket.id, approve=True)
    assert ticket.reply_due_at == local(2026, 10, 12, 23, 59, 59)  # 10 Oct is a 调休 Saturday

    clock.set(local(2026, 9, 29, 10))
    svc.request_suspension(city.ctx(city.housing_staff), ticket.id, reason="等待鉴定结果")
    ticket = svc.decide_suspension(city.ctx(city.supervisor), ticket.id, approve=True)
    assert ticket.next_due_at is None and ticket.next_alert_at is None  # the clock is paused
    db.commit()
    assert tick(db, local(2026, 10, 13, 12), CN).looked_at == 0  # paused: no overdue

    clock.set(local(2026, 10, 9, 10))
    ticket = svc.resume(city.ctx(city.housing_staff), ticket.id)
    # Paused on 29 Sep with five working days left (30 Sep, 8, 9, 10, 12 Oct): they come back
    # from 9 Oct: 10, 12, 13, 14, 15 Oct.
    assert ticket.reply_due_at == local(2026, 10, 15, 23, 59, 59)

    # Replaying the stored facts gives the same deadline the steps produced one by one.
    clock.set(local(2026, 10, 9, 11))
    same = svc.reclassify(
        city.ctx(city.supervisor), ticket.id, deadline_policy="general", reason="核对时限"
    )
    assert same.reply_due_at == local(2026, 10, 15, 23, 59, 59)
    assert same.sign_for_due_at == local(2026, 9, 28, 23, 59, 59)
    db.commit()

    tick(db, local(2026, 10, 15, 12), CN)  # 80 % of 24 Sep 10:00 .. 15 Oct 23:59 is used
    tick(db, local(2026, 10, 16, 0, 5), CN)
    tick(db, local(2026, 10, 16, 9, 1), CN)  # D+1, office hours
    assert [kind for kind, _ in alerts(db, ticket.id)] == ["warning", "overdue", "chase"]
    assert alerts(db, ticket.id)[2][1] == local(2026, 10, 16, 9, 1)


def test_spring_festival_chase_falls_on_the_make_up_saturday(city, clock, db) -> None:
    clock.set(local(2026, 2, 13, 10))  # Friday before the Spring Festival holiday
    ticket = city.dispatched()
    assert ticket.sign_for_due_at == local(2026, 2, 14, 23, 59, 59)  # Saturday 调休
    assert ticket.reply_due_at == local(2026, 2, 27, 23, 59, 59)
    clock.set(local(2026, 2, 14, 9))
    svc.sign_for(city.ctx(city.housing_staff), ticket.id)
    db.commit()

    assert tick(db, local(2026, 2, 20, 12), CN).alerts == {}  # holiday: nothing is due
    assert tick(db, local(2026, 2, 25, 12), CN).alerts == {"warning": 1}
    assert tick(db, local(2026, 2, 28, 0, 1), CN).alerts == {"overdue": 1}
    assert tick(db, local(2026, 2, 28, 9, 0, 30), CN).alerts == {"chase": 1}  # Saturday 调休
    chased = db.scalars(
        sa.select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.action == Action.CHASE
        )
    ).one()
    assert chased.occurred_at == local(2026, 2, 28, 9, 0, 30)


def test_year_boundary_into_2027_and_recalculation_from_the_original_start(city, clock, db) -> None:
    clock.set(local(2026, 12, 30, 9))  # Wednesday; 2027 has no official data yet
    ticket = city.dispatched()
    assert ticket.reply_due_at == local(2027, 1, 6, 23, 59, 59)  # 31 Dec, 1, 4, 5, 6 Jan

    # Two hours later it turns out to be urgent: the urgent clocks run from the original
    # dispatch, so sign-for is already overdue and the reply is due the same day.
    clock.set(local(2026, 12, 30, 11))
    ticket = svc.reclassify(
        city.ctx(city.supervisor), ticket.id, priority="urgent", reason="有老人被困"
    )
    assert ticket.deadline_policy == "urgent"
    assert ticket.sign_for_due_at == local(2026, 12, 30, 9, 30)
    assert ticket.reply_due_at == local(2026, 12, 30, 23, 59, 59)
    assert ticket.next_due_at == ticket.sign_for_due_at

    # Then it is a complaint after all: fifteen working days from 30 December.
    ticket = svc.reclassify(
        city.ctx(city.supervisor),
        ticket.id,
        priority="normal",
        category_level1="城乡建设",
        deadline_policy="complaint",
        reason="经核实为投诉",
    )
    assert ticket.reply_due_at == local(2027, 1, 20, 23, 59, 59)
    event = svc.history(city.ctx(city.supervisor), ticket.id)[-1]
    assert event.action is Action.RECLASSIFY and event.to_state is TicketState.DISPATCHED
    assert event.payload["before"]["deadline_policy"] == "urgent"
    assert event.payload["category_level1"] == "城乡建设"
    assert event.payload["reason"] == "经核实为投诉"


def test_the_routing_rules_name_the_policy_at_dispatch(city, db) -> None:
    ticket = city.new_ticket()
    ticket = svc.dispatch(
        city.ctx(city.taker), ticket.id, lead_agency="housing", deadline_policy="utility"
    )
    assert ticket.deadline_policy == "utility"
    assert ticket.sign_for_due_at == ticket.dispatched_at + (
        local(2026, 1, 1, 2) - local(2026, 1, 1)
    )


def test_bad_deadline_input_changes_nothing(city, db) -> None:
    ticket = city.new_ticket()
    with pytest.raises(ValidationError, match="未知的时限规则"):
        svc.dispatch(city.ctx(city.taker), ticket.id, lead_agency="housing", deadline_policy="x")
    assert db.get(Ticket, ticket.id).state is TicketState.RECEIVED
    ticket = city.signed()
    version = ticket.version
    with pytest.raises(ValidationError, match="至少修改"):
        svc.reclassify(city.ctx(city.supervisor), ticket.id, reason="无")
    with pytest.raises(ValidationError, match="未知的时限规则"):
        svc.reclassify(city.ctx(city.supervisor), ticket.id, deadline_policy="y", reason="r")
    with pytest.raises(ActionNotAllowed):
        svc.resume(city.ctx(city.housing_staff), ticket.id)  # not suspended
    with pytest.raises(ValidationError, match="1 到 10"):
        svc.request_extension(
            city.ctx(city.housing_staff), ticket.id, working_days=11, reason="太忙"
        )
    city.later(days=30)
    with pytest.raises(ActionNotAllowed, match="已超过办理时限"):
        svc.request_extension(
            city.ctx(city.housing_staff), ticket.id, working_days=2, reason="太忙"
        )
    assert db.get(Ticket, ticket.id).version == version


def test_each_event_names_the_agency_it_concerns(city, db) -> None:
    ticket = city.signed()
    svc.request_return(
        city.ctx(city.housing_staff),
        ticket.id,
        reason_code="not_our_function",
        reason="不属于住建职能",
        suggested_agency="urban",
    )
    svc.decide_return(city.ctx(city.supervisor), ticket.id, approve=True)
    svc.dispatch(city.ctx(city.taker), ticket.id, lead_agency="urban")
    rows = db.execute(
        sa.select(TicketEvent.action, TicketEvent.agency_id)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.seq)
    ).all()
    assert rows == [
        (Action.CREATE, None),
        (Action.DISPATCH, city.housing.id),
        (Action.SIGN_FOR, city.housing.id),
        (Action.REQUEST_RETURN, city.housing.id),
        (Action.APPROVE_RETURN, city.housing.id),  # credited to the agency that returned it
        (Action.DISPATCH, city.urban.id),
    ]
