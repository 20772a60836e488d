"""The classifier's learning loop, platform side: labels people confirmed, as corpus rows.

Two kinds of people's decisions become examples in the authored-corpus format, so
`hotline classifier train --extra FILE` can learn from them:
- an approved return (退单) whose category a supervisor confirmed;
- a call taker's override of the suggested destination (or a corrected category) at transfer.
An override to 119 / 120 / 122 says nothing about police or not, so it is left out.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.lifecycle import Action
from hotline.models import Call, Ticket, TicketEvent, Transfer

COLUMNS = ("id", "text", "police", "police_type", "category_level1", "category_level2")


def labelled_examples(db: Session) -> Iterator[dict[str, str]]:
    yield from _confirmed_returns(db)
    yield from _overrides(db)


def _overrides(db: Session) -> Iterator[dict[str, str]]:
    rows = db.execute(
        sa.select(Transfer.id, Transfer.corrected_label, Call.transcript)
        .join(Call, Call.id == Transfer.call_id)
        .where(Transfer.corrected_label.is_not(None))
        .order_by(Transfer.id)
    )
    for transfer_id, label, transcript in rows:
        police, police_type = label.get("police"), label.get("police_type") or ""
        # A corpus row needs both levels of the police reading; half a label teaches nothing.
        if police is None or not label.get("category_level1") or (police and not police_type):
            continue
        yield {
            "id": f"override-{transfer_id}",
            "text": transcript,
            "police": "1" if police else "0",
            "police_type": police_type if police else "",
            "category_level1": label["category_level1"],
            "category_level2": label.get("category_level2") or "",
        }


def _confirmed_returns(db: Session) -> Iterator[dict[str, str]]:
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
