"""The `hotline` command: a Flask CLI group with the platform's own commands.

Each command that changes data commits once at the end, like a web request.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from hotline import migrate


def _create_app() -> Flask:
    from hotline import create_app
    from hotline.domain.errors import HotlineError

    try:
        return create_app()
    except (ValueError, HotlineError) as exc:  # configuration the operator must fix
        raise click.ClickException(f"配置错误：{exc}") from exc


def _migrate(action: Callable[[], None]) -> None:
    from alembic.util.exc import CommandError

    try:
        action()
    except CommandError as exc:
        raise click.ClickException(f"迁移失败：{exc}") from exc


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """110 / 12345 联动平台 — hotline transfer platform."""


@click.group("db")
def db_group() -> None:
    """Database schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    _migrate(lambda: migrate.upgrade(current_app.config["DATABASE_URL"], revision=revision))
    click.echo(f"数据库已升级到 {revision}：{_safe_url()}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' removes every table)."""
    _migrate(lambda: migrate.downgrade(current_app.config["DATABASE_URL"], revision=revision))
    click.echo(f"数据库已回退到 {revision}")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the revision the database is at."""
    from alembic import command

    _migrate(lambda: command.current(migrate.alembic_config(current_app.config["DATABASE_URL"])))


@click.command("seed-demo")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder with citizen_messages/*.csv (default: ../shared/data when it exists).",
)
@click.option("--tickets", default=300, show_default=True, type=click.IntRange(20, 20_000))
@click.option("--seed", default=2026, show_default=True, help="Random seed: same seed, same city.")
@with_appcontext
def seed_demo(data_dir: Path | None, tickets: int, seed: int) -> None:
    """Fill an empty database with a demo city: agencies, users and tickets in every state."""
    from hotline.demo.seed import DemoAlreadySeeded, seed_demo_city
    from hotline.domain.errors import HotlineError
    from hotline.extensions import db

    try:
        summary = seed_demo_city(
            db.session,
            clock=current_app.extensions["hotline.clock"],
            calendar=current_app.extensions["hotline.calendar"],
            data_dir=data_dir,
            tickets=tickets,
            seed=seed,
        )
    except (DemoAlreadySeeded, HotlineError) as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(summary.describe())


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Development server (use gunicorn in production: see README)."""
    _run_development_server(host, port)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the database and print logins only.")
@with_appcontext
def demo(host: str, port: int, no_serve: bool) -> None:
    """One command: migrate, seed the demo city if empty, print URL and logins, serve."""
    from hotline.demo.seed import DEMO_PASSWORD, demo_logins, is_seeded, seed_demo_city
    from hotline.extensions import db

    migrate.upgrade(current_app.config["DATABASE_URL"])
    if not is_seeded(db.session):
        summary = seed_demo_city(
            db.session,
            clock=current_app.extensions["hotline.clock"],
            calendar=current_app.extensions["hotline.calendar"],
        )
        db.session.commit()
        click.echo(summary.describe())
    click.echo(f"\n平台地址 URL: http://{host}:{port}/")
    click.echo(f"演示账号 demo logins (密码 password: {DEMO_PASSWORD}):")
    for username, description in demo_logins(db.session):
        click.echo(f"  {username:<14} {description}")
    db.session.close()
    if not no_serve:
        click.echo("\n按 Ctrl+C 停止 (Ctrl+C to stop)")
        _run_development_server(host, port)


@click.group("feedback")
def feedback_group() -> None:
    """The classifier's learning loop: labels confirmed by people."""


@feedback_group.command("export")
@click.option(
    "--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path)
)
@with_appcontext
def feedback_export(output: Path) -> None:
    """Write confirmed labels as corpus rows, for `hotline classifier train --extra FILE`."""
    from hotline.extensions import db
    from hotline.services.feedback import export_csv

    try:
        count = export_csv(db.session, output)
    except OSError as exc:
        raise click.ClickException(f"无法写入 {output}：{exc.strerror}") from exc
    click.echo(f"已导出 {count} 条确认标注到 {output}")


@click.command("check")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@with_appcontext
def check_command(as_json: bool) -> None:
    """Audit the ticket store: one ticket per transferred call, complete event logs, no ticket
    stuck. Read-only; exits 1 when anything is wrong (after an incident, or in a drill)."""
    import json
    from dataclasses import asdict

    from hotline.extensions import db
    from hotline.services.consistency import check

    report = check(db.session)
    if as_json:
        body = {"ok": report.ok, "counts": report.counts}
        body["problems"] = [asdict(p) for p in report.problems]
        click.echo(json.dumps(body, ensure_ascii=False))
    else:
        for line in report.lines():
            click.echo(line)
    if not report.ok:
        sys.exit(1)


@click.command("scheduler")
@click.option(
    "--once", is_flag=True, help="Run one sweep, send, freeze KPI days, and exit (cron, tests)."
)
@click.option("--interval", default=60, show_default=True, type=click.IntRange(5, 3600))
@with_appcontext
def scheduler(once: bool, interval: int) -> None:
    """The deadline scheduler process: 预警, 超期, 催办 and 通报 on the working calendar."""
    from hotline.jobs.runner import deliver_outbox, freeze_kpis, run_forever, sweep_until_done

    app = current_app._get_current_object()
    if migrate.pending(app.config["DATABASE_URL"]):
        raise click.ClickException("数据库结构不是最新版本：请先运行 `hotline db upgrade`")
    if once:
        report = sweep_until_done(app)
        click.echo(
            f"检查 {report.looked_at} 张工单，处理 {report.claimed} 张：{dict(report.alerts)}"
        )
        sent = deliver_outbox(app)
        click.echo(f"发送通知 {sent.sent} 条，失败待重试 {sent.failed} 条")
        frozen = freeze_kpis(app)
        click.echo(f"固化考核数据 {len(frozen)} 天")
        return
    click.echo(f"时限调度已启动，每 {interval} 秒检查一次（Ctrl+C 停止）")
    run_forever(app, interval)


def _run_development_server(host: str, port: int) -> None:
    # Flask ignores app.run() inside its own CLI, so serve through Werkzeug directly.
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), threaded=True)


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(current_app.config["DATABASE_URL"]).render_as_string(hide_password=True)


def _add_classifier_commands() -> None:
    from classifier.cli import group

    main.add_command(group)


_add_classifier_commands()


def register_commands(app: Flask) -> None:
    from hotline.cli_api import api_client_group
    from hotline.cli_routing import route_command, rules_group

    for command in (
        db_group,
        seed_demo,
        serve,
        demo,
        feedback_group,
        scheduler,
        rules_group,
        route_command,
        api_client_group,
        check_command,
    ):
        app.cli.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
