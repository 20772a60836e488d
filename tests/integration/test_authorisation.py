"""Every agency-scoped URL, tried as another agency's user: 404, as if the ticket did not exist.

The URLs are read from the app's URL map, so a route added later is tried without anyone
remembering to list it here.
"""

from __future__ import annotations

from io import BytesIO

import pytest

from hotline.models import Attachment
from hotline.services import tickets as svc
from hotline.web.ticket_forms import FORMS
from tests.factories import PASSWORD

PDF = b"%PDF-1.4 test"


def login(client, username: str) -> None:
    assert (
        client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    )


def scoped_rules(app) -> list[tuple[str, str]]:
    """(rule, method) for every URL that names a ticket."""
    found = []
    for rule in app.url_map.iter_rules():
        if "ticket_id" not in rule.arguments:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method))
    return found


def fill(rule: str, ticket_id: int, attachment_id: int) -> list[str]:
    url = rule.replace("<int:ticket_id>", str(ticket_id)).replace(
        "<int:attachment_id>", str(attachment_id)
    )
    if "<key>" in url:
        return [url.replace("<key>", key) for key in FORMS]
    return [url]


@pytest.fixture
def housing_ticket(client, city):
    ticket = city.signed(caller_number="13812345678")
    city.db.commit()
    login(client, "hstaff")
    upload = client.post(
        f"/tickets/{ticket.id}/attachments",
        data={"file": (BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    client.post("/logout")
    attachment = city.db.query(Attachment).filter_by(ticket_id=ticket.id).one()
    return ticket, attachment


def test_the_url_map_has_the_ticket_urls_we_know(app) -> None:
    rules = {rule for rule, _ in scoped_rules(app)}
    assert {
        "/tickets/<int:ticket_id>",
        "/tickets/<int:ticket_id>/actions/<key>",
        "/tickets/<int:ticket_id>/attachments",
        "/tickets/<int:ticket_id>/attachments/<int:attachment_id>",
        "/tickets/<int:ticket_id>/caller-number",
    } <= rules


def test_every_ticket_url_is_not_found_for_another_agency(app, client, city, housing_ticket):
    ticket, attachment = housing_ticket
    version_before = ticket.version
    login(client, "ustaff")
    tried = 0
    for rule, method in scoped_rules(app):
        for url in fill(rule, ticket.id, attachment.id):
            data = {"version": str(ticket.version), "note": "x", "reason": "x"}
            if url.endswith("/attachments"):
                data = {"file": (BytesIO(PDF), "b.pdf")}
            response = client.open(url, method=method, data=data)
            body = response.get_data(as_text=True)
            assert response.status_code == 404, (method, url, response.status_code)
            assert ticket.summary not in body and "13812345678" not in body, url
            tried += 1
    assert tried >= len(FORMS) + 4
    city.db.expire_all()
    assert city.db.get(type(ticket), ticket.id).version == version_before
    assert city.db.query(Attachment).filter_by(ticket_id=ticket.id).count() == 1


def test_ticket_urls_of_a_ticket_that_does_not_exist_are_404_too(app, client, city) -> None:
    # The same answer as for someone else's ticket: ids cannot be used to probe.
    city.db.commit()
    login(client, "ustaff")
    for rule, method in scoped_rules(app):
        for url in fill(rule, 987654321, 1):
            response = client.open(url, method=method, data={"version": "1"})
            assert response.status_code == 404, (method, url)


def test_the_other_agency_does_not_see_it_listed_either(client, city, housing_ticket) -> None:
    ticket, _ = housing_ticket
    login(client, "ustaff")
    for query in ("", "?tab=involved", "?status=any", "?overdue=1", "?state=signed"):
        page = client.get("/" + query).get_data(as_text=True)
        assert f'data-ticket="{ticket.id}"' not in page and ticket.summary not in page, query


def test_an_assisting_agency_may_read_but_not_act(client, city) -> None:
    ticket = city.new_ticket()
    svc.dispatch(city.ctx(city.taker), ticket.id, lead_agency="housing", assisting=["urban"])
    city.db.commit()
    login(client, "ustaff")
    assert client.get(f"/tickets/{ticket.id}").status_code == 200
    response = client.post(
        f"/tickets/{ticket.id}/actions/sign_for", data={"version": str(ticket.version)}
    )
    assert response.status_code == 409 and "只有主办单位" in response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["hstaff", "ustaff"])
def test_12345_pages_are_refused_to_agency_staff(app, client, city, username) -> None:
    city.db.commit()
    login(client, username)
    prefixes = ("/review", "/desk", "/reports", "/admin")
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefixes) and not rule.arguments and "GET" in rule.methods
    ]
    assert {r.rule for r in rules} >= {"/review", "/desk/"}
    for rule in rules:
        assert client.get(rule.rule).status_code == 403, rule.rule
