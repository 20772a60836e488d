"""Bad-input drill: what the live stack (gunicorn + PostgreSQL) refuses, and that it never breaks.

    .venv/bin/python -m drills.bad_input [--short]

1. Schema-driven fuzzing of the whole API over HTTP (schemathesis), counted by status: no 5xx,
   every answer as the OpenAPI description says.
2. The hostile corpus (drills/hostile.py) through the API intake, the desk, the workbench
   forms, the admin agency form, the inbox filters and the log-in form: no 5xx; a refusal is a
   4xx with a Chinese message (JSON refusals also name the field); an accepted value is stored
   as sent (less surrounding space) and shown back escaped; no page carries raw markup.
3. The exports (/reports/* CSV and XLSX) with hostile ticket summaries and agency names: no
   text cell starts with = + - @ tab or CR, and no cell is a formula.
4. The store audit (``hotline check``) and every call the API said it transferred has exactly
   one ticket.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from urllib.parse import urlencode

import sqlalchemy as sa
from markupsafe import escape
from openpyxl import load_workbook

from drills import hostile
from drills._fuzz import fuzz
from drills._http import CSRF_META, RAW_SERVER, Browser, Tally, chinese_message, form_values
from drills.common import fresh_database, machine, prepare, running, today, verdict
from hotline.services.kpi_report.export import FORMULA_STARTS

DATABASE = "hotline_drill_badinput"
PORT = 8791
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Outcomes:
    """Per entry point: how many values were accepted, refused, or broke a rule."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.unnamed_fields: Counter[str] = Counter()

    def judge(
        self,
        entry: str,
        value: hostile.Hostile,
        response,
        *,
        accepted: bool,
        enforce: bool = True,
        json_field: bool = False,
    ) -> bool:
        """Record one answer; returns whether the value was accepted."""
        status = response.status_code
        what = f"{entry} ← {value.name}"
        if status >= 500:
            self.counts[entry]["5xx"] += 1
            return False  # the tally has the details
        if accepted:
            self.counts[entry]["accepted"] += 1
            if enforce and value.expect == "refuse":
                self.tally.fail(f"{what}: accepted ({status}), should be refused")
            return True
        said = (chinese_message(response) or "")[:80]
        self.counts[entry]["refused"] += 1
        if not 400 <= status < 500:
            self.tally.fail(f"{what}: neither accepted nor a 4xx refusal ({status})")
        elif chinese_message(response) is None:
            self.tally.fail(f"{what}: refused ({status}) without a Chinese message")
        elif json_field and status == 422 and "field" not in response.json():
            self.tally.fail(f"{what}: 422 without the field at fault")
        elif json_field and status != 422:
            self.unnamed_fields[f"{status} {response.json().get('error')}"] += 1
        if enforce and value.expect == "accept":
            self.tally.fail(f"{what}: refused ({status} {said}), should be accepted")
        return False

    def lines(self) -> list[str]:
        out = []
        for entry, counts in self.counts.items():
            out.append(
                f"  {entry:<34} accepted {counts['accepted']:>3}, refused {counts['refused']:>3}"
                f", 5xx {counts['5xx']}"
            )
        if self.unnamed_fields:
            listed = ", ".join(f"{k} ×{n}" for k, n in sorted(self.unnamed_fields.items()))
            out.append(f"  refusals before any field is read (whole body or header): {listed}")
        return out


def _json_body(field: str, value: hostile.Hostile, base: dict[str, object]) -> bytes:
    """The request body with ``field`` set to the hostile value: text as UTF-8, a lone
    surrogate as its JSON escape, bytes spliced in raw (which makes the body invalid UTF-8)."""
    if isinstance(value.value, bytes):
        marker = "HOSTILE-BYTES-HERE"
        text = json.dumps({**base, field: marker}, ensure_ascii=False).encode()
        return text.replace(marker.encode(), value.value)
    return json.dumps({**base, field: value.value}, ensure_ascii=not value.is_text).encode()


