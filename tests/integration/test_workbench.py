"""The agency workbench and the 12345 desk through the web: inbox, filters, every ticket action,
conflicts, attachments, phone masking."""

from __future__ import annotations

import re

import pytest

from hotline.domain.lifecycle import TicketState
from hotline.models import Attachment, Ticket
from hotline.services import tickets as svc
from tests.factories import PASSWORD

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def login(client, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def act(client, ticket: Ticket, key: str, **data: str):
    data.setdefault("version", str(ticket.version))
    return client.post(f"/tickets/{ticket.id}/actions/{key}", data=data)


def reload(city, ticket: Ticket) -> Ticket:
    city.db.expire_all()
    return city.db.get(Ticket, ticket.id)


# --- inbox --------------------------------------------------------------------------------


def test_inbox_puts_the_most_pressing_first_and_counts_levels(client, city) -> None:
    calm = city.dispatched()
    urgent = city.dispatched(urgency="urgent")
    critical = city.dispatched(urgency="critical")
    city.db.commit()
    login(client, "hstaff")
    page = client.get("/").get_data(as_text=True)
    order = [int(n) for n in re.findall(r'data-ticket="(\d+)"', page)]
    assert order == [critical.id, urgent.id, calm.id]
    counts = dict(re.findall(r'data-level-count="(\w+)".*?<b>(\d+)</b>', page, re.S))
    assert counts == {"green": "3", "yellow": "0", "red": "0"}


def test_level_counts_follow_the_clock(client, city) -> None:
    ticket = city.dispatched()
    city.db.commit()
    login(client, "hstaff")
    assert ticket.sign_for_due_at is not None
    # Just past the deadline: red; the filter shows it and the overdue filter too.
    city.clock.set(ticket.sign_for_due_at)
    city.later(seconds=1)
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'data-level-count="red".*?<b>1</b>', page, re.S)
    assert f'data-ticket="{ticket.id}"' in client.get("/?level=red").get_data(as_text=True)
    assert f'data-ticket="{ticket.id}"' not in client.get("/?level=green").get_data(as_text=True)
    assert f'data-ticket="{ticket.id}"' in client.get("/?overdue=1").get_data(as_text=True)


def test_yellow_in_sql_agrees_with_the_python_level(client, city) -> None:
    ticket = city.dispatched()
    city.db.commit()
    start, due = ticket.dispatched_at, ticket.next_due_at
    share = city.ctx().warning_share
    login(client, "hstaff")
    city.clock.set(start + (due - start) * share)
    city.later(seconds=1)
    assert svc.level_of(city.ctx(), ticket).value == "yellow"
    page = client.get("/?level=yellow").get_data(as_text=True)
    assert f'data-ticket="{ticket.id}"' in page
    city.clock.set(start + (due - start) * share)
    city.later(seconds=-60)
    assert svc.level_of(city.ctx(), ticket).value == "green"
    assert f'data-ticket="{ticket.id}"' in client.get("/?level=green").get_data(as_text=True)


def test_filters_by_category_district_and_state(client, city) -> None:
    roads = city.dispatched(district="东湖区")
    other = city.dispatched(district="西山区")
    ctx = city.ctx(city.supervisor)
    svc.reclassify(ctx, roads.id, reason="更正", category_level1="城乡建设")
    svc.reclassify(ctx, other.id, reason="更正", category_level1="市场监管")
    city.db.commit()
    login(client, "hstaff")
    page = client.get("/").get_data(as_text=True)
    assert "<option selected>" not in page and "<option >城乡建设</option>" in page
    assert "东湖区" in page and "西山区" in page  # the district menu offers what is there
    by_category = client.get("/?category=城乡建设").get_data(as_text=True)
    assert f'data-ticket="{roads.id}"' in by_category
    assert f'data-ticket="{other.id}"' not in by_category
    by_district = client.get("/?district=西山区").get_data(as_text=True)
    assert f'data-ticket="{other.id}"' in by_district
    assert f'data-ticket="{roads.id}"' not in by_district
    signed = client.get("/?state=signed").get_data(as_text=True)
    assert "没有工单" in signed


@pytest.mark.parametrize(
    "query",
    ["?level=purple", "?tab=nope", "?overdue=yes", "?status=x", "?category=%00", "?page=0"],
)
def test_bad_inbox_filters_are_refused(client, city, query) -> None:
    city.db.commit()
    login(client, "hstaff")
    assert client.get("/" + query).status_code == 400


