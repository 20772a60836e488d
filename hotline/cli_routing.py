"""`hotline rules check|diff` and `hotline route`: the routing rules from the command line.

Analysts replay calls through a rule set before it goes live; acceptance checks route a CSV of
transcripts and read one JSON object per row back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from classifier.data import DataError, read_csv
from hotline.domain.clock import ensure_aware
from hotline.rules.engine import CallFacts
from hotline.rules.schema import RulesError, RuleSet, load_rules

_FILE = click.Path(exists=False, dir_okay=False, path_type=Path)


@click.group("rules")
def rules_group() -> None:
    """Routing rules (routing_rules.yaml): check a file, compare two."""


@rules_group.command("check")
@click.argument("file", type=_FILE)
@click.option("--no-db", is_flag=True, help="Do not look agency codes up in the database.")
@with_appcontext
def check(file: Path, no_db: bool) -> None:
    """Validate FILE: schema, agency codes, deadline policies, unreachable rules."""
    ruleset = _load(file, check_agencies=not no_db)
    click.echo(
        f"{file}: 有效 — 版本 {ruleset.version}，{ruleset.city}，"
        f"安全规则 {len(ruleset.safety_rules)} 条，普通规则 {len(ruleset.rules)} 条"
    )
    for warning in ruleset.warnings:
        click.echo(f"警告：{warning}")
    if ruleset.police_first_notes:
        click.echo(
            f"警情优先（引擎保证，不可关闭）：以下 {len(ruleset.police_first_notes)} 处"
            "遇到分类器强判警情的来电时不按原去向处置"
        )
        for note in ruleset.police_first_notes:
            click.echo(f"  提示：{note}")


@rules_group.command("diff")
@click.argument("old", type=_FILE)
@click.argument("new", type=_FILE)
@click.option("--calls", "calls_file", type=_FILE, required=True, help="CSV of calls to replay.")
@click.option("--text-column", default="text", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per changed call.")
@with_appcontext
def diff(old: Path, new: Path, calls_file: Path, text_column: str, as_json: bool) -> None:
    """Replay CALLS through OLD and NEW rules; report every call whose destination changes."""
    from hotline.extensions import app_router

    before, after = _load(old, check_agencies=False), _load(new, check_agencies=False)
    calls = list(_calls(calls_file, text_column))
    router = app_router(current_app._get_current_object())
    old_routes = router.route_many(calls, rules=before)
    new_routes = router.route_many(calls, rules=after)
    changed = 0
    for row, (call, a, b) in enumerate(zip(calls, old_routes, new_routes, strict=True), start=1):
        key_a = (a.decision.decision, a.decision.destination, a.decision.also)
        key_b = (b.decision.decision, b.decision.destination, b.decision.also)
        if key_a == key_b:
            continue
        changed += 1
        if as_json:
            record = {
                "row": row,
                "text": call.text,
                "old": a.decision.to_dict(),
                "new": b.decision.to_dict(),
            }
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            click.echo(
                f"第 {row} 行 {call.text[:30]!r}: {_where(a)} [{','.join(a.decision.rules)}]"
                f" → {_where(b)} [{','.join(b.decision.rules)}]"
            )
    versions = f"旧版本 {before.version} → 新版本 {after.version}"
    summary = f"{len(calls)} 个来电中去向改变 {changed} 个（{versions}）"
    click.echo(summary, err=as_json)


@rules_group.command("evaluate")
@click.argument("calls_file", type=_FILE)
@click.option("--rules", "rules_file", type=_FILE, help="Rules file (default: the app's).")
@click.option("--text-column", default="text", show_default=True)
@click.option("--label-column", default="police", show_default=True, help="1 / 0 per row.")
@click.option("--slice-column", default=None, help="Report each value of this column apart.")
@click.option("--json", "as_json", is_flag=True, help="The figures as one JSON object.")
@with_appcontext
def evaluate(
    calls_file: Path,
    rules_file: Path | None,
    text_column: str,
    label_column: str,
    slice_column: str | None,
    as_json: bool,
) -> None:
    """Route labelled CALLS and measure: police matters that reached police, civic matters
    that reached 12345, per slice. Police matters sent to 12345 are listed one by one."""
    from hotline.extensions import app_router
    from hotline.rules.evaluation import summarise

    ruleset = _load(rules_file, check_agencies=False) if rules_file else None
    try:
        rows = read_csv(calls_file, (text_column, label_column, *filter(None, [slice_column])))
    except DataError as exc:
        raise click.ClickException(str(exc)) from exc
    labels = []
    for number, row in enumerate(rows, start=2):
        value = (row[label_column] or "").strip()
        if value not in ("0", "1"):
            raise click.ClickException(f"第 {number} 行 {label_column} 应为 0 或 1：{value!r}")
        labels.append(value == "1")
    calls = list(_calls(calls_file, text_column))
    routed = app_router(current_app._get_current_object()).route_many(calls, rules=ruleset)
    figures = summarise(
        ((row.get(slice_column) or "") if slice_column else "全部", label, r.decision, c.text)
        for row, label, r, c in zip(rows, labels, routed, calls, strict=True)
    )
    if as_json:
        click.echo(
            json.dumps({k: v.to_dict() for k, v in figures.items()}, ensure_ascii=False, indent=1)
        )
        return
    for name, f in figures.items():
        parts = [f"【{name}】"]
        if f.police:
            parts.append(
                f"警情 {f.police} 个：到达 110 {f.police_reached}，人工研判 {f.police_reviewed}，"
                f"误转 12345 {f.police_to_12345}（警情召回 {f.police_recall:.3f}）"
            )
        if f.civic:
            parts.append(
                f"非警情 {f.civic} 个：转 12345 {f.civic_diverted}"
                f"（分流率 {f.civic_diversion:.3f}），人工研判 {f.civic_reviewed}，"
                f"误报 110 {f.civic_to_police}"
            )
        click.echo("  ".join(parts))
        if name != "全部" or len(figures) == 1:
            for text in f.misses:
                click.echo(f"  误转 12345：{text[:60]}")
            for text in f.false_alarms:
                click.echo(f"  误报 110：{text[:60]}")
    misses = figures["全部"].police_to_12345
    if misses:
        raise click.ClickException(f"{misses} 个警情被转往 12345")


@click.command("route")
@click.option("--input", "input_file", type=_FILE, required=True, help="CSV of calls (UTF-8).")
@click.option("--text-column", default="text", show_default=True)
@click.option("--output", type=_FILE, required=True, help="JSON Lines, one object per row.")
@click.option("--rules", "rules_file", type=_FILE, help="Rules file (default: the app's).")
@with_appcontext
def route_command(input_file: Path, text_column: str, output: Path, rules_file: Path | None):
    """Classify and route every row of a CSV, in input order."""
    from hotline.extensions import app_router

    ruleset = _load(rules_file, check_agencies=False) if rules_file else None
    calls = list(_calls(input_file, text_column))
    routed = app_router(current_app._get_current_object()).route_many(calls, rules=ruleset)
    tmp = output.with_name(output.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as out:
            for row, result in enumerate(routed, start=1):
                out.write(json.dumps({"row": row, **result.to_dict()}, ensure_ascii=False) + "\n")
        tmp.replace(output)  # a reader never sees half a file
    except OSError as exc:
        raise click.ClickException(f"无法写入 {output}：{exc.strerror}") from exc
    counts: dict[str, int] = {}
    for result in routed:
        counts[result.decision.decision.value] = counts.get(result.decision.decision.value, 0) + 1
    click.echo(f"已处理 {len(routed)} 个来电 → {output}：{counts}")


def _load(path: Path, *, check_agencies: bool) -> RuleSet:
    policies = set(current_app.extensions["hotline.policies"].policies)
    agencies = _agency_codes() if check_agencies else None
    try:
        return load_rules(path, agencies=agencies, policies=policies)
    except RulesError as exc:
        raise click.ClickException(f"{path} 无效：\n{exc}") from exc


def _agency_codes() -> set[str] | None:
    import sqlalchemy as sa

    from hotline.extensions import db
    from hotline.models import Agency

    try:
        return set(db.session.scalars(sa.select(Agency.code)))
    except sa.exc.SQLAlchemyError:
        click.echo("提示：无法读取数据库，未核对单位编码（可用 --no-db 跳过）", err=True)
        return None


def _calls(path: Path, text_column: str) -> Iterator[CallFacts]:
    try:
        rows = read_csv(path, (text_column,))
    except DataError as exc:
        raise click.ClickException(str(exc)) from exc
    now = current_app.extensions["hotline.clock"].now()
    for number, row in enumerate(rows, start=2):
        yield CallFacts(
            text=row.get(text_column) or "",
            received_at=_moment(row.get("received_at"), now, number),
            hotline=row.get("hotline") or None,
            district=row.get("district") or None,
            nature=row.get("nature") or None,
            urgency=row.get("urgency") or None,
        )


def _moment(value: str | None, default: datetime, line: int) -> datetime:
    if not value:
        return default
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.ClickException(f"第 {line} 行 received_at 不是 ISO 时间：{value!r}") from None
    return ensure_aware(parsed) if parsed.tzinfo else parsed.replace(tzinfo=default.tzinfo)


def _where(routed) -> str:
    d = routed.decision
    also = "+" + "+".join(d.also) if d.also else ""
    return f"{d.decision.value}:{d.destination}{also}"
