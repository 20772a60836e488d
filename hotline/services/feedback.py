"""The classifier's learning loop, platform side: labels people confirmed, as corpus rows.

Every approved return (退单) whose category a supervisor confirmed becomes one example in the
authored-corpus format, so `hotline classifier train --extra FILE` can learn from it.
Call-taker overrides will feed the same export once the transfer console records them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.lifecycle import Action
from hotline.models import Call, Ticket, TicketEvent

COLUMNS = ("id", "text", "police", "police_type", "category_level1", "category_level2")


def labelled_examples(db: Session) -> Iterator[dict[str, str]]:
    rows = db.execute(
        sa.select(TicketEvent.id, TicketEvent.payload, Call.transcript)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .join(Call, Call.id == Ticket.call_id)
        .where(TicketEvent.action == Action.APPROVE_RETURN)
        .order_by(TicketEvent.id)
    )
    for event_id, payload, transcript in rows:
        label = (payload or {}).get("confirmed_label")
        if not label:
            continue
        yield {
            "id": f"feedback-{event_id}",
            "text": transcript,
            "police": "1" if label["police"] else "0",
            "police_type": label.get("police_type") or "",
            "category_level1": label["level1"],
            "category_level2": label.get("level2") or "",
        }


def export_csv(db: Session, path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in labelled_examples(db):
            writer.writerow(row)
            count += 1
    return count