def test_agency_tabs_separate_lead_from_assisting(client, city) -> None:
    ticket = city.new_ticket()
    svc.dispatch(city.ctx(city.taker), ticket.id, lead_agency="urban", assisting=["housing"])
    own = city.dispatched()
    city.db.commit()
    login(client, "hstaff")
    lead = client.get("/").get_data(as_text=True)
    assert f'data-ticket="{own.id}"' in lead and f'data-ticket="{ticket.id}"' not in lead
    involved = client.get("/?tab=involved").get_data(as_text=True)
    assert f'data-ticket="{ticket.id}"' in involved and f'data-ticket="{own.id}"' not in involved
    # Assisting agencies see the ticket but get no forms: only the lead acts.
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "data-form=" not in page


# --- the walk, as agency and supervisor ---------------------------------------------------


def test_full_walk_through_the_forms(client, city) -> None:
    ticket = city.dispatched(caller_number="13812345678")
    city.db.commit()
    login(client, "hstaff")
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'data-form="sign_for"' in page and 'data-form="request_return"' in page
    assert act(client, ticket, "sign_for").status_code == 302
    ticket = reload(city, ticket)
    assert ticket.state is TicketState.SIGNED

    city.later(hours=1)
    assert act(client, ticket, "record_progress", note="已到现场查看").status_code == 302
    ticket = reload(city, ticket)
    response = act(client, ticket, "request_extension", working_days="3", reason="需协调施工队")
    assert response.status_code == 302
    ticket = reload(city, ticket)
    assert ticket.state is TicketState.EXTENSION_REQUESTED
    due_before = ticket.reply_due_at
    client.post("/logout")

    login(client, "boss")
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "申请延期 3 个工作日" in page
    response = act(client, ticket, "decide_extension", decision="approve", note="同意")
    assert response.status_code == 302
    ticket = reload(city, ticket)
    assert ticket.state is TicketState.IN_PROGRESS and ticket.extension_working_days == 3
    assert ticket.reply_due_at > due_before
    client.post("/logout")

    login(client, "hstaff")
    response = act(
        client,
        ticket,
        "reply",
        contacted_caller="yes",
        resolved="yes",
        reply_text="井盖已更换。",
    )
    assert response.status_code == 302
    client.post("/logout")

    login(client, "boss")
    ticket = reload(city, ticket)
    assert act(client, ticket, "review_reply", decision="approve").status_code == 302
    ticket = reload(city, ticket)
    assert act(client, ticket, "follow_up", rating="satisfied", note="满意").status_code == 302
    ticket = reload(city, ticket)
    assert act(client, ticket, "close").status_code == 302
    ticket = reload(city, ticket)
    assert ticket.state is TicketState.CLOSED
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    actions = re.findall(r'data-action="(\w+)"', page)
    assert actions == [
        "create",
        "dispatch",
        "sign_for",
        "record_progress",
        "request_extension",
        "approve_extension",
        "reply",
        "approve_reply",
        "follow_up",
        "close",
    ]


