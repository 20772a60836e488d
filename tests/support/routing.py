"""Test doubles for routing: a small rules file for the test city and a classifier whose
reading the test controls, so transfer tests do not depend on the shipped model."""

from __future__ import annotations

from classifier.predict import Prediction
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.vocabulary import AgencyKind, Role
from hotline.rules.schema import parse_rules
from hotline.services.context import Actor, Context
from hotline.services.directory import create_agency
from hotline.services.routing import Router

RULES = parse_rules(
    """
version: 7
city: 测试市
lines: {"110": police, "119": fire}
safety_rules:
  - id: S-FIRE
    when: {keywords_any: [着火]}
    then: {decision: emergency, destination: "119", also: ["110"], priority: critical}
rules:
  - id: WAGE-CROWD
    when: {keywords_all: [工资, 堵路]}
    then: {decision: joint, destination: "110", also: ["12345:urban"], informed: [street]}
  - id: MANHOLE
    when: {keywords_any: [井盖]}
    then: {decision: non_police, destination: "12345:housing", deadline_policy: urgent}
  - id: FIGHT
    when: {decision: [police]}
    then: {decision: police, destination: "110"}
  - id: ASK
    when: {keywords_any: [咨询]}
    then: {decision: non_police, destination: "12345"}
default: {decision: review, destination: review}
"""
)


class KeywordClassifier:
    """The shipped model's interface with a reading the test controls."""

    def predict(self, text: str) -> Prediction:
        if "打架" in text:
            return Prediction("police", 0.93, 0.5, "治安", 0.9, "政法", 0.9, "社会治安", 0.8)
        return Prediction("non_police", 0.04, 0.5, None, None, "城乡建设", 0.7, "市政设施", 0.6)


def add_line_agencies(city) -> None:
    admin = Context(db=city.db, actor=Actor(role=Role.ADMIN), now=city.clock.now())
    create_agency(admin, code="police", name="公安局110指挥中心", kind=AgencyKind.POLICE)
    create_agency(admin, code="fire", name="消防救援支队", kind=AgencyKind.EMERGENCY)


ROUTER = Router(KeywordClassifier(), RULES, WorkingCalendar.chinese())  # type: ignore[arg-type]
