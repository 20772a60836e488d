"""The desk in a real browser (Playwright driving Debian's Chromium, headless): a call taker
types a call, judges it with Ctrl+Enter, transfers with Alt+T, and overrides with Alt+O."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline.models import Ticket, Transfer
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import T0


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.goto(f"{base_url}/desk/")


def test_a_call_taker_transfers_a_call_with_the_keyboard(page, live_server, live_db) -> None:
    log_in(page, live_server, "taker")
    # The transcript has focus on arrival: typing goes straight in.
    page.keyboard.type("小区门口井盖松动了，晚上有人踩空")
    page.fill("#caller_number", "13800001111")
    page.focus("#transcript")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#suggestion:not([hidden])")
    assert page.text_content("#destination-label") == "12345 → 住建局"
    assert "MANHOLE" in page.text_content("#rules")
    assert not page.is_visible("#three-party")  # a clear owner needs no three-party call
    page.screenshot(path=str(SCREENSHOTS / "desk-suggestion.png"), full_page=True)
    page.keyboard.press("Alt+t")
    page.wait_for_selector("#result:not([hidden])")
    assert "已转接：工单 GD" in page.text_content("#result")
    page.screenshot(path=str(SCREENSHOTS / "desk-transferred.png"), full_page=True)
    # Pressing the key again creates nothing more.
    page.keyboard.press("Alt+t")
    with live_db() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 1
    page.click("#result a")
    page.wait_for_selector("ol.timeline")
    assert "派单" in page.text_content("ol.timeline")


def test_an_override_asks_for_a_reason(page, live_server, live_db) -> None:
    log_in(page, live_server, "taker")
    page.fill("#transcript", "<script>window.pwned=1</script>井盖被人偷走了")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#suggestion:not([hidden])")
    page.keyboard.press("Alt+o")
    assert page.evaluate("document.activeElement.id") == "destination"
    page.select_option("#destination", "110")
    page.click("#override-submit")
    page.wait_for_selector("#message:not([hidden])")
    assert "reason" in page.text_content("#message")
    page.fill("#reason", "井盖被盗，涉嫌盗窃")
    page.click("#override-submit")
    page.wait_for_selector("#result:not([hidden])")
    assert "已记录改派理由" in page.text_content("#result")
    assert page.evaluate("window.pwned") is None  # the transcript stayed text
    with live_db() as db:
        transfer = db.scalar(sa.select(Transfer))
        assert transfer.overridden and transfer.destination == "110"


@pytest.mark.parametrize("username", ["hstaff"])
def test_agency_staff_do_not_get_the_desk(page, live_server, username: str) -> None:
    log_in(page, live_server, username)
    assert "没有权限" in page.text_content("body")


def test_a_pushed_call_appears_on_the_live_queue_and_is_decided(page, live_server, live_db) -> None:
    import json
    from urllib.request import Request, urlopen

    from hotline.services.context import Actor, Context
    from hotline.services.exchange import create_client

    with live_db() as db:
        _, key = create_client(
            Context(db=db, actor=Actor.system("test"), now=T0), name="110系统", hotline="110"
        )
        db.commit()
    log_in(page, live_server, "taker")
    assert page.text_content("#queue-count") == "0"
    request = Request(
        f"{live_server}/api/v1/calls",
        data=json.dumps(
            {"transcript": "有个情况说不太清楚", "caller_number": "13900002222"}
        ).encode(),
        headers={
            "X-API-Key": key,
            "Idempotency-Key": "live-1",
            "Content-Type": "application/json",
        },
    )
    with urlopen(request) as pushed:
        assert pushed.status == 202
    # The queue refreshes itself: no reload, no key press.
    page.wait_for_selector("#queue li button")
    assert page.text_content("#queue-count") == "1"
    page.click("#queue li button")
    assert page.input_value("#transcript") == "有个情况说不太清楚"
    assert page.get_attribute("#transcript", "readonly") is not None
    assert page.is_visible("#override")  # review: the call taker must choose
    page.select_option("#destination", "12345:urban")
    page.click("#override-submit")
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_function("document.getElementById('queue-count').textContent === '0'")
    page.screenshot(path=str(SCREENSHOTS / "desk-queue-decided.png"), full_page=True)
