"""Routing outcomes measured against labelled calls: did police matters reach police, did
civic matters reach 12345? The figures behind the police-first guarantee, per slice.

A police matter counts as reached when 110 dispatches it (alone, jointly, or beside an
emergency line); held for review is counted apart (a person decides, nothing is diverted);
sent to a 12345 agency without 110 is the failure that must never happen. A civic matter is
diverted when it reaches 12345; sent to 110 or an emergency line is a false alarm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hotline.rules.engine import RoutingDecision
from hotline.rules.schema import EMERGENCY_LINES

ALL = "全部"


def reaches_police(d: RoutingDecision) -> bool:
    return d.destination == "110" or "110" in d.also or d.destination in EMERGENCY_LINES


def reaches_12345(d: RoutingDecision) -> bool:
    return d.destination.startswith("12345") and "110" not in d.also


@dataclass
class SliceFigures:
    police: int = 0
    police_reached: int = 0
    police_reviewed: int = 0
    police_to_12345: int = 0
    civic: int = 0
    civic_diverted: int = 0
    civic_reviewed: int = 0
    civic_to_police: int = 0
    misses: list[str] = field(default_factory=list)  # police matters sent to 12345
    false_alarms: list[str] = field(default_factory=list)  # civic matters sent to police

    def add(self, police: bool, d: RoutingDecision, text: str) -> None:
        if police:
            self.police += 1
            if reaches_police(d):
                self.police_reached += 1
            elif d.destination == "review":
                self.police_reviewed += 1
            else:
                self.police_to_12345 += 1
                self.misses.append(text)
        else:
            self.civic += 1
            if reaches_12345(d):
                self.civic_diverted += 1
            elif d.destination == "review":
                self.civic_reviewed += 1
            else:
                self.civic_to_police += 1
                self.false_alarms.append(text)

    @property
    def police_recall(self) -> float | None:
        """Reached police, or at least a person: never sent away without 110."""
        if not self.police:
            return None
        return (self.police_reached + self.police_reviewed) / self.police

    @property
    def police_dispatched(self) -> float | None:
        return self.police_reached / self.police if self.police else None

    @property
    def civic_diversion(self) -> float | None:
        return self.civic_diverted / self.civic if self.civic else None

    def to_dict(self) -> dict[str, object]:
        return {
            "police": self.police,
            "police_reached": self.police_reached,
            "police_reviewed": self.police_reviewed,
            "police_to_12345": self.police_to_12345,
            "police_recall": _round(self.police_recall),
            "police_dispatched": _round(self.police_dispatched),
            "civic": self.civic,
            "civic_diverted": self.civic_diverted,
            "civic_reviewed": self.civic_reviewed,
            "civic_to_police": self.civic_to_police,
            "civic_diversion": _round(self.civic_diversion),
            "misses": self.misses,
            "false_alarms": self.false_alarms,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summarise(rows: Iterable[tuple[str, bool, RoutingDecision, str]]) -> dict[str, SliceFigures]:
    """(slice, is police, decision, text) rows → figures per slice, and for all rows."""
    figures: dict[str, SliceFigures] = {ALL: SliceFigures()}
    for slice_name, police, decision, text in rows:
        figures.setdefault(slice_name, SliceFigures()).add(police, decision, text)
        if slice_name != ALL:
            figures[ALL].add(police, decision, text)
    return figures
