"""SQLAlchemy 2 typed models. Import from here so every table is registered on ``Base.metadata``."""

from hotline.models.base import Base
from hotline.models.calls import Call
from hotline.models.directory import Agency, User
from hotline.models.notifications import Notification, OutboxMessage
from hotline.models.reports import KpiSnapshot
from hotline.models.security import Attachment, LoginFailure
from hotline.models.tickets import (
    AppendOnlyViolation,
    Ticket,
    TicketAgency,
    TicketAlert,
    TicketEvent,
)
from hotline.models.transfers import ApiClient, Transfer

__all__ = [
    "Agency",
    "ApiClient",
    "AppendOnlyViolation",
    "Attachment",
    "Base",
    "Call",
    "KpiSnapshot",
    "LoginFailure",
    "Notification",
    "OutboxMessage",
    "Ticket",
    "TicketAgency",
    "TicketAlert",
    "TicketEvent",
    "Transfer",
    "User",
]
