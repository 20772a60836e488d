"""Supervisor reports on a small fixed data set whose every figure is computed by hand below.

The data set (Beijing time, March 2026; Mon 9th and Tue 10th are frozen, Wed 11th is live):

A1 住建局 general   派单 9th 09:00, 签收 09:30, 答复 15:00 (on time, resolved), 回访 非常满意,
                    办结 9th 17:00 (on time)
A2 住建局 utility   派单 9th 09:00 (签收 due 11:00), 签收 12:00 (late, within 24 h), 答复 10th
                    10:00 (due 10th 09:00: late, not resolved), 回访 不满意, 重办 10th 11:30
                    (new 签收 due 13:30: still open and overdue now)
A3 城管局 general   派单 9th 09:00, 退单申请 10:00, 同意退单 10:30; 派 东湖街道 9th 11:00,
                    签收 11:30, 延期申请 10th 09:00, 同意延期 09:30, 答复 10th 14:00 (on time,
                    resolved), 回访 11th 10:00 基本满意, 办结 11th 10:30 (on time)
A4 住建局 general   派单 9th 09:00, 签收 11th 10:00 (late, after 24 h)
B1 110 call → 12345 (110转12345), 派 城管局 9th 10:00; never signed: overdue now
B2 110 call, stays with 110, classifier: non_police     (非警情, not diverted)
B3 110 call, stays with 110, classifier: police         (警情)
B4 12345 call → 110 (12345转110), not dispatched
C1 12345 call answered directly (直办) 9th 16:00
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from hotline.domain.clock import CHINA_TZ
from hotline.domain.vocabulary import Direction
from hotline.services import tickets as svc
from hotline.services.intake import CallInput, open_ticket, register_call
from tests.factories import PASSWORD

MON, TUE, WED = date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA_TZ)


def login(client, username: str):
    return client.post("/login", data={"username": username, "password": PASSWORD})


class Data:
    def __init__(self, city) -> None:
        self.city = city
        self.ids: dict[str, int] = {}

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        self.city.clock.set(local(day, hour, minute))

    def taker(self):
        return self.city.ctx(self.city.taker)

    def boss(self):
        return self.city.ctx(self.city.supervisor)

    def staff(self, agency: str):
        user = {"housing": self.city.housing_staff, "urban": self.city.urban_staff}.get(agency)
        return self.city.ctx(user or self.street_staff)

    def ticket(
        self,
        name: str,
        *,
        hotline: str = "12345",
        direction=Direction.INTERNAL,
        routing=None,
        category: str | None = "城乡建设",
        summary=None,
    ) -> int:
        ctx = self.taker()
        call = register_call(ctx, CallInput(hotline=hotline, transcript=f"{name} 来电内容"))
        call.routing = routing
        ticket = open_ticket(
            ctx,
            call,
            direction=direction,
            category_level1=category,
            summary=summary or f"{name} 的诉求",
        )
        self.ids[name] = ticket.id
        return ticket.id


def build(city) -> Data:
    """The data set of the module docstring; returns the ticket ids by name."""
    from hotline.domain.vocabulary import Role
    from hotline.services.context import Actor, Context
    from hotline.services.directory import create_user

    d = Data(city)
    d.at(MON, 8)
    admin = Context(db=city.db, actor=Actor(role=Role.ADMIN), now=city.clock.now())
    d.street_staff = create_user(
        admin,
        username="sstaff",
        display_name="sstaff",
        role=Role.AGENCY_STAFF,
        password=PASSWORD,
        agency=city.street,
    )
    d.at(MON, 9)
    a1, a2, a3, a4 = (d.ticket(n) for n in ("A1", "A2", "A3", "A4"))
    svc.dispatch(d.taker(), a1, lead_agency="housing")
    svc.dispatch(d.taker(), a2, lead_agency="housing", deadline_policy="utility")
    svc.dispatch(d.taker(), a3, lead_agency="urban")
    svc.dispatch(d.taker(), a4, lead_agency="housing")
    d.at(MON, 9, 30)
    svc.sign_for(d.staff("housing"), a1)
    d.at(MON, 10)
    svc.request_return(
        d.staff("urban"),
        a3,
        reason_code="not_our_function",
        reason="属街道",
        suggested_agency="street",
    )
    b1 = d.ticket("B1", hotline="110", direction=Direction.TO_12345, summary="@SUM(A1) 井盖")
    svc.dispatch(d.taker(), b1, lead_agency="urban", deadline_policy="utility")
    d.ticket("B2", hotline="110", routing={"classifier_decision": "non_police"})
    d.ticket("B3", hotline="110", routing={"classifier_decision": "police"})
    d.ticket("B4", direction=Direction.TO_110, category="治安")
    d.at(MON, 10, 30)
    svc.decide_return(d.boss(), a3, approve=True)
    d.at(MON, 11)
    svc.dispatch(d.taker(), a3, lead_agency="street")
    d.at(MON, 11, 30)
    svc.sign_for(d.staff("street"), a3)
    d.at(MON, 12)
    svc.sign_for(d.staff("housing"), a2)
    d.at(MON, 15)
    svc.reply(d.staff("housing"), a1, contacted_caller=True, resolved=True, reply_text="已修复")
    d.at(MON, 16)
    c1 = d.ticket("C1", category=None)
    svc.answer_directly(d.taker(), c1, reply_text="已告知办理流程")
    svc.review_reply(d.boss(), a1, approve=True)
    svc.follow_up(d.taker(), a1, rating="very_satisfied")
    d.at(MON, 17)
    svc.close(d.boss(), a1)

    d.at(TUE, 9)
    svc.request_extension(d.staff("street"), a3, working_days=2, reason="需协调")
    d.at(TUE, 9, 30)
    svc.decide_extension(d.boss(), a3, approve=True)
    d.at(TUE, 10)
    svc.reply(d.staff("housing"), a2, contacted_caller=True, resolved=False, reply_text="处理中")
    svc.review_reply(d.boss(), a2, approve=True)
    d.at(TUE, 11)
    svc.follow_up(d.taker(), a2, rating="dissatisfied")
    d.at(TUE, 11, 30)
    svc.reopen(d.boss(), a2, reason="未解决")
    d.at(TUE, 14)
    svc.reply(d.staff("street"), a3, contacted_caller=True, resolved=True, reply_text="已清理")
    svc.review_reply(d.boss(), a3, approve=True)

    d.at(WED, 10)
    svc.follow_up(d.taker(), a3, rating="fairly_satisfied")
    svc.sign_for(d.staff("housing"), a4)
    d.at(WED, 10, 30)
    svc.close(d.boss(), a3)
    d.at(WED, 15)
    return d


# --- the expected figures, by hand from the module docstring -------------------------------

HOUSING = {
    "dispatched": 4,  # A1, A2, A4 + the 重办 of A2
    "signed": 3,  # A1, A2, A4
    "signed_on_time": 1,  # A1 (A2 at 12:00 after 11:00; A4 on the 11th after the 10th)
    "signed_within_24h": 2,  # A1, A2 (A4: 25 h)
    "replied": 2,  # A1, A2
    "replied_on_time": 1,  # A1
    "replied_late": 1,  # A2
    "resolved": 1,  # A1
    "contacted": 2,
    "handling_seconds": 6 * 3600 + 25 * 3600,  # A1 09:00→15:00, A2 9th 09:00→10th 10:00
    "handling_count": 2,
    "reopened": 1,
    "followed_up": 2,
    "very_satisfied": 1,
    "dissatisfied": 1,
    "closed": 1,  # A1
    "closed_on_time": 1,
}
URBAN = {"dispatched": 2, "returns_requested": 1, "returns_approved": 1}  # A3, B1
STREET = {
    "dispatched": 1,
    "signed": 1,
    "signed_on_time": 1,
    "signed_within_24h": 1,
    "extensions_requested": 1,
    "extensions_approved": 1,
    "replied": 1,
    "replied_on_time": 1,  # 10th 14:00, due extended to the 18th
    "resolved": 1,
    "contacted": 1,
    "handling_seconds": 27 * 3600,  # 9th 11:00 → 10th 14:00
    "handling_count": 1,
    "followed_up": 1,
    "fairly_satisfied": 1,
    "closed": 1,
    "closed_on_time": 1,
}
CENTRE = {
    "answered_directly": 1,  # C1
    "created_in_12345": 7,  # A1–A4, B2, B3 (110 kept on the platform), C1
    "transferred_110_to_12345": 1,  # B1
    "transferred_12345_to_110": 1,  # B4
    "non_police_110": 2,  # B1 (transferred), B2 (classifier: non_police)
    "diverted_110": 1,  # B1
}
# The city: the sum of the four above.
CITY_RATES = {
    "on_time_sign_for": 2 / 4,  # A1, A3 of 4 sign-fors
    "sign_for_within_24h": 3 / 4,
    "on_time_closure": 2 / 2,  # A1, A3
    "closure": 2 / 7,  # 2 closes / 7 dispatches (4 housing + 2 urban + 1 street)
    "on_time_reply": 2 / 3,
    "return": 1 / 7,
    "extension": 1 / 7,
    "reopen": 1 / 7,
    "satisfaction": 2 / 3,  # 非常满意 + 基本满意 of 3 rated
    "resolved": 2 / 3,
    "follow_up": 3 / 3,
    "diversion": 1 / 2,
}
CITY_HANDLING_HOURS = (6 + 25 + 27) / 3  # 19.33 h
OVERDUE_NOW = {"housing": 1, "urban": 1}  # A2 (new 签收 due 10th 13:30), B1 (due 9th 12:00)


def nonzero(counts) -> dict[str, int]:
    return {k: v for k, v in counts.as_dict().items() if v}


def city_sum() -> dict[str, int]:
    total: dict[str, int] = {}
    for part in (HOUSING, URBAN, STREET, CENTRE):
        for k, v in part.items():
            total[k] = total.get(k, 0) + v
    return total


PERIOD = {"from": "2026-03-09", "to": "2026-03-11"}


@pytest.fixture
def data(city):
    d = build(city)
    city.db.commit()  # only a savepoint: the test's outer transaction still rolls back
    return d


def table_of(db, now, **kwargs):
    from hotline.services.kpi_report import Period, kpi_table

    return kpi_table(db, Period(MON, WED), now, **kwargs)


def by_scope(table) -> dict[str, object]:
    return {row.scope: row for row in [*table.rows, table.city]}


def test_live_counts_and_rates_match_the_hand_computed_figures(data, city, db) -> None:
    table = table_of(db, city.clock.now())
    rows = by_scope(table)
    assert nonzero(rows[f"agency:{city.housing.id}"].counts) == HOUSING
    assert nonzero(rows[f"agency:{city.urban.id}"].counts) == URBAN
    assert nonzero(rows[f"agency:{city.street.id}"].counts) == STREET
    assert nonzero(table.city.counts) == city_sum()
    assert table.city.rates == pytest.approx(CITY_RATES)
    assert table.city.average_handling_hours == pytest.approx(CITY_HANDLING_HOURS)
    assert rows[f"agency:{city.housing.id}"].average_handling_hours == pytest.approx(15.5)
    assert rows[f"agency:{city.housing.id}"].overdue_now == 1
    assert rows[f"agency:{city.urban.id}"].overdue_now == 1
    assert table.city.overdue_now == 2
    assert table.totals.live_days == [MON, TUE, WED] and table.totals.frozen_days == []
    strict = table_of(db, city.clock.now(), include_fairly_satisfied=False)
    assert strict.city.rates["satisfaction"] == pytest.approx(1 / 3)  # only 非常满意


def test_frozen_days_plus_live_today_give_the_same_figures(data, city, db) -> None:
    from hotline.services.reports import CITY, freeze_day, period_counts

    assert freeze_day(db, MON, local(TUE, 0, 15)) > 0
    assert freeze_day(db, TUE, local(WED, 0, 15)) > 0
    table = table_of(db, city.clock.now())
    assert table.totals.frozen_days == [MON, TUE] and table.totals.live_days == [WED]
    assert nonzero(table.city.counts) == city_sum()
    assert table.city.rates == pytest.approx(CITY_RATES)
    rows = by_scope(table)
    assert nonzero(rows[f"agency:{city.housing.id}"].counts) == HOUSING
    # The frozen days alone: everything but Wednesday's 签收 (A4), 回访 and 办结 (A3).
    frozen = period_counts(db, MON, TUE)[CITY]
    assert (frozen.signed, frozen.followed_up, frozen.closed, frozen.dispatched) == (3, 2, 1, 7)
    # overdue_open is a stock: the report never adds it up over days.
    assert table.city.counts.overdue_open == 0


def test_minimum_volume_rule_ranks_only_agencies_with_enough_dispatches(city, db) -> None:
    # 20 tickets to 住建局 (all answered on time), 19 to 城管局 (all late): 城管局 is shown, not
    # ranked; 住建局 ranks first although it is alone.
    for n in range(39):
        agency = "housing" if n < 20 else "urban"
        ticket = city.new_ticket()
        svc.dispatch(city.ctx(city.taker), ticket.id, lead_agency=agency)
    from hotline.services.kpi_report import Period, kpi_table

    day = city.clock.now().astimezone(CHINA_TZ).date()
    table = kpi_table(db, Period(day, day), city.clock.now(), rank_by="return")
    rows = by_scope(table)
    housing, urban = rows[f"agency:{city.housing.id}"], rows[f"agency:{city.urban.id}"]
    assert (housing.counts.dispatched, housing.rankable, housing.rank) == (20, True, 1)
    assert (urban.counts.dispatched, urban.rankable, urban.rank) == (19, False, None)
    assert table.rows[0] is housing  # ranked rows first


# --- the web pages ---------------------------------------------------------------------------

DRILL_LINK = re.compile(r'<a class="drill" href="([^"]+)">\s*(\d+)\s*</a>')


def row_html(page: str, scope: str) -> str:
    start = page.index(f'data-scope="{scope}"')
    return page[start : page.index("</tr>", start)]


def cell(row: str, column: str) -> str:
    start = row.index(f'data-col="{column}"')
    text = row[row.index(">", start) + 1 : row.index("</td>", start)]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


def test_kpi_page_shows_the_hand_computed_figures(data, city, client) -> None:
    login(client, "boss")
    response = client.get("/reports/kpi", query_string=PERIOD)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "口径说明" in page and "样本不足，不参与排名" in page
    city_row = row_html(page, "city")
    assert cell(city_row, "派单次数") == "7"
    assert cell(city_row, "按时签收率") == "50.0% 2 / 4"
    assert cell(city_row, "24小时签收率") == "75.0% 3 / 4"
    assert cell(city_row, "按时办结率") == "100.0% 2 / 2"
    assert cell(city_row, "办结率") == "28.6% 2 / 7"
    assert cell(city_row, "按时答复率") == "66.7% 2 / 3"
    assert cell(city_row, "退单率") == "14.3% 1 / 7"
    assert cell(city_row, "延期率") == "14.3% 1 / 7"
    assert cell(city_row, "重办率") == "14.3% 1 / 7"
    assert cell(city_row, "满意率") == "66.7% 2 / 3"
    assert cell(city_row, "解决率") == "66.7% 2 / 3"
    assert cell(city_row, "回访率") == "100.0% 3 / 3"
    assert cell(city_row, "平均办理时长（小时）") == "19.3 （ 3 次答复）"
    assert cell(city_row, "超期答复件数") == "1"
    assert cell(city_row, "当前超期件数") == "2"
    assert cell(city_row, "分流率") == "50.0% 1 / 2"
    assert (cell(city_row, "110转12345"), cell(city_row, "12345转110")) == ("1", "1")
    housing = row_html(page, f"agency:{city.housing.id}")
    assert cell(housing, "按时签收率") == "33.3% 1 / 3" and cell(housing, "分流率") == "—"
    assert "样本不足，不参与排名" in housing  # 4 dispatches < 20
    strict = client.get("/reports/kpi", query_string={**PERIOD, "fairly": "0"})
    assert cell(row_html(strict.get_data(as_text=True), "city"), "满意率") == "33.3% 1 / 3"
    # Charts: inline SVG with a title and a table fallback; the week of the 9th.
    assert page.count("<svg") == 3 and "<title" in page and "<details>" in page
    assert "<td>2026-W11</td><td>7</td><td>3</td><td>2</td>" in re.sub(r"\s+", "", page)
    assert "<script" not in page.split("<main>")[1]


def test_every_number_drills_down_to_exactly_as_many_rows(data, city, client, db) -> None:
    from hotline.services.reports import freeze_day

    freeze_day(db, MON, local(TUE, 0, 15))  # one frozen day, two live: still equal
    db.commit()
    login(client, "boss")
    checked = 0
    for url in ("/reports/kpi?from=2026-03-09&to=2026-03-11", "/reports/overdue"):
        page = client.get(url).get_data(as_text=True)
        links = DRILL_LINK.findall(page)
        assert links
        for href, number in links:
            drill = client.get(html.unescape(href))
            assert drill.status_code == 200, href
            body = drill.get_data(as_text=True)
            total = re.search(r"data-drill-total>(\d+)<", body)
            assert total and total.group(1) == number, href
            assert body.count("<tr data-ticket=") == int(number), href
            checked += 1
    assert checked > 100


def test_drill_down_lists_the_events_behind_a_rate(data, city, client) -> None:
    login(client, "boss")
    query = {**PERIOD, "measure": "returns_approved", "agency": city.urban.id}
    page = client.get("/reports/tickets", query_string=query).get_data(as_text=True)
    assert f'data-ticket="{data.ids["A3"]}"' in page and "同意退单" in page
    query = {**PERIOD, "measure": "dispatched", "agency": city.housing.id}
    page = client.get("/reports/tickets", query_string=query).get_data(as_text=True)
    # A2 is listed twice: dispatched on the 9th and reopened on the 10th.
    assert page.count(f'data-ticket="{data.ids["A2"]}"') == 2 and "重办" in page
    assert re.search(r"data-drill-total>4<", page)


def test_overdue_list_groups_by_agency_and_working_days_late(data, city, client) -> None:
    login(client, "boss")
    page = client.get("/reports/overdue").get_data(as_text=True)
    assert "工作日" in page  # the page says how days are counted
    housing = row_after(page, f'data-agency="{city.housing.id}"')
    assert bucket_cell(housing, "1-3") == "1"  # A2: due Tue 13:30, now Wed: 1 working day
    # Monday 16th 10:00: A2 is 4 working days late (Wed–Fri, Mon), B1 5 (Tue–Fri, Mon).
    city.clock.set(local(date(2026, 3, 16), 10))
    page = client.get("/reports/overdue").get_data(as_text=True)
    housing = row_after(page, f'data-agency="{city.housing.id}"')
    urban = row_after(page, f'data-agency="{city.urban.id}"')
    assert (bucket_cell(housing, "3-5"), bucket_cell(housing, "total")) == ("1", "1")
    assert (bucket_cell(urban, "5+"), bucket_cell(urban, "1-3")) == ("1", "0")


def row_after(page: str, marker: str) -> str:
    start = page.index(marker)
    return page[start : page.index("</tr>", start)]


def bucket_cell(row: str, key: str) -> str:
    start = row.index(f'data-bucket="{key}"')
    return re.sub(r"<[^>]+>", "", row[row.index(">", start) + 1 : row.index("</td>", start)])


# --- exports -----------------------------------------------------------------------------------


def test_kpi_csv_and_xlsx_carry_the_same_figures(data, city, client) -> None:
    login(client, "boss")
    response = client.get("/reports/kpi", query_string={**PERIOD, "format": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert 'filename="kpi_2026-03-09_2026-03-11.csv"' in disposition
    assert "filename*=UTF-8''KPI%E7%BB%9F%E8%AE%A1_2026-03-09%E8%87%B32026-03-11.csv" in disposition
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the file as UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    city_row = next(r for r in rows if r["单位"] == "全市")
    assert city_row["派单次数"] == "7"
    assert (city_row["按时签收率·分子"], city_row["按时签收率·分母"]) == ("2", "4")
    assert float(city_row["按时签收率"]) == pytest.approx(0.5)
    assert float(city_row["分流率"]) == pytest.approx(0.5)
    assert city_row["当前超期件数"] == "2" and city_row["超期答复件数"] == "1"
    housing = next(r for r in rows if r["单位"] == "住建局")
    assert housing["参与排名"] == "样本不足，不参与排名" and housing["分流率"] == ""
    assert float(housing["平均办理时长（小时）"]) == pytest.approx(15.5)

    response = client.get("/reports/kpi", query_string={**PERIOD, "format": "xlsx"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(".xlsx")
    book = load_workbook(io.BytesIO(response.get_data()))
    sheet = book["KPI"]
    header = [c.value for c in sheet[1]]
    values = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(2, values_only=True)}
    assert values["全市"]["派单次数"] == 7
    assert values["全市"]["按时办结率"] == pytest.approx(1.0)
    assert values["全市"]["满意率"] == pytest.approx(2 / 3)
    assert values["全市"]["超期答复件数"] == 1 and values["全市"]["110转12345"] == 1
    assert values["城管局"]["退单率"] == pytest.approx(1 / 2)
    assert "口径说明" in book.sheetnames


def test_exports_neutralise_formulas_in_names_and_summaries(data, city, client, db) -> None:
    from hotline.domain.vocabulary import Role
    from hotline.services.context import Actor, Context
    from hotline.services.directory import create_agency

    admin = Context(db=db, actor=Actor(role=Role.ADMIN), now=city.clock.now())
    evil = create_agency(admin, code="evil", name='=HYPERLINK("http://x")', kind="government")
    ticket = data.ticket("E1", summary="-2+3 恶意")
    svc.dispatch(data.taker(), ticket, lead_agency="evil", deadline_policy="emergency")
    city.clock.set(local(WED, 18))
    db.commit()
    login(client, "boss")
    kpi_csv = client.get("/reports/kpi", query_string={**PERIOD, "format": "csv"}).get_data()
    names = [r["单位"] for r in csv.DictReader(io.StringIO(kpi_csv.decode("utf-8-sig")))]
    assert '\'=HYPERLINK("http://x")' in names and evil.name not in names
    overdue_csv = client.get("/reports/overdue", query_string={"format": "csv"}).get_data()
    rows = list(csv.DictReader(io.StringIO(overdue_csv.decode("utf-8-sig"))))
    summaries = {r["摘要"] for r in rows}
    assert {"'@SUM(A1) 井盖", "'-2+3 恶意"} <= summaries
    assert '\'=HYPERLINK("http://x")' in {r["承办单位"] for r in rows}
    book = load_workbook(
        io.BytesIO(client.get("/reports/overdue", query_string={"format": "xlsx"}).get_data())
    )
    cells = [c for row in book["明细"].iter_rows(values_only=True) for c in row]
    assert "'-2+3 恶意" in cells and not any(
        isinstance(c, str) and c.startswith(("=", "+", "-", "@")) for c in cells
    )
    summary = {r[0]: r for r in book["汇总"].iter_rows(2, values_only=True)}
    assert summary['\'=HYPERLINK("http://x")'][-1] == 1


# --- access and bad input ------------------------------------------------------------------

REPORT_URLS = (
    "/reports/kpi",
    "/reports/kpi?format=csv",
    "/reports/kpi?format=xlsx",
    "/reports/overdue",
    "/reports/overdue?format=xlsx",
    "/reports/tickets?measure=dispatched",
    "/reports/tickets?kind=overdue",
)


@pytest.mark.parametrize("user", ["taker", "hstaff", "ustaff"])
def test_only_supervisors_and_admins_see_reports(data, client, user) -> None:
    login(client, user)
    for url in REPORT_URLS:
        assert client.get(url).status_code == 403, url
    assert "统计报表" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("user", ["boss", "admin"])
def test_supervisors_and_admins_get_every_report(data, client, user) -> None:
    login(client, user)
    for url in REPORT_URLS:
        assert client.get(url).status_code == 200, url


def test_reports_need_login(client) -> None:
    response = client.get("/reports/kpi")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("/reports/kpi?from=2026-13-01", "日期“2026-13-01”无效"),
        ("/reports/kpi?from=yesterday", "应为 YYYY-MM-DD"),
        ("/reports/kpi?from=2026-03-11&to=2026-03-01", "结束日期不能早于开始日期"),
        ("/reports/kpi?from=2025-01-01&to=2026-03-01", "不能超过 400 天"),
        ("/reports/kpi?rank=nope", "未知的排名指标"),
        ("/reports/kpi?fairly=maybe", "应为 1（是）或 0（否）"),
        ("/reports/kpi?format=pdf", "未知的导出格式"),
        ("/reports/overdue?agency=99999", "未知的承办单位"),
        ("/reports/overdue?agency=abc", "未知的承办单位"),
        ("/reports/tickets?measure=dispatched&agency=99999", "未知的承办单位"),
        ("/reports/tickets?measure=handling_seconds", "未知的统计项"),
        ("/reports/tickets", "未知的统计项"),
        ("/reports/tickets?kind=overdue&bucket=9", "未知的超期分组"),
        ("/reports/tickets?kind=other", "未知的明细类型"),
    ],
)
def test_bad_parameters_get_a_clear_chinese_answer(data, client, query, message) -> None:
    login(client, "boss")
    response = client.get(query)
    assert response.status_code == 422, query
    assert message in response.get_data(as_text=True)
