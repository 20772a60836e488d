"""Seed a demo city by driving the real services, so every demo event is one the app could make.

Content: the project's own fictional calls (calls.yaml, always available) and, where the
shared data folder exists on a development machine, real public citizen messages with their
official replies (read at seed time, never copied into the repository).
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from hotline.config import PROJECT_ROOT
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import Clock
from hotline.domain.lifecycle import TicketState
from hotline.domain.vocabulary import AgencyKind, Direction, Role, Satisfaction, Urgency
from hotline.models import Agency, Ticket, User
from hotline.services import tickets as svc
from hotline.services.context import Actor, Context
from hotline.services.directory import create_agency, create_user
from hotline.services.intake import CallInput, open_ticket, register_call

DEMO_PASSWORD = "hotline-demo"
CALLS_FILE = Path(__file__).with_name("calls.yaml")
DEFAULT_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data"

# (code, name, kind, parent code, district)
AGENCIES: list[tuple[str, str, AgencyKind, str | None, str | None]] = [
    ("hotline12345", "市12345政务服务便民热线中心", AgencyKind.HOTLINE_CENTER, None, None),
    ("police110", "市公安局110指挥中心", AgencyKind.POLICE, None, None),
    ("traffic-police", "市公安局交通警察支队", AgencyKind.POLICE, "police110", None),
    ("fire119", "市消防救援支队", AgencyKind.EMERGENCY, None, None),
    ("ems120", "市急救中心", AgencyKind.EMERGENCY, None, None),
    ("eco-env", "市生态环境局", AgencyKind.GOVERNMENT, None, None),
    ("housing", "市住房和城乡建设局", AgencyKind.GOVERNMENT, None, None),
    ("urban-mgmt", "市城市管理综合执法局", AgencyKind.GOVERNMENT, None, None),
    ("market", "市市场监督管理局", AgencyKind.GOVERNMENT, None, None),
    ("hrss", "市人力资源和社会保障局", AgencyKind.GOVERNMENT, None, None),
    ("transport", "市交通运输局", AgencyKind.GOVERNMENT, None, None),
    ("health", "市卫生健康委员会", AgencyKind.GOVERNMENT, None, None),
    ("education", "市教育局", AgencyKind.GOVERNMENT, None, None),
    ("civil-affairs", "市民政局", AgencyKind.GOVERNMENT, None, None),
    ("medical-insurance", "市医疗保障局", AgencyKind.GOVERNMENT, None, None),
    ("planning", "市自然资源和规划局", AgencyKind.GOVERNMENT, None, None),
    ("justice", "市司法局", AgencyKind.GOVERNMENT, None, None),
    ("water", "市供水集团", AgencyKind.UTILITY, None, None),
    ("power", "国网示范市供电公司", AgencyKind.UTILITY, None, None),
    ("gas", "市燃气集团", AgencyKind.UTILITY, None, None),
    ("chengdong-gov", "城东区人民政府", AgencyKind.DISTRICT, None, "城东区"),
    ("chengxi-gov", "城西区人民政府", AgencyKind.DISTRICT, None, "城西区"),
    ("donghu-street", "东湖街道办事处", AgencyKind.COMMUNITY, "chengdong-gov", "城东区"),
    ("xihe-street", "西河街道办事处", AgencyKind.COMMUNITY, "chengxi-gov", "城西区"),
]

# Keywords that send a real citizen message to a plausible lead agency and category.
_TOPICS: list[tuple[tuple[str, ...], str, str, str]] = [
    (("工资", "欠薪", "社保", "养老保险", "劳动"), "hrss", "劳动和社会保障", "劳动保障"),
    (("学校", "幼儿园", "学生", "教师", "招生"), "education", "教育文体", "教育"),
    (("医院", "医生", "诊所", "卫生"), "health", "卫生计生", "医疗卫生"),
    (("公交", "出租车", "驾校", "客运"), "transport", "交通运输", "交通管理"),
    (("污染", "排放", "噪音", "异味", "环保"), "eco-env", "环境保护", "环境污染"),
    (("商家", "消费", "食品", "预付卡", "超市"), "market", "商贸旅游", "市场监管"),
    (("物业", "电梯", "小区", "业主"), "housing", "城乡建设", "住房管理"),
    (("违建", "违章", "摊", "占道", "城管"), "urban-mgmt", "城乡建设", "城市建设和市政管理"),
    (("低保", "养老院", "老人", "残疾"), "civil-affairs", "民政", "社会救助"),
]

# How many of each state a demo of N tickets gets (weights); every state appears at least once.
STATE_WEIGHTS: dict[TicketState, int] = {
    TicketState.RECEIVED: 4,
    TicketState.DISPATCHED: 8,
    TicketState.RETURN_REQUESTED: 3,
    TicketState.RETURNED: 2,
    TicketState.SIGNED: 5,
    TicketState.IN_PROGRESS: 10,
    TicketState.EXTENSION_REQUESTED: 3,
    TicketState.SUSPENSION_REQUESTED: 2,
    TicketState.SUSPENDED: 2,
    TicketState.REPLIED: 5,
    TicketState.AWAITING_FOLLOW_UP: 5,
    TicketState.FOLLOWED_UP: 4,
    TicketState.CLOSED: 25,
    TicketState.ARCHIVED: 15,
    TicketState.MERGED: 2,
}


# How long ago (days) a ticket that ended in each state was received: long enough for its
# story to have happened, short enough that open tickets still sit near their deadlines.
STATE_AGE_DAYS: dict[TicketState, tuple[float, float]] = {
    TicketState.RECEIVED: (0.05, 0.5),
    TicketState.DISPATCHED: (0.1, 5),
    TicketState.RETURN_REQUESTED: (0.2, 1.5),
    TicketState.RETURNED: (0.3, 3),
    TicketState.SIGNED: (0.3, 8),
    # Some open tickets are late, so the red markers and the deadline sweep have work to show.
    TicketState.IN_PROGRESS: (1, 30),
    TicketState.EXTENSION_REQUESTED: (1, 20),
    TicketState.SUSPENSION_REQUESTED: (1, 10),
    TicketState.SUSPENDED: (2, 12),
    TicketState.REPLIED: (3, 10),
    TicketState.AWAITING_FOLLOW_UP: (3, 12),
    TicketState.FOLLOWED_UP: (4, 14),
    TicketState.CLOSED: (5, 40),
    TicketState.ARCHIVED: (10, 60),
    TicketState.MERGED: (1, 20),
}


class DemoAlreadySeeded(RuntimeError):
    pass


@dataclass
class DemoSummary:
    agencies: int = 0
    users: int = 0
    states: Counter[TicketState] = field(default_factory=Counter)
    real_messages: int = 0

    def describe(self) -> str:
        lines = [
            f"演示数据已生成：{self.agencies} 个单位，{self.users} 个用户，"
            f"{sum(self.states.values())} 张工单（其中 {self.real_messages} 张取材于公开留言数据）",
        ]
        lines += [f"  {state.label:<8} {self.states[state]}" for state in TicketState]
        return "\n".join(lines)


@dataclass(frozen=True)
class DemoCall:
    call: CallInput
    direction: Direction
    summary: str
    category: tuple[str | None, str | None]
    lead: str
    assisting: tuple[str, ...]
    reply: str
    real: bool = False


def is_seeded(db: Session) -> bool:
    return db.scalar(sa.select(sa.func.count()).select_from(Agency)) != 0


# The logins worth trying first: one per role, and agencies with many demo tickets.
SHOWCASE_USERS = (
    "supervisor",
    "calltaker",
    "calltaker110",
    "housing",
    "urban-mgmt",
    "police110",
    "admin",
)


def demo_logins(db: Session) -> list[tuple[str, str]]:
    users = {
        u.username: u for u in db.scalars(sa.select(User).where(User.username.in_(SHOWCASE_USERS)))
    }
    return [
        (name, f"{u.role.label}{'（' + u.agency.name + '）' if u.agency else ''}")
        for name in SHOWCASE_USERS
        if (u := users.get(name)) is not None
    ]


def load_authored_calls(path: Path | None = None) -> list[DemoCall]:
    records = yaml.safe_load((path or CALLS_FILE).read_text(encoding="utf-8"))
    return [
        DemoCall(
            call=CallInput(
                hotline=str(r["hotline"]),
                channel=r["channel"],
                nature=r["nature"],
                urgency=r["urgency"],
                transcript=r["transcript"],
                caller_name=r.get("caller_name") or None,
                location_text=r.get("location"),
                district=r.get("district"),
                is_confidential=bool(r.get("confidential", False)),
            ),
            direction=Direction(r["direction"]),
            summary=r["summary"],
            category=(r["category"][0], r["category"][1]),
            lead=r["lead"],
            assisting=tuple(r.get("assisting") or ()),
            reply=r["reply"],
        )
        for r in records
    ]


def load_real_messages(data_dir: Path, limit: int, rng: random.Random) -> list[DemoCall]:
    """Public citizen messages with official replies, when the shared data folder is present."""
    path = data_dir / "citizen_messages" / "messages_with_replies.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("body") and r.get("reply")]
    rng.shuffle(rows)
    calls: list[DemoCall] = []
    for row in rows:
        text = f"{row['subject'].strip()}。{row['body'].strip()}"
        reply = " ".join(row["reply"].split())
        if len(text) > 1_500 or len(reply) > 4_000:
            continue
        lead, level1, level2 = _topic(text)
        calls.append(
            DemoCall(
                call=CallInput(
                    hotline="12345",
                    channel="online",
                    nature="complaint",
                    transcript=" ".join(text.split()),
                ),
                direction=Direction.INTERNAL,
                summary=row["subject"].strip()[:60],
                category=(level1, level2),
                lead=lead,
                assisting=(),
                reply=reply,
                real=True,
            )
        )
        if len(calls) >= limit:
            break
    return calls


def _topic(text: str) -> tuple[str, str, str]:
    for words, lead, level1, level2 in _TOPICS:
        if any(w in text for w in words):
            return lead, level1, level2
    return "chengdong-gov", "城乡建设", "城市建设和市政管理"


def seed_demo_city(
    db: Session,
    *,
    clock: Clock,
    calendar: WorkingCalendar,
    data_dir: Path | None = None,
    tickets: int = 300,
    seed: int = 2026,
) -> DemoSummary:
    if is_seeded(db):
        raise DemoAlreadySeeded("数据库中已有数据，演示数据只写入空数据库（可换用新的数据库文件）")
    rng = random.Random(seed)
    now = clock.now()
    summary = DemoSummary()
    admin_ctx = Context(db=db, actor=Actor(role=Role.ADMIN), now=now - timedelta(days=60))

    agencies: dict[str, Agency] = {}
    for code, name, kind, parent, district in AGENCIES:
        agencies[code] = create_agency(
            admin_ctx,
            code=code,
            name=name,
            kind=kind,
            parent=agencies.get(parent or ""),
            district=district,
            contact_name="值班室",
            contact_phone=f"0731-{88000000 + len(agencies)}",
        )
    summary.agencies = len(agencies)

    def user(username: str, name: str, role: Role, agency: str | None = None) -> User:
        return create_user(
            admin_ctx,
            username=username,
            display_name=name,
            role=role,
            password=DEMO_PASSWORD,
            agency=agencies[agency] if agency else None,
        )

    people = {
        "admin": user("admin", "系统管理员", Role.ADMIN),
        "supervisor": user("supervisor", "赵班长", Role.SUPERVISOR, "hotline12345"),
        "calltaker": user("calltaker", "钱话务员", Role.CALL_TAKER, "hotline12345"),
        "calltaker110": user("calltaker110", "孙接警员", Role.CALL_TAKER, "police110"),
    }
    staff = {
        code: user(code, f"{agency.name}承办人", Role.AGENCY_STAFF, code)
        for code, agency in agencies.items()
        if agency.kind is not AgencyKind.HOTLINE_CENTER
    }
    summary.users = len(people) + len(staff)

    pool = load_authored_calls()
    folder = data_dir if data_dir is not None else DEFAULT_DATA_DIR
    real = load_real_messages(folder, max(0, tickets - len(pool)), rng) if folder.exists() else []
    calls = pool + real
    rng.shuffle(calls)

    plan = _plan_states(tickets, rng)
    open_ids: list[int] = []
    for index, target in enumerate(plan):
        demo = calls[index % len(calls)]
        low, high = STATE_AGE_DAYS[target]
        received = now - timedelta(minutes=rng.randint(int(low * 1440), int(high * 1440)))
        story = _Story(db, calendar, rng, received, now, people, staff)
        ticket = story.play(demo, target, open_ids)
        if ticket.is_open:
            open_ids.append(ticket.id)
        summary.states[ticket.state] += 1
        summary.real_messages += demo.real
    return summary


def _plan_states(total: int, rng: random.Random) -> list[TicketState]:
    states = list(STATE_WEIGHTS)
    plan = states[:]  # every state at least once
    weights = [STATE_WEIGHTS[s] for s in states]
    plan += rng.choices(states, weights=weights, k=max(0, total - len(plan)))
    # Merged tickets need an open ticket to merge into, so they come last.
    plan.sort(key=lambda s: s is TicketState.MERGED)
    return plan


class _Story:
    """Plays one ticket's life forward through the services, on a clock that only moves forward."""

    def __init__(
        self,
        db: Session,
        calendar: WorkingCalendar,
        rng: random.Random,
        start: datetime,
        limit: datetime,
        people: dict[str, User],
        staff: dict[str, User],
    ) -> None:
        self.db, self.calendar, self.rng = db, calendar, rng
        self.at, self.limit = start, limit
        self.people, self.staff = people, staff
        self.lead_code = ""
        # Urgent tickets run on clocks of hours, not days: their stories move ten times faster.
        self.pace = 1.0

    def ctx(self, who: User, *, minutes: tuple[int, int] = (5, 240)) -> Context:
        # Steps share the time left before "now" so a long story still ends in the past.
        step = timedelta(minutes=self.rng.randint(*minutes) * self.pace)
        self.at = min(self.at + step, self.limit - timedelta(minutes=1))
        return Context(db=self.db, actor=Actor.of(who), now=self.at, calendar=self.calendar)

    def play(self, demo: DemoCall, target: TicketState, open_ids: list[int]) -> Ticket:
        taker = self.people["calltaker110" if demo.call.hotline == "110" else "calltaker"]
        intake = Context(db=self.db, actor=Actor.of(taker), now=self.at, calendar=self.calendar)
        call = register_call(intake, _with_time(demo.call, self.at))
        ticket = open_ticket(
            intake,
            call,
            direction=demo.direction,
            summary=demo.summary,
            category_level1=demo.category[0],
            category_level2=demo.category[1],
        )
        self.lead_code = demo.lead
        self.pace = 1.0 if Urgency.parse(demo.call.urgency, "urgency") is Urgency.NORMAL else 0.1
        tid = ticket.id
        for step in self._steps(target, demo, open_ids):
            step(tid)
        return self.db.get(Ticket, tid)  # type: ignore[return-value]

    def _extend(
        self, who: User, ticket_id: int, working_days: int, reason: str, approver: User | None
    ) -> None:
        # An extension can only be asked before the deadline; when the story's clock is already
        # past it (it depends on today's date and the holidays around it), the ticket simply
        # runs late, which the demo needs too.
        ctx = self.ctx(who, minutes=(30, 120))
        due = self.db.get(Ticket, ticket_id).reply_due_at  # type: ignore[union-attr]
        if due is not None and ctx.now > due:
            return
        svc.request_extension(ctx, ticket_id, working_days=working_days, reason=reason)
        if approver is not None:
            svc.decide_extension(self.ctx(approver), ticket_id, approve=True, note="同意")

    # Each step is a small function of the ticket id; _steps picks the path to the target.
    def _steps(
        self, target: TicketState, demo: DemoCall, open_ids: list[int]
    ) -> Iterator[Callable[[int], object]]:
        S = TicketState
        sup, taker = self.people["supervisor"], self.people["calltaker"]
        rng = self.rng

        def agency() -> User:
            return self.staff[self.lead_code]

        if target is S.RECEIVED:
            return
        if target is S.MERGED:
            if open_ids:
                yield lambda t: svc.merge(
                    self.ctx(taker),
                    t,
                    into_ticket_id=rng.choice(open_ids),
                    note="同一事项重复来电，合并处理",
                )
            return
        if target is S.CLOSED and rng.random() < 0.15:
            yield lambda t: svc.answer_directly(
                self.ctx(taker, minutes=(3, 20)), t, reply_text=demo.reply
            )
            return
        yield lambda t: svc.dispatch(
            self.ctx(taker, minutes=(2, 30)), t, lead_agency=demo.lead, assisting=demo.assisting
        )
        if target in (S.RETURN_REQUESTED, S.RETURNED):
            other = "chengxi-gov" if demo.lead != "chengxi-gov" else "chengdong-gov"
            yield lambda t: svc.request_return(
                self.ctx(agency(), minutes=(30, 300)),
                t,
                reason_code="not_our_function",
                reason="该事项不属于我单位职责范围，建议转属地政府处理",
                suggested_agency=other,
            )
            if target is S.RETURNED:
                yield lambda t: svc.decide_return(self.ctx(sup), t, approve=True, note="同意退回")
            return
        if target is S.DISPATCHED:
            if rng.random() < 0.3:
                yield lambda t: svc.chase(
                    self.ctx(sup, minutes=(600, 1500)), t, note="请尽快签收办理"
                )
            return
        yield lambda t: svc.sign_for(self.ctx(agency(), minutes=(10, 600)), t)
        if target is S.SIGNED:
            return
        yield lambda t: svc.record_progress(
            self.ctx(agency()), t, note="已安排工作人员现场核查，正在协调处理"
        )
        if target is S.IN_PROGRESS:
            if rng.random() < 0.2:
                yield lambda t: svc.supervise(self.ctx(sup), t, note="群众反映强烈，请加快办理")
            return
        if target is S.EXTENSION_REQUESTED:
            days = rng.randint(2, 7)
            yield lambda t: self._extend(
                agency(), t, days, "需协调多个部门联合处置，申请延期", approver=None
            )
            return
        if target in (S.SUSPENSION_REQUESTED, S.SUSPENDED):
            yield lambda t: svc.request_suspension(
                self.ctx(agency(), minutes=(30, 120)), t, reason="涉及诉讼，需待法院判决后继续办理"
            )
            if target is S.SUSPENDED:
                yield lambda t: svc.decide_suspension(
                    self.ctx(sup), t, approve=True, note="同意挂起"
                )
            return
        if rng.random() < 0.25:
            yield lambda t: self._extend(agency(), t, 3, "需等待检测结果", approver=sup)
        yield lambda t: svc.reply(
            self.ctx(agency(), minutes=(60, 2000)),
            t,
            contacted_caller=rng.random() < 0.9,
            resolved=rng.random() < 0.8,
            reply_text=demo.reply,
        )
        if target is S.REPLIED:
            return
        yield lambda t: svc.review_reply(self.ctx(sup), t, approve=True, note="答复规范")
        if target is S.AWAITING_FOLLOW_UP:
            return
        if target in (S.CLOSED, S.ARCHIVED) and rng.random() < 0.15:
            # Caller unreachable: closed without a follow-up rating.
            yield lambda t: svc.close(
                self.ctx(sup, minutes=(600, 1500)), t, note="三次回访未接通，按规定办结"
            )
        else:
            rating = rng.choices(list(Satisfaction), weights=[40, 35, 12, 8, 5])[0]
            yield lambda t: svc.follow_up(
                self.ctx(taker, minutes=(600, 1500)), t, rating=rating, note="已电话回访来电人"
            )
            if target is S.FOLLOWED_UP:
                return
            yield lambda t: svc.close(self.ctx(sup), t)
        if target is S.ARCHIVED:
            yield lambda t: svc.archive(self.ctx(sup), t)


def _with_time(call: CallInput, at: datetime) -> CallInput:
    return replace(call, received_at=at)
