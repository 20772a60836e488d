"""Closed vocabularies of the domain: stored by English value, shown by Chinese label."""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members also know their Chinese label."""

    label: str

    def __new__(cls, value: str, label: str) -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def parse(cls, raw: object, field: str) -> LabelledEnum:
        """Accept the English value or the Chinese label; anything else is a ValidationError."""
        from hotline.domain.errors import ValidationError

        if isinstance(raw, cls):
            return raw
        text = str(raw).strip() if raw is not None else ""
        for member in cls:
            if text in (member.value, member.label):
                return member
        allowed = "、".join(f"{m.value}({m.label})" for m in cls)
        raise ValidationError(field, f"无效的取值 {text!r}，可选：{allowed}")


class Hotline(LabelledEnum):
    POLICE_110 = "110", "110报警服务台"
    SERVICE_12345 = "12345", "12345政务服务便民热线"


class Channel(LabelledEnum):
    PHONE = "phone", "电话"
    ONLINE = "online", "网络"


class CallStatus(LabelledEnum):
    """Where a call stands on the desk: waiting for a person to decide, or transferred."""

    QUEUED = "queued", "待转接"
    TRANSFERRED = "transferred", "已转接"


class Nature(LabelledEnum):
    CONSULTATION = "consultation", "咨询"
    HELP = "help", "求助"
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    SUGGESTION = "suggestion", "建议"


class Urgency(LabelledEnum):
    """Urgency of the call as judged at intake; also the ticket's priority scale."""

    NORMAL = "normal", "一般"
    URGENT = "urgent", "紧急"
    CRITICAL = "critical", "特急"

    @property
    def rank(self) -> int:
        """Sort key for inboxes: lower is more pressing (so a plain ascending index serves)."""
        return {"critical": 0, "urgent": 1, "normal": 2}[self.value]


class Role(LabelledEnum):
    CALL_TAKER = "call_taker", "话务员"
    AGENCY_STAFF = "agency_staff", "承办单位人员"
    SUPERVISOR = "supervisor", "督办/班长"
    ADMIN = "admin", "系统管理员"
    SYSTEM = "system", "系统"


class AgencyKind(LabelledEnum):
    HOTLINE_CENTER = "hotline_center", "热线中心"
    POLICE = "police", "公安机关"
    EMERGENCY = "emergency", "应急联动"
    GOVERNMENT = "government", "政府部门"
    DISTRICT = "district", "区县/街道"
    COMMUNITY = "community", "社区"
    UTILITY = "utility", "公用事业"
    OTHER = "other", "其他"


class AgencyRole(LabelledEnum):
    LEAD = "lead", "主办"
    ASSISTING = "assisting", "协办"
    INFORMED = "informed", "传阅"


class Direction(LabelledEnum):
    """Which way a transfer goes; ``internal`` when the ticket stays on the receiving platform."""

    TO_12345 = "110_to_12345", "110转12345"
    TO_110 = "12345_to_110", "12345转110"
    INTERNAL = "internal", "本平台受理"


class ReturnReason(LabelledEnum):
    WRONG_AREA = "wrong_area", "属地不符"
    NOT_OUR_FUNCTION = "not_our_function", "职能不符"
    UNCLEAR_OWNERSHIP = "unclear_ownership", "权属不清"
    OVERLAPPING_FUNCTIONS = "overlapping_functions", "职能交叉"


class Satisfaction(LabelledEnum):
    VERY_SATISFIED = "very_satisfied", "非常满意"
    SATISFIED = "satisfied", "满意"
    FAIRLY_SATISFIED = "fairly_satisfied", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"
    VERY_DISSATISFIED = "very_dissatisfied", "非常不满意"

    @property
    def score(self) -> int:
        """5 (非常满意) down to 1 (非常不满意)."""
        return 5 - list(Satisfaction).index(self)

    @property
    def is_satisfied(self) -> bool:
        return self.score >= 3
