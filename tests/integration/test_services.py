"""Ticket services against a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from hotline.domain.clock import CHINA_TZ
from hotline.domain.errors import (
    ActionNotAllowed,
    ConflictError,
    RoleNotAllowed,
    UnknownAgency,
    UnknownTicket,
    ValidationError,
)
from hotline.domain.lifecycle import Action, TicketState
from hotline.domain.vocabulary import Role, Satisfaction
from hotline.models import Ticket, TicketEvent
from hotline.services import inbox, queries
from hotline.services import tickets as svc
from hotline.services.context import SYSTEM
from hotline.services.intake import CallInput, open_ticket, register_call


def events_of(db, ticket_id: int) -> list[TicketEvent]:
    return list(
        db.scalars(
            sa.select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.seq)
        )
    )


def snapshot(db, ticket_id: int) -> tuple:
    """Everything a refused action must leave untouched."""
    db.expire_all()
    t = db.get(Ticket, ticket_id)
    return (t.state, t.version, t.lead_agency_id, t.reply_due_at, len(events_of(db, ticket_id)))


def test_full_closed_loop_records_every_step(city, db) -> None:
    ticket = city.dispatched()
    assert ticket.state is TicketState.DISPATCHED
    assert ticket.sign_for_due_at is not None and ticket.next_due_at == ticket.sign_for_due_at
    city.later(hours=1)
    svc.sign_for(city.ctx(city.housing_staff), ticket.id)
    city.later(hours=2)
    svc.record_progress(city.ctx(city.housing_staff), ticket.id, note="已派人现场查看")
    city.later(hours=20)
    svc.reply(
        city.ctx(city.housing_staff),
        ticket.id,
        contacted_caller=True,
        resolved=True,
        reply_text="井盖已更换。",
    )
    svc.review_reply(city.ctx(city.supervisor), ticket.id, approve=True)
    city.later(days=1)
    svc.follow_up(city.ctx(city.taker), ticket.id, rating="满意")
    svc.close(city.ctx(city.supervisor), ticket.id)
    svc.archive(city.ctx(city.supervisor), ticket.id)

    db.expire_all()
    ticket = db.get(Ticket, ticket.id)
    assert ticket.state is TicketState.ARCHIVED and not ticket.is_open
    assert ticket.next_due_at is None
    assert ticket.satisfaction is Satisfaction.SATISFIED
    log = events_of(db, ticket.id)
    assert [e.action for e in log] == [
        Action.CREATE,
        Action.DISPATCH,
        Action.SIGN_FOR,
        Action.RECORD_PROGRESS,
        Action.REPLY,
        Action.APPROVE_REPLY,
        Action.FOLLOW_UP,
        Action.CLOSE,
        Action.ARCHIVE,
    ]
    assert [e.seq for e in log] == list(range(1, 10)) and ticket.version == 9
    assert all(a.to_state == b.from_state for a, b in itertools.pairwise(log))
    assert log[2].actor_id == city.housing_staff.id and log[2].actor_role is Role.AGENCY_STAFF
    assert log[4].payload == {
        "contacted_caller": True,
        "resolved": True,
        "reply_text": "井盖已更换。",
        "due_at": ticket.reply_due_at.isoformat(),
        "dispatched_at": ticket.dispatched_at.isoformat(),  # for the KPI handling time
    }
    assert log[6].payload["score"] == 4
    assert log[2].occurred_at == log[1].occurred_at + timedelta(hours=1)


def test_stale_version_is_a_conflict_and_changes_nothing(city, db) -> None:
    ticket = city.dispatched()
    seen = ticket.version
    svc.chase(city.ctx(city.supervisor), ticket.id, note="请尽快签收")
    before = snapshot(db, ticket.id)
    with pytest.raises(ConflictError) as info:
        svc.sign_for(city.ctx(city.housing_staff), ticket.id, expected_version=seen)
    assert info.value.http_status == 409 and "刷新" in info.value.message
    assert snapshot(db, ticket.id) == before


def test_wrong_role_is_refused_and_changes_nothing(city, db) -> None:
    ticket = city.dispatched()
    before = snapshot(db, ticket.id)
    with pytest.raises(RoleNotAllowed):
        svc.sign_for(city.ctx(city.taker), ticket.id)
    assert snapshot(db, ticket.id) == before


def test_action_not_allowed_in_state(city, db) -> None:
    ticket = city.dispatched()
    with pytest.raises(ActionNotAllowed, match="待签收"):
        svc.reply(
            city.ctx(city.housing_staff),
            ticket.id,
            contacted_caller=True,
            resolved=True,
            reply_text="已处理",
        )


def test_other_agency_cannot_see_or_touch_the_ticket(city, db) -> None:
    ticket = city.dispatched()
    with pytest.raises(UnknownTicket):
        svc.sign_for(city.ctx(city.urban_staff), ticket.id)
    with pytest.raises(UnknownTicket):
        svc.get_ticket(city.ctx(city.urban_staff), ticket.id)
    everything = inbox.InboxFilter(status=inbox.Status.ANY)
    assert inbox.list_inbox(city.ctx(city.urban_staff), everything).total == 0
    assert inbox.list_inbox(city.ctx(city.housing_staff), everything).total == 1


def test_assisting_agency_sees_but_cannot_act(city, db) -> None:
    ticket = city.new_ticket()
    svc.dispatch(city.ctx(city.taker), ticket.id, lead_agency="housing", assisting=["urban"])
    assert svc.get_ticket(city.ctx(city.urban_staff), ticket.id).id == ticket.id
    with pytest.raises(ActionNotAllowed, match="主办"):
        svc.sign_for(city.ctx(city.urban_staff), ticket.id)


def test_unknown_ticket_and_agency(city, db) -> None:
    with pytest.raises(UnknownTicket):
        svc.sign_for(city.ctx(city.housing_staff), 999_999)
    ticket = city.new_ticket()
    with pytest.raises(UnknownAgency) as info:
        svc.dispatch(city.ctx(city.taker), ticket.id, lead_agency="ministry-of-magic")
    assert info.value.details["field"] == "lead_agency"
    assert snapshot(db, ticket.id)[0] is TicketState.RECEIVED


def test_same_agency_cannot_be_lead_and_assisting(city, db) -> None:
    ticket = city.new_ticket()
    with pytest.raises(ValidationError, match="同一单位"):
        svc.dispatch(city.ctx(city.taker), ticket.id, lead_agency="housing", assisting=["housing"])


def test_return_approved_goes_back_for_redispatch(city, db) -> None:
    ticket = city.dispatched()
    svc.request_return(
        city.ctx(city.housing_staff),
        ticket.id,
        reason_code="属地不符",
        reason="该路段属东湖街道管辖",
        suggested_agency="street",
    )
    svc.decide_return(city.ctx(city.supervisor), ticket.id, approve=True)
    db.expire_all()
    ticket = db.get(Ticket, ticket.id)
    assert ticket.state is TicketState.RETURNED and ticket.lead_agency_id is None
    assert ticket.return_count == 1 and ticket.next_due_at is None
    assert queries.agency_inbox(db, city.housing.id) == []
    svc.dispatch(city.ctx(city.supervisor), ticket.id, lead_agency="street")
    assert [t.id for t in queries.agency_inbox(db, city.street.id)] == [ticket.id]
    request = events_of(db, ticket.id)[2]
    assert request.payload["reason_code"] == "wrong_area"
    assert request.payload["suggested_agency_id"] == city.street.id


def test_rejected_return_leaves_the_agency_holding_it(city, db) -> None:
    ticket = city.dispatched()
    svc.request_return(
        city.ctx(city.housing_staff),
        ticket.id,
        reason_code="not_our_function",
        reason="不归我们管",
        suggested_agency="urban",
    )
    with pytest.raises(ValidationError, match="note"):
        svc.decide_return(city.ctx(city.supervisor), ticket.id, approve=False)
    svc.decide_return(city.ctx(city.supervisor), ticket.id, approve=False, note="井盖属住建管理")
    db.expire_all()
    ticket = db.get(Ticket, ticket.id)
    assert ticket.state is TicketState.SIGNED and ticket.signed_at is not None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reason_code": "bored", "reason": "x", "suggested_agency": "urban"}, "reason_code"),
        ({"reason_code": "wrong_area", "reason": " ", "suggested_agency": "urban"}, "reason"),
        (
            {"reason_code": "wrong_area", "reason": "x", "suggested_agency": "housing"},
            "suggested_agency",
        ),
    ],
)
def test_bad_return_requests(city, db, fields, field) -> None:
    ticket = city.dispatched()
    with pytest.raises(ValidationError) as info:
        svc.request_return(city.ctx(city.housing_staff), ticket.id, **fields)
    assert info.value.field == field


def test_return_window_is_two_working_days(city, db) -> None:
    ticket = city.dispatched()  # Tuesday 09:30 Beijing
    city.later(days=2, hours=1)  # Thursday 10:30: past the window
    with pytest.raises(ActionNotAllowed, match="退单时限"):
        svc.request_return(
            city.ctx(city.housing_staff),
            ticket.id,
            reason_code="wrong_area",
            reason="x",
            suggested_agency="urban",
        )


def test_extension_moves_the_deadline_and_is_capped(city, db) -> None:
    ticket = city.signed()
    due = ticket.reply_due_at
    with pytest.raises(ValidationError, match="1 到 10"):
        svc.request_extension(city.ctx(city.housing_staff), ticket.id, working_days=11, reason="x")
    svc.request_extension(city.ctx(city.housing_staff), ticket.id, working_days=3, reason="等检测")
    with pytest.raises(ValidationError, match="1 到 3"):
        svc.decide_extension(city.ctx(city.supervisor), ticket.id, approve=True, working_days=4)
    svc.decide_extension(city.ctx(city.supervisor), ticket.id, approve=True, working_days=2)
    db.expire_all()
    ticket = db.get(Ticket, ticket.id)
    assert ticket.extension_working_days == 2
    assert ticket.reply_due_at - due == timedelta(days=2)  # Tue -> Thu, no weekend between
    assert events_of(db, ticket.id)[-1].payload["working_days"] == 2
    svc.request_extension(
        city.ctx(city.housing_staff), ticket.id, working_days=8, reason="仍需协调"
    )
    svc.decide_extension(city.ctx(city.supervisor), ticket.id, approve=True)
    with pytest.raises(ValidationError, match="还可申请 0"):
        svc.request_extension(city.ctx(city.housing_staff), ticket.id, working_days=1, reason="x")


def test_no_extension_after_the_deadline(city, db) -> None:
    ticket = city.signed()
    city.clock.set(ticket.reply_due_at + timedelta(seconds=1))
    with pytest.raises(ActionNotAllowed, match="超过办理时限"):
        svc.request_extension(city.ctx(city.housing_staff), ticket.id, working_days=1, reason="x")


def test_suspension_gives_paused_time_back(city, db) -> None:
    ticket = city.signed()
    due = ticket.reply_due_at
    svc.request_suspension(city.ctx(city.housing_staff), ticket.id, reason="等待法院判决")
    svc.decide_suspension(city.ctx(city.supervisor), ticket.id, approve=True)
    assert db.get(Ticket, ticket.id).next_due_at is None
    city.later(days=3, hours=4)  # suspended Tuesday, resumed Friday afternoon
    svc.resume(city.ctx(city.housing_staff), ticket.id)
    db.expire_all()
    ticket = db.get(Ticket, ticket.id)
    # Due Tuesday 17th; Wed 11th to Tue 17th (5 working days) had not started when it was
    # suspended, so they count again from Monday 16th: due Friday 20th, end of day.
    assert due.astimezone(CHINA_TZ).date() == date(2026, 3, 17)
    assert ticket.reply_due_at == datetime(2026, 3, 20, 23, 59, 59, tzinfo=CHINA_TZ)
    assert ticket.next_due_at == ticket.reply_due_at
    assert events_of(db, ticket.id)[-1].payload["paused_seconds"] == (3 * 24 + 4) * 3600


def test_unsatisfied_follow_up_reopens_with_fresh_clocks(city, db) -> None:
    ticket = city.replied()
    svc.review_reply(city.ctx(city.supervisor), ticket.id, approve=True)
    city.later(days=1)
    svc.follow_up(city.ctx(city.taker), ticket.id, rating="非常不满意", note="井盖还是松的")
    with pytest.raises(ValidationError, match="reason"):
        svc.reopen(city.ctx(city.supervisor), ticket.id, reason="")
    svc.reopen(city.ctx(city.supervisor), ticket.id, reason="来电人反映问题未解决")
    db.expire_all()
    ticket = db.get(Ticket, ticket.id)
    assert ticket.state is TicketState.DISPATCHED and ticket.reopen_count == 1
    assert ticket.satisfaction is None and ticket.dispatched_at == city.clock.now()
    assert [t.id for t in queries.agency_inbox(db, city.housing.id)] == [ticket.id]


def test_reply_review_can_send_it_back(city, db) -> None:
    ticket = city.replied()
    svc.review_reply(city.ctx(city.supervisor), ticket.id, approve=False, note="未说明处理结果")
    db.expire_all()
    ticket = db.get(Ticket, ticket.id)
    assert ticket.state is TicketState.IN_PROGRESS and ticket.replied_at is None


def test_reply_fields_are_validated(city, db) -> None:
    ticket = city.signed()
    with pytest.raises(ValidationError, match="contacted_caller"):
        svc.reply(
            city.ctx(city.housing_staff),
            ticket.id,
            contacted_caller="yes",
            resolved=True,
            reply_text="好",
        )
    with pytest.raises(ValidationError, match="reply_text"):
        svc.reply(
            city.ctx(city.housing_staff),
            ticket.id,
            contacted_caller=True,
            resolved=True,
            reply_text="x" * 5001,
        )
    with pytest.raises(ValidationError, match="rating"):
        svc.follow_up(city.ctx(city.taker), ticket.id, rating="6")


def test_merge_duplicates(city, db) -> None:
    original = city.dispatched()
    duplicate = city.new_ticket(caller_number="139****0000")
    with pytest.raises(ValidationError, match="自身"):
        svc.merge(city.ctx(city.taker), duplicate.id, into_ticket_id=duplicate.id)
    svc.merge(city.ctx(city.taker), duplicate.id, into_ticket_id=original.id, note="重复来电")
    db.expire_all()
    merged = db.get(Ticket, duplicate.id)
    assert merged.state is TicketState.MERGED and merged.merged_into_id == original.id
    assert not merged.is_open
    third = city.new_ticket()
    with pytest.raises(ValidationError, match="已合并"):
        svc.merge(city.ctx(city.taker), third.id, into_ticket_id=duplicate.id)


def test_recorded_actions_keep_state_but_are_logged(city, db) -> None:
    ticket = city.signed()
    svc.chase(city.ctx(SYSTEM), ticket.id)
    svc.supervise(city.ctx(city.supervisor), ticket.id, note="列入督办")
    with pytest.raises(ValidationError):
        svc.criticize(city.ctx(city.supervisor), ticket.id, note="")
    log = events_of(db, ticket.id)
    assert [(e.action, e.from_state, e.to_state) for e in log[-2:]] == [
        (Action.CHASE, TicketState.SIGNED, TicketState.SIGNED),
        (Action.SUPERVISE, TicketState.SIGNED, TicketState.SIGNED),
    ]
    assert log[-2].actor_id is None and log[-2].actor_role is Role.SYSTEM


def test_direct_answer_closes_at_intake(city, db) -> None:
    ticket = city.new_ticket(nature="咨询")
    svc.answer_directly(
        city.ctx(city.taker), ticket.id, reply_text="护照办理请携带身份证到出入境窗口。"
    )
    db.expire_all()
    ticket = db.get(Ticket, ticket.id)
    assert ticket.state is TicketState.CLOSED and ticket.closed_at is not None
    with pytest.raises(ActionNotAllowed, match="直办"):
        svc.reopen(city.ctx(city.supervisor), ticket.id, reason="再办")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"transcript": ""}, "transcript"),
        ({"transcript": "报" * 20_001}, "transcript"),
        ({"transcript": "有人\x00打架"}, "transcript"),
        ({"hotline": "119"}, "hotline"),
        ({"nature": "gossip"}, "nature"),
        ({"urgency": "极急"}, "urgency"),
        ({"caller_number": "not a number"}, "caller_number"),
        ({"caller_name": "x" * 51}, "caller_name"),
        ({"is_confidential": "yes"}, "is_confidential"),
    ],
)
def test_bad_intake_is_refused_and_stores_nothing(city, db, fields, field) -> None:
    data = {"hotline": "12345", "transcript": "路灯不亮"} | fields
    before = db.scalar(sa.select(sa.func.count()).select_from(Ticket))
    with pytest.raises(ValidationError) as info:
        ctx = city.ctx(city.taker)
        open_ticket(ctx, register_call(ctx, CallInput(**data)))
    assert info.value.field == field
    assert db.scalar(sa.select(sa.func.count()).select_from(Ticket)) == before


def test_calls_from_the_future_are_refused(city, db) -> None:
    with pytest.raises(ValidationError, match="来电时间"):
        register_call(
            city.ctx(city.taker),
            CallInput(
                hotline="110", transcript="x", received_at=city.clock.now() + timedelta(hours=1)
            ),
        )


def test_agency_staff_cannot_take_calls(city, db) -> None:
    ctx = city.ctx(city.housing_staff)
    with pytest.raises(RoleNotAllowed):
        open_ticket(ctx, register_call(ctx, CallInput(hotline="12345", transcript="路灯不亮")))


def test_inbox_orders_by_priority_then_deadline(city, db) -> None:
    normal = city.dispatched()
    city.later(minutes=5)
    critical = city.dispatched(urgency="特急")
    city.later(minutes=5)
    urgent = city.dispatched(urgency="紧急")
    inbox = queries.agency_inbox(db, city.housing.id)
    assert [t.id for t in inbox] == [critical.id, urgent.id, normal.id]
    due = queries.due_before(db, city.clock.now() + timedelta(hours=1))
    assert [t.id for t in due] == [critical.id, urgent.id]
    assert due[0].state is TicketState.DISPATCHED and due[0].lead_agency_id == city.housing.id


def test_due_sweep_pages_by_deadline_then_id(city, db) -> None:
    made = []
    for _ in range(5):
        made.append(city.dispatched(urgency="紧急").id)
        if len(made) % 2:
            city.later(minutes=1)  # pairs share a deadline: the id breaks the tie
    horizon = city.clock.now() + timedelta(hours=2)
    first = queries.due_before(db, horizon, limit=2)
    rest = queries.due_before(db, horizon, limit=10, after=(first[-1].next_due_at, first[-1].id))
    assert [t.id for t in first + rest] == [t.id for t in queries.due_before(db, horizon)]
    assert sorted(t.id for t in first + rest) == sorted(made)


def test_inbox_puts_paused_clocks_last_on_every_database(city, db) -> None:
    paused = city.signed()
    svc.request_suspension(city.ctx(city.housing_staff), paused.id, reason="等待判决")
    svc.decide_suspension(city.ctx(city.supervisor), paused.id, approve=True)
    city.later(minutes=1)
    running = city.dispatched()
    assert [t.id for t in queries.agency_inbox(db, city.housing.id)] == [running.id, paused.id]


def test_state_counts_cover_every_state(city, db) -> None:
    city.dispatched()
    city.new_ticket()
    counts = queries.state_counts(city.ctx(city.supervisor))
    assert set(counts) == set(TicketState)
    assert counts[TicketState.DISPATCHED] == 1 and counts[TicketState.RECEIVED] == 1


def test_events_are_append_only_in_orm_and_database(city, db, connection) -> None:
    from hotline.models import AppendOnlyViolation

    ticket = city.dispatched()
    db.commit()  # only releases the test's savepoint: the rows stay for the statements below
    event = events_of(db, ticket.id)[0]
    event.payload = {"tampered": True}
    with pytest.raises(AppendOnlyViolation):
        db.flush()
    db.rollback()
    for statement in (
        "UPDATE ticket_events SET seq = 99",
        "DELETE FROM ticket_events",
    ):
        with (
            pytest.raises(sa.exc.DatabaseError, match="append-only"),
            connection.begin_nested(),
        ):
            connection.exec_driver_sql(statement)


def test_database_keeps_is_open_true_to_state(city, db, connection) -> None:
    ticket = city.dispatched()
    db.commit()
    with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
        connection.execute(
            sa.text("UPDATE tickets SET is_open = :v WHERE id = :id"),
            {"v": False, "id": ticket.id},
        )


def test_confirmed_label_on_an_approved_return_feeds_the_classifier(city, db, tmp_path) -> None:
    from classifier.data import load_corpus
    from hotline.services.feedback import export_csv
    from hotline.services.tickets import ConfirmedLabel

    ticket = city.dispatched(transcript="小区门口的井盖不见了，晚上很危险")
    svc.request_return(
        city.ctx(city.housing_staff),
        ticket.id,
        reason_code="not_our_function",
        reason="井盖属城管维护",
        suggested_agency="urban",
    )
    with pytest.raises(ValidationError, match="警情须注明类型"):
        svc.decide_return(
            city.ctx(city.supervisor),
            ticket.id,
            approve=True,
            confirmed=ConfirmedLabel(police=True, level1="政法"),
        )
    svc.decide_return(
        city.ctx(city.supervisor),
        ticket.id,
        approve=True,
        confirmed=ConfirmedLabel(police=False, level1="城乡建设", level2="城市建设和市政管理"),
    )
    db.expire_all()
    assert db.get(Ticket, ticket.id).category_level1 == "城乡建设"
    path = tmp_path / "feedback.csv"
    assert export_csv(db, path) == 1
    (example,) = load_corpus(tmp_path)
    assert example.text == "小区门口的井盖不见了，晚上很危险"
    assert not example.police and example.level2 == "城市建设和市政管理"


def test_agency_email_is_checked(city) -> None:
    from hotline.services.directory import create_agency

    admin = city.ctx(city.admin)
    agency = create_agency(admin, code="water", name="水务集团", kind="utility", email=" w@x.cn ")
    assert agency.email == "w@x.cn"
    with pytest.raises(ValidationError, match="电子邮箱格式不正确"):
        create_agency(admin, code="gas", name="燃气公司", kind="utility", email="not-an-address")
