"""A ticket's whole closed loop in a real browser: the call taker transfers it, the agency signs
for it and asks for more time, the 12345 supervisor approves, the agency replies, the supervisor
approves the reply, records the follow-up call and closes it. A screenshot of every page goes to
the artefact folder."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.domain.lifecycle import TicketState
from hotline.models import Ticket
from tests.browser.conftest import SCREENSHOTS

PASSWORD = "correct horse battery"


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("header.top .who")


def log_out(page) -> None:
    page.click("header.top form button")
    page.wait_for_selector("input[name=username]")


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"walk-{name}.png"), full_page=True)


def use_form(page, key: str) -> None:
    """Open the action's panel (one may already be open) and return with its form focused."""
    panel = page.locator(f'details[data-form="{key}"]')
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()


def submit(page, key: str, button: str | None = None) -> None:
    form = page.locator(f'details[data-form="{key}"] form')
    target = form.locator(f'button[value="{button}"]' if button else "button[type=submit]")
    with page.expect_navigation():
        target.first.click()


def state_of(live_db, ticket_id: int) -> TicketState:
    with live_db() as db:
        return db.get(Ticket, ticket_id).state


def test_a_ticket_walks_the_closed_loop(page, live_server, live_db) -> None:
    base = live_server
    # 1. 转接: the call taker transfers from the desk.
    log_in(page, base, "taker")
    page.goto(f"{base}/desk/")
    page.fill("#transcript", "小区门口井盖松动了，晚上有人踩空差点摔倒")
    page.fill("#caller_number", "13800001111")
    page.focus("#transcript")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#suggestion:not([hidden])")
    page.keyboard.press("Alt+t")
    page.wait_for_selector("#result:not([hidden])")
    shot(page, "01-transfer")
    with live_db() as db:
        ticket_id = db.scalar(sa.select(Ticket.id))
    assert state_of(live_db, ticket_id) is TicketState.DISPATCHED
    log_out(page)

    # 2. 签收: the agency finds it at the top of its inbox, with the phone masked.
    log_in(page, base, "hstaff")
    shot(page, "02-agency-inbox")
    row = page.locator(f'tr[data-ticket="{ticket_id}"]')
    assert row.locator("[data-level]").get_attribute("data-level") == "green"
    row.locator("a").click()
    page.wait_for_selector("ol.timeline")
    assert "138****1111" in page.text_content("[data-caller-number]")
    assert "13800001111" not in page.content()
    shot(page, "03-ticket-before-sign")
    use_form(page, "sign_for")
    submit(page, "sign_for")
    assert "已签收" in page.text_content(".flash")
    assert state_of(live_db, ticket_id) is TicketState.SIGNED
    shot(page, "04-signed")

    # 3. 延期申请.
    use_form(page, "request_extension")
    page.fill('details[data-form="request_extension"] input[name=working_days]', "3")
    page.fill('details[data-form="request_extension"] textarea[name=reason]', "需协调施工队更换")
    submit(page, "request_extension")
    assert state_of(live_db, ticket_id) is TicketState.EXTENSION_REQUESTED
    shot(page, "05-extension-requested")
    log_out(page)

    # 4. 延期审核: the supervisor finds it on the review queue.
    log_in(page, base, "boss")
    page.goto(f"{base}/review")
    queue = page.locator('[data-queue="extension_requested"]')
    assert queue.locator("a.count").text_content() == "1"
    shot(page, "06-review-queue")
    queue.locator("li a").first.click()
    page.wait_for_selector("ol.timeline")
    assert "申请延期 3 个工作日" in page.text_content("section.actions")
    use_form(page, "decide_extension")
    page.fill('details[data-form="decide_extension"] textarea[name=note]', "同意延期")
    submit(page, "decide_extension", "approve")
    assert state_of(live_db, ticket_id) is TicketState.IN_PROGRESS
    assert "已延期 3 个工作日" in page.text_content("section.grid")
    shot(page, "07-extension-approved")
    log_out(page)

    # 5. 答复.
    log_in(page, base, "hstaff")
    page.goto(f"{base}/tickets/{ticket_id}")
    use_form(page, "reply")
    form = 'details[data-form="reply"]'
    page.check(f"{form} input[name=contacted_caller][value=yes]")
    page.check(f"{form} input[name=resolved][value=yes]")
    page.fill(f"{form} textarea[name=reply_text]", "已更换井盖并加固，已电话告知来电人。")
    shot(page, "08-reply-form")
    submit(page, "reply")
    assert state_of(live_db, ticket_id) is TicketState.REPLIED
    log_out(page)

    # 6. 答复审核, 7. 回访 with the 5-level rating, 8. 办结.
    log_in(page, base, "boss")
    page.goto(f"{base}/tickets/{ticket_id}")
    use_form(page, "review_reply")
    submit(page, "review_reply", "approve")
    assert state_of(live_db, ticket_id) is TicketState.AWAITING_FOLLOW_UP
    shot(page, "09-reply-approved")
    use_form(page, "follow_up")
    page.check('details[data-form="follow_up"] input[name=rating][value=very_satisfied]')
    page.fill('details[data-form="follow_up"] textarea[name=note]', "来电人表示非常满意")
    submit(page, "follow_up")
    assert state_of(live_db, ticket_id) is TicketState.FOLLOWED_UP
    shot(page, "10-followed-up")
    use_form(page, "close")
    submit(page, "close")
    assert state_of(live_db, ticket_id) is TicketState.CLOSED
    timeline = page.locator("ol.timeline li[data-action]")
    assert [timeline.nth(i).get_attribute("data-action") for i in range(timeline.count())] == [
        "create",
        "dispatch",
        "sign_for",
        "request_extension",
        "approve_extension",
        "reply",
        "approve_reply",
        "follow_up",
        "close",
    ]
    assert "section.actions" not in page.content() or not page.is_visible("section.actions")
    shot(page, "11-closed")


