"""Supervisor reports: overdue list, KPI table, charts, drill-down, CSV / Excel export.

Read-only pages for supervisors and admins. Not agency-scoped: anyone else gets 403. Query
parameters are checked by the service (a ValidationError answers 422 in Chinese).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from hotline.domain.clock import to_local
from hotline.domain.errors import ValidationError
from hotline.domain.kpis import MIN_VOLUME_FOR_RANKING
from hotline.domain.vocabulary import Role
from hotline.services.kpi_report import charts, drill, layout, overdue
from hotline.services.kpi_report.export import content_disposition, to_csv, to_xlsx
from hotline.services.kpi_report.period import parse_period
from hotline.services.kpi_report.table import kpi_table
from hotline.web import request_context

bp = Blueprint("reports", __name__, url_prefix="/reports")

REPORT_ROLES = {Role.SUPERVISOR, Role.ADMIN}
FORMATS = ("html", "csv", "xlsx")


@bp.before_request
def supervisors_only() -> Any:
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if Role(current_user.role) not in REPORT_ROLES:
        abort(403)
    return None


@bp.get("/")
def index():
    return redirect(url_for("reports.kpi"))


@bp.get("/kpi")
def kpi():
    ctx = request_context()
    args = request.args
    period = parse_period(args.get("from"), args.get("to"), to_local(ctx.now).date())
    fairly = _flag(args.get("fairly"), "fairly", default=True)
    table = kpi_table(
        ctx.db, period, ctx.now, rank_by=args.get("rank"), include_fairly_satisfied=fairly
    )
    fmt = _format()
    stem = f"KPI统计_{period.first.isoformat()}至{period.last.isoformat()}"
    ascii_stem = f"kpi_{period.first.isoformat()}_{period.last.isoformat()}"
    if fmt == "csv":
        body = to_csv(layout.export_header(table), layout.export_rows(table))
        return _download(body, f"{stem}.csv", f"{ascii_stem}.csv", "text/csv; charset=utf-8")
    if fmt == "xlsx":
        defs = [(c.label, c.definition) for c in layout.columns(table)]
        body = to_xlsx(
            [
                ("KPI", layout.export_header(table), layout.export_rows(table)),
                ("口径说明", ("指标", "口径"), defs),
            ],
            {"KPI": layout.percent_columns(table)},
        )
        return _download(body, f"{stem}.xlsx", f"{ascii_stem}.xlsx", XLSX)
    overdue_list = overdue.overdue_tickets(ctx.db, ctx.calendar, ctx.now)
    groups = overdue.overdue_groups(ctx.db, overdue_list)
    trend = charts.weekly_trend(table.totals)
    mix = charts.category_mix(ctx.db, period)
    by_agency = charts.horizontal_bars(
        "各单位当前超期工单",
        "此刻仍未办结且已过当前时限的工单数，按承办单位。",
        [(g.name, g.total) for g in groups],
    )
    query = {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "rank": table.rank_by.key,
        "fairly": "1" if fairly else "0",
    }
    return render_template(
        "reports/kpi.html",
        table=table,
        columns=layout.columns(table),
        value=layout.value,
        fraction=layout.fraction,
        query=query,
        period_query={"from": query["from"], "to": query["to"]},
        charts=[trend, mix, by_agency],
        minimum=MIN_VOLUME_FOR_RANKING,
        now=ctx.now,
    )


@bp.get("/overdue")
def overdue_list():
    ctx = request_context()
    agency = drill.parse_agency(ctx.db, request.args.get("agency"))
    tickets = overdue.overdue_tickets(
        ctx.db, ctx.calendar, ctx.now, agency_id=agency.id if agency else None
    )
    groups = overdue.overdue_groups(ctx.db, tickets)
    fmt = _format()
    if fmt != "html":
        return _overdue_export(ctx.db, fmt, groups, tickets, ctx.now)
    chart = charts.horizontal_bars(
        "各单位超期工单", "按承办单位的当前超期工单数。", [(g.name, g.total) for g in groups]
    )
    return render_template(
        "reports/overdue.html",
        groups=groups,
        buckets=overdue.BUCKETS,
        totals=overdue.bucket_totals(groups),
        total=len(tickets),
        days_rule=overdue.DAYS_RULE,
        agency=agency,
        chart=chart,
        now=ctx.now,
    )


@bp.get("/tickets")
def tickets():
    """The tickets (events) behind one number: ``measure`` with a period, or ``kind=overdue``."""
    ctx = request_context()
    args = request.args
    agency = drill.parse_agency(ctx.db, args.get("agency"))
    kind = args.get("kind", "events")
    if kind == "overdue":
        bucket = overdue.parse_bucket(args.get("bucket"))
        result = drill.overdue_drill(ctx.db, ctx.calendar, ctx.now, agency, bucket)
        back = url_for("reports.overdue_list")
    elif kind == "events":
        measures = drill.parse_measures(args.get("measure"))
        period = parse_period(args.get("from"), args.get("to"), to_local(ctx.now).date())
        result = drill.event_drill(ctx.db, period, measures, agency)
        back = url_for("reports.kpi", **{"from": period.first, "to": period.last})
    else:
        raise ValidationError("kind", f"未知的明细类型“{kind}”，可选：events、overdue")
    return render_template("reports/tickets.html", drill=result, back=back, limit=drill.MAX_ROWS)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _overdue_export(db, fmt: str, groups, tickets, now: datetime) -> Response:
    stamp = to_local(now).strftime("%Y%m%d-%H%M")
    detail_header = ("工单编号", "承办单位", "摘要", "状态", "当前时限", "超期工作日", "超期分组")
    found = drill.tickets_by_id(db, {t.ticket_id for t in tickets})
    names = {g.agency_id: g.name for g in groups}
    detail = [
        (
            found[t.ticket_id].number,
            names.get(t.agency_id, overdue.UNASSIGNED),
            found[t.ticket_id].summary,
            found[t.ticket_id].state.label,
            to_local(t.due_at).strftime("%Y-%m-%d %H:%M"),
            t.days_late,
            t.bucket.label,
        )
        for t in tickets
    ]
    if fmt == "csv":
        body = to_csv(detail_header, detail)
        return _download(
            body, f"超期清单_{stamp}.csv", f"overdue_{stamp}.csv", "text/csv; charset=utf-8"
        )
    summary_header = ("承办单位", *(b.label for b in overdue.BUCKETS), "合计")
    summary = [(g.name, *g.by_bucket.values(), g.total) for g in groups]
    body = to_xlsx([("汇总", summary_header, summary), ("明细", detail_header, detail)])
    return _download(body, f"超期清单_{stamp}.xlsx", f"overdue_{stamp}.xlsx", XLSX)


def _download(body: bytes, filename: str, fallback: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, fallback)
    response.headers["Cache-Control"] = "no-store"  # reports name people's cases
    return response


def _format() -> str:
    fmt = request.args.get("format", "html")
    if fmt not in FORMATS:
        raise ValidationError("format", f"未知的导出格式“{fmt}”，可选：csv、xlsx")
    return fmt


def _flag(raw: str | None, field: str, *, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    if raw in ("1", "0"):
        return raw == "1"
    raise ValidationError(field, "应为 1（是）或 0（否）")