def _form(fields: dict[str, object]) -> str:
    # A lone surrogate goes out as the (invalid) UTF-8 bytes a broken client would send.
    return urlencode(fields, errors="surrogatepass")


def _stored(db_url: str, sql: str, **params: object):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).all()
    finally:
        engine.dispose()


# --- the entry points ----------------------------------------------------------------------

_people: dict[tuple[str, str], Browser] = {}


def person(base: str, tally: Tally, username: str) -> Browser:
    """One logged-in browser per user for the whole drill: a log-in costs a password hash."""
    if (base, username) not in _people:
        _people[base, username] = Browser(base, tally).logged_in(username)
    return _people[base, username]


# The short drill sends every value through the field that matters most at each entry point.
API_FIELDS = ("transcript", "caller_name", "location_text", "district", "external_id")
API_FIELDS += ("caller_number",)
DESK_FIELDS = ("transcript", "caller_number", "district")


def api_intake(
    base, key, values, out: Outcomes, tally: Tally, db_url: str, shown, fields=API_FIELDS
) -> set[int]:
    browser = Browser(base, tally, "api")
    transferred: set[int] = set()
    accepted_transcripts: set[str] = set()
    for field in fields:
        for value in values:
            base_body = {"transcript": "城东区路灯不亮", "caller_number": "13800001111"}
            body = _json_body(field, value, base_body)
            response = browser.post(
                "/api/v1/calls",
                data=body,
                headers={
                    "X-API-Key": key,
                    "Idempotency-Key": uuid.uuid4().hex,
                    "Content-Type": "application/json",
                },
                what=f"API {field} ← {value.name}",
            )
            ok = response.status_code in (201, 202)
            accepted = out.judge(
                f"API POST /calls {field}",
                value,
                response,
                accepted=ok,
                enforce=field == "transcript",
                json_field=True,
            )
            if not accepted:
                continue
            call_id = response.json()["call_id"]
            if response.status_code == 201:
                transferred.add(call_id)
            if field == "transcript":
                accepted_transcripts.add(value.name)
            if field == "transcript" and value.is_text:
                (stored,) = _stored(db_url, "SELECT transcript FROM calls WHERE id=:i", i=call_id)
                if stored[0] != value.value.strip():  # type: ignore[union-attr]
                    tally.fail(f"API transcript ← {value.name}: stored differently")
                ticket = response.json().get("ticket")
                if ticket:
                    shown.append((ticket["id"], stored[0], f"API transcript ← {value.name}"))
    keywords = [v for v in values if v.name == "10,000 short keywords"]
    if keywords and "10,000 short keywords" not in accepted_transcripts:
        tally.fail("API transcript of 10,000 routing keywords (at the limit): not accepted")
    return transferred


def desk(base, values, out: Outcomes, tally: Tally, shown, fields=DESK_FIELDS) -> None:
    taker = person(base, tally, "calltaker")
    page = taker.get("/desk/").text
    token = CSRF_META.search(page).group(1)  # type: ignore[union-attr]
    # A destination of the desk's own list: a call the rules send to review still transfers.
    destination = re.search(r'<option value="(12345:[^"]+)"', page).group(1)  # type: ignore[union-attr]
    headers = {"Content-Type": "application/json", "X-CSRFToken": token}
    for field in fields:
        for value in values:
            base_body = {"transcript": "城东区路灯不亮", "reason": "演练：人工改派"}
            body = _json_body(field, value, base_body)
            route = taker.post("/desk/route", data=body, headers=headers)
            out.judge(
                f"desk /route {field}",
                value,
                route,
                accepted=route.status_code == 200,
                enforce=field == "transcript",
                json_field=True,
            )
            key = uuid.uuid4().hex
            transfer = {**base_body, "idempotency_key": key, "destination": destination}
            body = _json_body(field, value, transfer)
            moved = taker.post("/desk/transfer", data=body, headers=headers)
            accepted = out.judge(
                f"desk /transfer {field}",
                value,
                moved,
                accepted=moved.status_code in (200, 201),
                enforce=field == "transcript",
                json_field=True,
            )
            if accepted and field == "transcript" and value.is_text:
                shown.append((moved.json()["ticket_id"], value.value.strip(), "desk transfer"))