def test_a_stale_page_keeps_the_typed_reply(page, live_server, live_db) -> None:
    from hotline.domain.clock import FixedClock
    from hotline.models import User
    from hotline.services import tickets as svc
    from hotline.services.context import Actor, Context
    from hotline.services.intake import CallInput, open_ticket, register_call
    from tests.conftest import T0

    with live_db() as db:
        users = {u.username: u for u in db.scalars(sa.select(User))}
        clock = FixedClock(T0)

        def ctx(name: str) -> Context:
            return Context(db=db, actor=Actor.of(users[name]), now=clock.now())

        ticket = open_ticket(
            ctx("taker"),
            register_call(ctx("taker"), CallInput(hotline="12345", transcript="路灯不亮")),
        )
        svc.dispatch(ctx("taker"), ticket.id, lead_agency="housing")
        svc.sign_for(ctx("hstaff"), ticket.id)
        db.commit()
        ticket_id = ticket.id
    log_in(page, live_server, "hstaff")
    page.goto(f"{live_server}/tickets/{ticket_id}")
    use_form(page, "reply")
    form = 'details[data-form="reply"]'
    page.check(f"{form} input[name=contacted_caller][value=yes]")
    page.check(f"{form} input[name=resolved][value=no]")
    typed = "一段很长的答复，不能因为冲突而丢失。"
    page.fill(f"{form} textarea[name=reply_text]", typed)
    # Meanwhile a colleague records progress on the same ticket.
    with live_db() as db:
        user = db.scalar(sa.select(User).where(User.username == "hstaff"))
        svc.record_progress(
            Context(db=db, actor=Actor.of(user), now=FixedClock(T0).now()), ticket_id, note="同事"
        )
        db.commit()
    submit(page, "reply")
    assert "工单已被他人更新" in page.text_content("[data-error]")
    assert (
        page.input_value(f"{form} textarea[name=reply_text]")
        == "一段很长的答复，不能因为冲突而丢失。"
    )
    shot(page, "12-conflict-kept")
    submit(page, "reply")  # the page now carries the new version: the second try goes through
    assert state_of(live_db, ticket_id) is TicketState.REPLIED


def test_pages_fit_a_tablet(browser, live_server, live_db) -> None:
    """The inbox and the ticket page on a 768 px tablet: nothing wider than the screen (the
    ticket table scrolls inside its own box)."""
    from hotline.domain.clock import FixedClock
    from hotline.models import User
    from hotline.services import tickets as svc
    from hotline.services.context import Actor, Context
    from hotline.services.intake import CallInput, open_ticket, register_call
    from tests.conftest import T0

    with live_db() as db:
        taker = db.scalar(sa.select(User).where(User.username == "taker"))
        ctx = Context(db=db, actor=Actor.of(taker), now=FixedClock(T0).now())
        call = CallInput(hotline="12345", transcript="路灯不亮" * 40, caller_number="13800002222")
        ticket = open_ticket(ctx, register_call(ctx, call))
        svc.dispatch(ctx, ticket.id, lead_agency="housing")
        db.commit()
        ticket_id = ticket.id
    context = browser.new_context(locale="zh-CN", viewport={"width": 768, "height": 1024})
    page = context.new_page()
    try:
        log_in(page, live_server, "hstaff")
        for name, path in (("inbox", "/"), ("ticket", f"/tickets/{ticket_id}")):
            page.goto(live_server + path)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (name, overflow)
            shot(page, f"tablet-{name}")
    finally:
        context.close()
