"""Log-in and session settings read from the environment as numbers and yes/no."""

from __future__ import annotations

import pytest

from hotline.config import DEFAULTS, from_environment


def test_the_defaults_are_the_documented_ones() -> None:
    assert DEFAULTS["LOGIN_MAX_FAILURES_PER_USER"] == 5
    assert DEFAULTS["LOGIN_MAX_FAILURES_PER_ADDRESS"] == 30
    assert DEFAULTS["LOGIN_FAILURE_WINDOW"] == 15 * 60
    assert DEFAULTS["SESSION_IDLE_TIMEOUT"] == 30 * 60
    assert DEFAULTS["PERMANENT_SESSION_LIFETIME"] == 8 * 3600
    assert DEFAULTS["SESSION_COOKIE_HTTPONLY"] is True
    assert DEFAULTS["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert DEFAULTS["SESSION_COOKIE_SECURE"] is False


def test_numbers_and_switches_are_parsed() -> None:
    values = from_environment(
        {
            "HOTLINE_SESSION_IDLE_TIMEOUT": "600",
            "HOTLINE_LOGIN_MAX_FAILURES_PER_USER": "3",
            "HOTLINE_TRUSTED_PROXIES": "1",
            "HOTLINE_SESSION_COOKIE_SECURE": "true",
        }
    )
    assert values == {
        "SESSION_IDLE_TIMEOUT": 600,
        "LOGIN_MAX_FAILURES_PER_USER": 3,
        "TRUSTED_PROXIES": 1,
        "SESSION_COOKIE_SECURE": True,
    }


@pytest.mark.parametrize("text", ["false", "0", "no", "off"])
def test_a_false_switch_is_false_not_a_truthy_string(text) -> None:
    assert from_environment({"HOTLINE_SESSION_COOKIE_SECURE": text}) == {
        "SESSION_COOKIE_SECURE": False
    }


def test_a_number_that_is_not_one_names_the_variable() -> None:
    with pytest.raises(ValueError, match="HOTLINE_SESSION_IDLE_TIMEOUT"):
        from_environment({"HOTLINE_SESSION_IDLE_TIMEOUT": "half an hour"})
