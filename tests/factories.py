"""A small city for tests: a hotline centre, three agencies and one user per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from hotline.domain.clock import FixedClock
from hotline.domain.vocabulary import AgencyKind, Role
from hotline.models import Agency, Ticket, User
from hotline.services import tickets as svc
from hotline.services.context import SYSTEM, Actor, Context
from hotline.services.directory import create_agency, create_user
from hotline.services.intake import CallInput, open_ticket, register_call

PASSWORD = "correct horse battery"


@dataclass
class City:
    db: Session
    clock: FixedClock
    center: Agency
    housing: Agency
    urban: Agency
    street: Agency
    taker: User
    supervisor: User
    housing_staff: User
    urban_staff: User
    admin: User

    def ctx(self, who: User | Actor | None = None) -> Context:
        actor = SYSTEM if who is None else who if isinstance(who, Actor) else Actor.of(who)
        return Context(db=self.db, actor=actor, now=self.clock.now())

    def new_ticket(self, **call: Any) -> Ticket:
        data = {"hotline": "12345", "transcript": "小区门口井盖松动，晚上有人踩空差点摔倒。"}
        data.update(call)
        ctx = self.ctx(self.taker)
        return open_ticket(ctx, register_call(ctx, CallInput(**data)))

    def dispatched(self, **call: Any) -> Ticket:
        ticket = self.new_ticket(**call)
        return svc.dispatch(self.ctx(self.taker), ticket.id, lead_agency="housing")

    def signed(self, **call: Any) -> Ticket:
        ticket = self.dispatched(**call)
        self.clock.advance(minutes=30)
        return svc.sign_for(self.ctx(self.housing_staff), ticket.id)

    def replied(self) -> Ticket:
        ticket = self.signed()
        self.clock.advance(hours=3)
        return svc.reply(
            self.ctx(self.housing_staff),
            ticket.id,
            contacted_caller=True,
            resolved=True,
            reply_text="已更换井盖并加固。",
        )

    def later(self, **kwargs: float) -> None:
        self.clock.advance(timedelta(**kwargs))


def make_city(db: Session, clock: FixedClock) -> City:
    admin_ctx = Context(db=db, actor=Actor(role=Role.ADMIN), now=clock.now())
    center = create_agency(
        admin_ctx, code="center", name="12345热线中心", kind=AgencyKind.HOTLINE_CENTER
    )
    housing = create_agency(admin_ctx, code="housing", name="住建局", kind="government")
    urban = create_agency(admin_ctx, code="urban", name="城管局", kind="government")
    street = create_agency(admin_ctx, code="street", name="东湖街道", kind="community")

    def user(name: str, role: Role, agency: Agency | None = None) -> User:
        return create_user(
            admin_ctx,
            username=name,
            display_name=name,
            role=role,
            password=PASSWORD,
            agency=agency,
        )

    return City(
        db=db,
        clock=clock,
        center=center,
        housing=housing,
        urban=urban,
        street=street,
        taker=user("taker", Role.CALL_TAKER, center),
        supervisor=user("boss", Role.SUPERVISOR, center),
        housing_staff=user("hstaff", Role.AGENCY_STAFF, housing),
        urban_staff=user("ustaff", Role.AGENCY_STAFF, urban),
        admin=user("admin", Role.ADMIN),
    )