def test_return_with_reason_and_redispatch_to_the_suggested_agency(client, city) -> None:
    ticket = city.dispatched()
    city.db.commit()
    login(client, "hstaff")
    response = act(client, ticket, "request_return", reason_code="not_our_function", reason="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-form="request_return" open' in page and "field-error" in page
    response = act(
        client,
        ticket,
        "request_return",
        reason_code="not_our_function",
        reason="属城管职责",
        suggested_agency=str(city.urban.id),
    )
    assert response.status_code == 302
    client.post("/logout")
    login(client, "boss")
    ticket = reload(city, ticket)
    # A rejection must say why.
    assert act(client, ticket, "decide_return", decision="reject").status_code == 422
    assert act(client, ticket, "decide_return", decision="approve").status_code == 302
    ticket = reload(city, ticket)
    assert ticket.state is TicketState.RETURNED
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert f'<option value="{city.urban.id}" selected>' in page
    response = act(client, ticket, "dispatch", lead_agency=str(city.urban.id))
    assert response.status_code == 302
    assert reload(city, ticket).lead_agency_id == city.urban.id


def test_unsatisfied_follow_up_is_reopened(client, city) -> None:
    ticket = city.replied()
    svc.review_reply(city.ctx(city.supervisor), ticket.id, approve=True)
    city.db.commit()
    login(client, "boss")
    ticket = reload(city, ticket)
    assert act(client, ticket, "follow_up", rating="dissatisfied").status_code == 302
    ticket = reload(city, ticket)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'data-form="reopen"' in page and 'data-form="close"' in page
    assert act(client, ticket, "reopen", reason="来电人不满意，井盖仍松动").status_code == 302
    ticket = reload(city, ticket)
    assert ticket.state is TicketState.DISPATCHED and ticket.reopen_count == 1


def test_chase_supervise_and_merge(client, city) -> None:
    first = city.dispatched(caller_number="13900001111")
    second = city.dispatched(caller_number="13900001111")
    city.db.commit()
    login(client, "boss")
    assert act(client, second, "chase", note="请尽快签收").status_code == 302
    second = reload(city, second)
    assert act(client, second, "supervise").status_code == 422  # 督办 needs a note
    assert act(client, second, "supervise", note="列入督办").status_code == 302
    second = reload(city, second)
    page = client.get(f"/tickets/{second.id}").get_data(as_text=True)
    assert f'href="/tickets/{first.id}"' in page  # offered as a likely duplicate
    response = act(client, second, "merge", into_ticket_id=str(first.id), note="重复来电")
    assert response.status_code == 302
    second = reload(city, second)
    assert second.state is TicketState.MERGED and second.merged_into_id == first.id


def test_stale_form_shows_a_conflict_and_keeps_what_was_typed(client, city) -> None:
    ticket = city.signed()
    city.db.commit()
    login(client, "hstaff")
    stale_version = ticket.version
    # Someone else records progress first.
    svc.record_progress(city.ctx(city.housing_staff), ticket.id, note="同事已处理一部分")
    city.db.commit()
    response = act(
        client,
        ticket,
        "reply",
        version=str(stale_version),
        contacted_caller="yes",
        resolved="no",
        reply_text="我写了很长的答复，不能丢。",
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "工单已被他人更新" in page and "我写了很长的答复，不能丢。" in page
    assert 'value="yes" checked' in page
    assert f'name="version" value="{stale_version + 1}"' in page  # resubmitting now works
    assert reload(city, ticket).state is TicketState.IN_PROGRESS


def test_a_form_the_role_may_not_use_is_refused(client, city) -> None:
    ticket = city.dispatched()
    city.db.commit()
    login(client, "hstaff")
    response = act(client, ticket, "decide_return", decision="approve")
    assert response.status_code in (403, 409)
    assert reload(city, ticket).state is TicketState.DISPATCHED
    assert client.post(f"/tickets/{ticket.id}/actions/nonsense", data={}).status_code == 404


@pytest.mark.parametrize(
    "data",
    [{"version": ""}, {"version": "abc"}, {"version": "１"}, {"version": "9" * 40}],
)
def test_bad_version_is_a_clear_error(client, city, data) -> None:
    ticket = city.dispatched()
    city.db.commit()
    login(client, "hstaff")
    response = client.post(f"/tickets/{ticket.id}/actions/sign_for", data=data)
    assert response.status_code == 422
    assert reload(city, ticket).state is TicketState.DISPATCHED


def test_script_in_text_is_rendered_as_text(client, city) -> None:
    ticket = city.signed(transcript="<script>alert(1)</script>路灯坏了")
    city.db.commit()
    login(client, "hstaff")
    act(client, ticket, "record_progress", note='<img src=x onerror="alert(2)">')
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page and "&lt;img src=x" in page


# --- phone masking --------------------------------------------------------------------------


def test_lead_agency_may_reveal_the_number_to_call_back(client, city) -> None:
    ticket = city.signed(caller_number="13812345678")
    city.db.commit()
    login(client, "hstaff")
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "138****5678" in page and "13812345678" not in page
    shown = client.post(f"/tickets/{ticket.id}/caller-number").get_data(as_text=True)
    assert "13812345678" in shown


def test_assisting_agency_cannot_reveal_the_number(client, city) -> None:
    ticket = city.new_ticket(caller_number="13812345678")
    svc.dispatch(city.ctx(city.taker), ticket.id, lead_agency="housing", assisting=["urban"])
    city.db.commit()
    login(client, "ustaff")
    shown = client.post(f"/tickets/{ticket.id}/caller-number").get_data(as_text=True)
    assert "138****5678" in shown and "13812345678" not in shown


# --- attachments --------------------------------------------------------------------------


def upload(client, ticket: Ticket, name: str, content: bytes):
    from io import BytesIO

    return client.post(
        f"/tickets/{ticket.id}/attachments",
        data={"file": (BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_attachment_upload_and_download(client, city) -> None:
    ticket = city.signed()
    city.db.commit()
    login(client, "hstaff")
    assert upload(client, ticket, "现场照片.png", PNG).status_code == 302
    stored = city.db.query(Attachment).filter_by(ticket_id=ticket.id).one()
    assert stored.content_type == "image/png" and stored.size == len(PNG)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "现场照片.png" in page and f'data-file="{stored.id}"' in page
    response = client.get(f"/tickets/{ticket.id}/attachments/{stored.id}")
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.png", b"MZ\x90\x00 not a png", "不符"),
        ("virus.exe", b"MZ\x90\x00", "不支持"),
        ("page.html", b"<html><script>alert(1)</script>", "不支持"),
        ("empty.pdf", b"", "为空"),
        ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "过大"),
    ],
)
def test_bad_attachments_are_refused(client, city, name, content, message) -> None:
    ticket = city.signed()
    city.db.commit()
    login(client, "hstaff")
    response = upload(client, ticket, name, content)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert city.db.query(Attachment).filter_by(ticket_id=ticket.id).count() == 0


def test_oversized_request_is_refused_before_reading(app, client, city) -> None:
    ticket = city.signed()
    city.db.commit()
    login(client, "hstaff")
    app.config["MAX_CONTENT_LENGTH"] = 1024
    assert upload(client, ticket, "a.pdf", b"%PDF-" + b"0" * 4096).status_code == 413


def test_other_agency_cannot_see_or_add_attachments(client, city) -> None:
    ticket = city.signed()
    city.db.commit()
    login(client, "hstaff")
    upload(client, ticket, "a.pdf", b"%PDF-1.4 test")
    stored = city.db.query(Attachment).filter_by(ticket_id=ticket.id).one()
    client.post("/logout")
    login(client, "ustaff")
    assert client.get(f"/tickets/{ticket.id}/attachments/{stored.id}").status_code == 404
    assert upload(client, ticket, "b.pdf", b"%PDF-1.4 test").status_code == 404
    # An attachment id under another ticket's URL is not found either.
    other = city.dispatched()
    city.db.commit()
    client.post("/logout")
    login(client, "hstaff")
    assert client.get(f"/tickets/{other.id}/attachments/{stored.id}").status_code == 404


# --- review queue -------------------------------------------------------------------------


def test_review_queue_lists_what_waits_for_12345(client, city) -> None:
    signed = city.signed()
    svc.request_extension(city.ctx(city.housing_staff), signed.id, working_days=2, reason="协调")
    received = city.new_ticket()
    city.db.commit()
    login(client, "boss")
    page = client.get("/review").get_data(as_text=True)
    ext = page.split('data-queue="extension_requested"', 1)[1].split("</div>", 1)[0]
    assert f'href="/tickets/{signed.id}"' in ext
    rec = page.split('data-queue="received"', 1)[1].split("</div>", 1)[0]
    assert f'href="/tickets/{received.id}"' in rec
    client.post("/logout")
    login(client, "hstaff")
    assert client.get("/review").status_code == 403


def test_suspension_is_requested_approved_and_resumed(client, city) -> None:
    ticket = city.signed()
    city.db.commit()
    login(client, "hstaff")
    assert act(client, ticket, "request_suspension", reason="等待法院判决").status_code == 302
    client.post("/logout")
    login(client, "boss")
    ticket = reload(city, ticket)
    assert act(client, ticket, "decide_suspension", decision="approve").status_code == 302
    ticket = reload(city, ticket)
    assert ticket.state is TicketState.SUSPENDED and ticket.next_due_at is None
    city.later(days=3)
    assert act(client, ticket, "resume", note="判决已出").status_code == 302
    assert reload(city, ticket).state is TicketState.IN_PROGRESS


def test_call_taker_answers_directly_and_reclassifies(client, city) -> None:
    direct = city.new_ticket()
    other = city.new_ticket()
    city.db.commit()
    login(client, "taker")
    response = act(client, direct, "answer_directly", reply_text="已告知办理地点和时间。")
    assert response.status_code == 302
    assert reload(city, direct).state is TicketState.CLOSED
    response = act(
        client,
        other,
        "reclassify",
        category_level1="城乡建设",
        priority="urgent",
        reason="来电人补充了情况",
    )
    assert response.status_code == 302
    other = reload(city, other)
    assert other.category_level1 == "城乡建设" and other.priority.value == "urgent"
    nothing = act(client, other, "reclassify", reason="无变化")
    assert nothing.status_code == 422 and "请至少修改" in nothing.get_data(as_text=True)


def test_the_12345_inbox_counts_finished_states_only_when_asked(client, city) -> None:
    open_one = city.dispatched()
    closed = city.new_ticket()
    svc.answer_directly(city.ctx(city.taker), closed.id, reply_text="已答复")
    city.db.commit()
    login(client, "boss")
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'data-state="dispatched">待签收 <b>1</b>', page)
    assert 'data-state="closed">已办结</a>' in page  # a link, no count: counting is costly
    finished = client.get("/?status=finished").get_data(as_text=True)
    assert re.search(r'data-state="closed">已办结 <b>1</b>', finished)
    assert f'data-ticket="{closed.id}"' in finished
    assert f'data-ticket="{open_one.id}"' not in finished