def _act(browser: Browser, ticket_id: int, key: str, fields: dict[str, object]):
    page = browser.get(f"/tickets/{ticket_id}").text
    action = f"/tickets/{ticket_id}/actions/{key}"
    values = form_values(page, action)
    if "version" not in values:
        raise RuntimeError(f"{browser.name} has no {key} form on ticket {ticket_id}")
    return browser.post(action, data=_form({**values, **fields}), headers=FORM)


def workbench(base, values, out: Outcomes, tally: Tally, ticket_id: int, lead: str) -> None:
    staff = person(base, tally, lead)
    boss = person(base, tally, "supervisor")
    uses = [
        (staff, "record_progress", "note", {}),
        (boss, "chase", "note", {}),
        (boss, "reclassify", "category_level1", {"reason": "分类调整演练"}),
        (boss, "reclassify", "reason", {}),
    ]
    for browser, key, field, extra in uses:
        for n, value in enumerate(values):
            if key == "reclassify" and field == "reason":
                extra = {"category_level1": f"演练分类{n}"}  # a change, so the reason is read
            response = _act(browser, ticket_id, key, {**extra, field: value.value})
            accepted = out.judge(
                f"workbench {key} {field}",
                value,
                response,
                accepted=response.status_code == 302,
                # Raw bytes in a form are decoded with replacement characters, not refused;
                # a short field (category, 32) may rightly refuse a long accept-value.
                enforce=value.is_text and (value.expect == "refuse" or field == "note"),
            )
            if accepted and value.is_text and field != "category_level1":
                page = browser.get(f"/tickets/{ticket_id}").text
                if str(escape(value.value.strip())) not in page:  # type: ignore[union-attr]
                    tally.fail(f"workbench {key} {field} ← {value.name}: not shown back")


def admin_agency(base, values, out: Outcomes, tally: Tally, agency_id: int) -> None:
    admin = person(base, tally, "admin")
    path = f"/admin/agencies/{agency_id}/edit"
    for field in ("name", "contact_name"):
        for value in values:
            current = form_values(admin.get(path).text, path)
            body = _form({**current, field: value.value})
            response = admin.post(path, data=body, headers=FORM)
            accepted = out.judge(
                f"admin agency {field}",
                value,
                response,
                accepted=response.status_code == 302,
                enforce=value.is_text and value.expect == "refuse",
            )
            if accepted and value.is_text:
                listing = admin.get("/admin/agencies").text
                if field == "name" and str(escape(value.value.strip())) not in listing:  # type: ignore[union-attr]
                    tally.fail(f"admin agency name ← {value.name}: not shown back")


def inbox_filters(base, values, out: Outcomes, tally: Tally, lead: str) -> None:
    for user in ("supervisor", lead):
        browser = person(base, tally, user)
        for value in values:
            query = _form({"category": value.value, "district": value.value})
            if len(query) > 4000:
                # gunicorn refuses a request line over 4094 bytes before the app sees it.
                response = browser.get("/?" + query, headers={RAW_SERVER: "1"})
                if response.status_code not in (400, 414):
                    tally.fail(f"inbox ← {value.name}: {response.status_code} for a huge URL")
                out.counts["inbox filters (gunicorn limit)"]["refused"] += 1
                continue
            response = browser.get("/?" + query)
            out.judge(
                "inbox filters",
                value,
                response,
                accepted=response.status_code == 200,
                enforce=value.is_text and value.expect == "refuse",
            )


