"""The pure parts of log-in protection: when a sliding window unlocks, how names are keyed,
and when a session is over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.services.login_throttle import (
    Lock,
    ThrottleSettings,
    address_of,
    key_of,
    unlock_time,
)
from hotline.web.auth import session_expiry

T = datetime(2026, 3, 10, 1, 30, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_fewer_failures_than_the_limit_lock_nothing() -> None:
    assert unlock_time([T] * 4, 5, WINDOW) is None
    assert unlock_time([], 5, WINDOW) is None


def test_the_lock_lasts_until_the_limit_th_newest_failure_leaves_the_window() -> None:
    newest_first = [T - timedelta(minutes=m) for m in range(6)]  # T, T-1, …, T-5
    # Five failures must remain inside the window: the fifth newest (T-4) leaves at T+11.
    assert unlock_time(newest_first, 5, WINDOW) == T + timedelta(minutes=11)


def test_minutes_left_round_up_and_never_reach_zero_while_locked() -> None:
    lock = Lock("username", T + timedelta(minutes=14, seconds=1))
    assert lock.minutes_left(T) == 15
    assert Lock("username", T + timedelta(seconds=5)).minutes_left(T) == 1
    assert Lock("address", T + timedelta(seconds=5)).seconds_left(T) == 5


def test_names_are_throttled_as_the_account_would_be_found() -> None:
    assert key_of("  Boss ") == "boss"
    assert key_of("x" * 100) == "x" * 64
    assert key_of(None) == ""
    assert address_of(None) == "unknown"
    assert address_of("2001:db8::" + "f" * 60) == ("2001:db8::" + "f" * 60)[:45]


@pytest.mark.parametrize(
    "settings",
    [
        {"window": timedelta(0)},
        {"per_user": 0},
        {"per_address": 0},
    ],
)
def test_settings_that_could_never_lock_or_always_lock_are_refused(settings) -> None:
    with pytest.raises(ValueError):
        ThrottleSettings(**settings)


HOUR = 3600.0


@pytest.mark.parametrize(
    ("login_at", "seen_at", "now", "expected"),
    [
        (0.0, 0.0, 29 * 60, None),
        (0.0, 0.0, 30 * 60, "idle"),
        (0.0, 7.9 * HOUR, 8 * HOUR - 1, None),
        (0.0, 7.9 * HOUR, 8 * HOUR, "absolute"),
        (None, 0.0, 1.0, "absolute"),  # a session from before these rules
        (0.0, None, 1.0, "idle"),
    ],
)
def test_session_expiry(login_at, seen_at, now, expected) -> None:
    assert session_expiry(login_at, seen_at, now, 8 * HOUR, 30 * 60) == expected


def test_no_idle_timeout_when_it_is_zero() -> None:
    assert session_expiry(0.0, 0.0, 7 * HOUR, 8 * HOUR, 0) is None