def login_form(base, values, out: Outcomes, tally: Tally, fields=("username", "password")) -> None:
    browser = Browser(base, tally)
    for value in values:
        for field in fields:
            token = browser.csrf("/login")
            fields = {"username": "nobody", "password": "x", field: value.value}
            body = _form({**fields, "csrf_token": token})
            response = browser.post("/login", data=body, headers=FORM)
            # The form answers 200 with the reason (or 429 once locked), never lets in.
            entry = out.counts[f"log-in {field}"]
            if response.status_code >= 500:
                entry["5xx"] += 1
            elif response.status_code not in (200, 400, 429) or "用户名" not in response.text:
                tally.fail(f"log-in {field} ← {value.name}: {response.status_code}")
            else:
                entry["refused"] += 1


# --- exports ---------------------------------------------------------------------------------


def plant_overdue(db_url: str, summaries: list[str], lead: str) -> int:
    """Tickets with hostile summaries, dispatched 20 days ago so they are overdue now. The API
    cannot back-date a ticket, so these go through the services in-process, as the seed does."""
    from hotline import create_app
    from hotline.extensions import db
    from hotline.models import User
    from hotline.services import tickets
    from hotline.services.context import Actor, Context
    from hotline.services.intake import CallInput, open_ticket, register_call

    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "drill"})
    planted = 0
    with app.app_context():
        taker = db.session.scalar(sa.select(User).where(User.username == "calltaker"))
        then = app.extensions["hotline.clock"].now() - timedelta(days=20)
        ctx = Context(
            db=db.session,
            actor=Actor.of(taker),
            now=then,
            calendar=app.extensions["hotline.calendar"],
            policies=app.extensions["hotline.policies"],
        )
        for summary in summaries:
            call = register_call(ctx, CallInput(hotline="12345", transcript="导出演练：" + summary))
            ticket = open_ticket(ctx, call, summary=summary)
            tickets.dispatch(ctx, ticket.id, lead_agency=lead)
            planted += 1
        db.session.commit()
    return planted


def exports(base, tally: Tally, formulas: list[str]) -> list[str]:
    boss = person(base, tally, "supervisor")
    expected = {"'" + f if f.startswith(FORMULA_STARTS) else f for f in formulas}
    lines = []
    for path in ("/reports/overdue", "/reports/kpi"):
        for fmt in ("csv", "xlsx"):
            response = boss.get(f"{path}?format={fmt}")
            if response.status_code != 200:
                tally.fail(f"export {path} {fmt}: {response.status_code}")
                continue
            cells = _cells(response.content, fmt)
            live = [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_STARTS)]
            guarded = sum(1 for c in cells if isinstance(c, str) and c in expected)
            if live:
                tally.fail(f"export {path} {fmt}: live formula cells {live[:3]!r}")
            if path.endswith("overdue") and guarded < len(formulas):
                tally.fail(f"export {path} {fmt}: {guarded} of {len(formulas)} planted found")
            lines.append(
                f"  {path}?format={fmt}: {len(cells)} cells, {guarded} hostile cells "
                f"neutralised, {len(live)} live"
            )
    return lines


def _cells(content: bytes, fmt: str) -> list[object]:
    if fmt == "csv":
        rows = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))
        return [cell for row in rows for cell in row]
    book = load_workbook(io.BytesIO(content))
    found: list[object] = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                # A formula cell holds "=..." with data_type "f"; the check above catches it.
                found.append(cell.value)
    return found


# --- the drill ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the CI version (about a minute)")
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args(argv)
    examples = 25 if args.short else 500
    started = time.monotonic()
    print(f"bad-input drill ({'short' if args.short else 'long'}), {today()}, {machine()}")

    db_url = fresh_database(args.database)
    keys = prepare(db_url, tickets=0)
    values = hostile.sample(args.short)
    formulas = [*hostile.FORMULAS, '"><img src=x onerror=alert(1)>']
    plant_overdue(db_url, formulas, "housing")
    (signed,) = _stored(
        db_url,
        "SELECT t.id FROM tickets t JOIN agencies a ON a.id = t.lead_agency_id "
        "WHERE a.code='housing' ORDER BY t.id LIMIT 1",
    )
    (agency,) = _stored(db_url, "SELECT id FROM agencies WHERE code='market'")
    ready = time.monotonic() - started

    tally = Tally()
    out = Outcomes(tally)
    shown: list[tuple[int, str, str]] = []
    with running(db_url, port=args.port, workers=2) as stack:
        t0 = time.monotonic()
        fuzzed = fuzz(stack.url, keys["12345"], examples, derandomize=args.short)
        fuzz_seconds = time.monotonic() - t0
        t0 = time.monotonic()
        few = args.short
        transferred = api_intake(
            stack.url,
            keys["110"],
            values,
            out,
            tally,
            db_url,
            shown,
            fields=("transcript", "caller_name", "caller_number") if few else API_FIELDS,
        )
        desk(stack.url, values, out, tally, shown, ("transcript",) if few else DESK_FIELDS)
        _sign(stack.url, tally, signed[0], "housing")
        workbench(stack.url, values, out, tally, signed[0], "housing")
        admin_agency(stack.url, values, out, tally, agency[0])
        inbox_filters(stack.url, values, out, tally, "housing")
        export_lines = exports(stack.url, tally, formulas)
        viewer = person(stack.url, tally, "supervisor")
        for ticket_id, text, what in shown:
            page = viewer.get(f"/tickets/{ticket_id}").text
            if str(escape(text)) not in page:
                tally.fail(f"{what}: ticket {ticket_id} does not show the text back")
        # A failed log-in costs a password hash (~0.3 s): the short drill tries names only.
        # Last: failures lock 127.0.0.1 for a while.
        login_fields = ("username",) if few else ("username", "password")
        login_form(stack.url, values, out, tally, login_fields)
        corpus_seconds = time.monotonic() - t0
        logs = stack.logs

    audit = verdict(db_url, transferred | fuzzed.transferred)
    mismatches = [m for m in fuzzed.mismatches if m]
    print(f"set-up (schema, demo city, planted tickets): {ready:.1f} s")
    print(
        f"fuzz: {sum(fuzzed.statuses.values())} requests in {fuzz_seconds:.1f} s "
        f"({examples} examples per operation and mode), 5xx: {fuzzed.server_errors}, "
        f"answers not as described: {len(fuzzed.mismatches)}"
    )
    for label, counts in fuzzed.by_operation.items():
        print(f"  {label:<28} " + ", ".join(f"{s}: {n}" for s, n in sorted(counts.items())))
    for line in mismatches[:5]:
        print(f"  ! {line[:300]}")
    print(f"hostile corpus: {len(values)} values, {corpus_seconds:.1f} s, {tally.summary()}")
    print(*out.lines(), sep="\n")
    print("exports:", *export_lines, sep="\n")
    print(
        f"API calls accepted: {len(transferred | fuzzed.transferred)} transferred, "
        f"{len(fuzzed.queued)} queued for review"
    )
    print("store audit:", *audit.lines, sep="\n  ")
    for problem in tally.problems[:30]:
        print(f"  ! {problem[:300]}")
    if len(tally.problems) > 30:
        print(f"  ! … {len(tally.problems) - 30} more")
    ok = fuzzed.server_errors == 0 and not fuzzed.mismatches and not tally.problems and audit.ok
    print(f"logs: {logs}")
    print(f"bad-input drill: {'PASS' if ok else 'FAIL'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


def _sign(base: str, tally: Tally, ticket_id: int, lead: str) -> None:
    """The planted ticket is dispatched; its lead agency signs for it so progress notes fit."""
    staff = person(base, tally, lead)
    response = _act(staff, ticket_id, "sign_for", {})
    if response.status_code != 302:
        tally.fail(f"signing ticket {ticket_id}: {response.status_code}")


if __name__ == "__main__":
    sys.exit(main())
