"""The `hotline` command on a real SQLite file: migrate, seed the demo city, refuse to re-seed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline import create_app
from hotline.domain.clock import FixedClock
from hotline.domain.lifecycle import TicketState
from hotline.models import Agency, Ticket, TicketEvent, User
from hotline.models.engine import make_engine

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def file_app(tmp_path: Path):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "SECRET_KEY": "x",
            "CLOCK": FixedClock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC)),
        }
    )
    yield app
    make_engine(app.config["DATABASE_URL"]).dispose()


def counts(app) -> tuple[Counter, int, int, int]:
    engine = make_engine(app.config["DATABASE_URL"])
    with Session(engine) as db:
        states = Counter(db.scalars(sa.select(Ticket.state)))
        agencies = db.scalar(sa.select(sa.func.count()).select_from(Agency))
        users = db.scalar(sa.select(sa.func.count()).select_from(User))
        events = db.scalar(sa.select(sa.func.count()).select_from(TicketEvent))
    engine.dispose()
    return states, agencies, users, events


def test_upgrade_then_seed_demo_fills_every_state(file_app, tmp_path: Path) -> None:
    runner = file_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    # An empty data folder: the project's own demo calls must be enough (a user's fresh install).
    result = runner.invoke(args=["seed-demo", "--tickets", "60", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "60 张工单" in result.output
    states, agencies, users, events = counts(file_app)
    assert set(states) == set(TicketState)
    assert sum(states.values()) == 60
    assert agencies >= 20 and users >= agencies
    assert events > 60 * 2

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code != 0 and "已有数据" in again.output
    assert counts(file_app)[0] == states  # nothing added


def test_seed_is_reproducible_for_a_seed(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / name}.db",
                "SECRET_KEY": "x",
                "CLOCK": FixedClock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC)),
            }
        )
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        args = ["seed-demo", "--tickets", "30", "--seed", "7", "--data-dir", str(tmp_path)]
        outputs.append(runner.invoke(args=args).output)
    assert outputs[0] == outputs[1]


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="shared data folder not present")
def test_seed_uses_real_messages_when_the_shared_data_is_there(file_app) -> None:
    runner = file_app.test_cli_runner()
    runner.invoke(args=["db", "upgrade"])
    result = runner.invoke(args=["seed-demo", "--tickets", "120", "--data-dir", str(SHARED_DATA)])
    assert result.exit_code == 0, result.output
    assert "其中 0 张" not in result.output


def test_demo_without_serving_prints_url_and_logins(file_app) -> None:
    result = file_app.test_cli_runner().invoke(args=["demo", "--no-serve", "--port", "5055"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5055/" in result.output
    assert "hotline-demo" in result.output and "supervisor" in result.output
    # A second run keeps the data and does not seed again.
    again = file_app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert again.exit_code == 0 and "演示数据已生成" not in again.output


def test_bad_arguments_are_clear(file_app) -> None:
    result = file_app.test_cli_runner().invoke(args=["seed-demo", "--tickets", "5"])
    assert result.exit_code == 2 and "5 is not in the range" in result.output


def test_serve_starts_a_real_server(file_app, monkeypatch) -> None:
    # Flask silently ignores app.run() inside its CLI; serve must hand the app to Werkzeug.
    started = []
    monkeypatch.setattr(
        "werkzeug.serving.run_simple",
        lambda host, port, app, **kw: started.append((host, port, app)),
    )
    result = file_app.test_cli_runner().invoke(args=["serve", "--port", "5099"])
    assert result.exit_code == 0, result.output
    assert started == [("127.0.0.1", 5099, file_app)]


def test_demo_stories_happen_in_the_past_and_in_order(file_app, tmp_path: Path) -> None:
    runner = file_app.test_cli_runner()
    runner.invoke(args=["db", "upgrade"])
    runner.invoke(args=["seed-demo", "--tickets", "80", "--data-dir", str(tmp_path)])
    now = file_app.extensions["hotline.clock"].now()
    engine = make_engine(file_app.config["DATABASE_URL"])
    with Session(engine) as db:
        log = db.execute(
            sa.select(TicketEvent.ticket_id, TicketEvent.seq, TicketEvent.occurred_at).order_by(
                TicketEvent.ticket_id, TicketEvent.seq
            )
        ).all()
    engine.dispose()
    assert all(at < now for _, _, at in log)
    by_ticket: dict[int, list] = {}
    for ticket_id, seq, at in log:
        by_ticket.setdefault(ticket_id, []).append((seq, at))
    for steps in by_ticket.values():
        assert [s for s, _ in steps] == list(range(1, len(steps) + 1))
        assert [a for _, a in steps] == sorted(a for _, a in steps)
    # Stories are spread out, not squeezed against "now".
    squeezed = sum(1 for _, _, at in log if now - at < timedelta(minutes=2))
    assert squeezed < len(log) * 0.05


def test_bad_revision_and_bad_paths_are_one_clear_line(file_app) -> None:
    runner = file_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", "nosuchrev"])
    assert result.exit_code == 1 and "迁移失败" in result.output
    assert "Traceback" not in result.output
    runner.invoke(args=["db", "upgrade"])
    result = runner.invoke(args=["feedback", "export", "--output", "/nonexistent/dir/x.csv"])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_an_unusable_database_url_is_a_clear_configuration_error(monkeypatch) -> None:
    from click.testing import CliRunner

    from hotline.cli import main

    monkeypatch.setenv("DATABASE_URL", "mysql://nobody@localhost/none")
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "x")  # else create_app writes instance/secret_key
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "配置错误" in result.output and "DATABASE_URL" in result.output


def test_scheduler_once_sweeps_and_refuses_an_old_schema(file_app, tmp_path: Path) -> None:
    runner = file_app.test_cli_runner()
    result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code == 1 and "hotline db upgrade" in result.output
    runner.invoke(args=["db", "upgrade"])
    runner.invoke(args=["seed-demo", "--tickets", "40", "--data-dir", str(tmp_path)])
    result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert "处理" in result.output and "'warning'" in result.output
    again = runner.invoke(args=["scheduler", "--once"])
    assert "处理 0 张" in again.output  # a second sweep at the same moment finds nothing new
    assert "发送通知 0 条" in again.output  # and the first run already sent everything


def test_scheduler_process_runs_the_sweep_every_interval(file_app, monkeypatch) -> None:
    from apscheduler.schedulers.blocking import BlockingScheduler

    from hotline.jobs.runner import run_forever

    started = []
    monkeypatch.setattr(BlockingScheduler, "start", lambda self: started.append(self.get_jobs()))
    run_forever(file_app, 60)
    (jobs,) = started
    sweep = next(j for j in jobs if j.id == "deadline-sweep")
    assert sweep.trigger.interval.total_seconds() == 60 and sweep.max_instances == 1
    assert {j.id for j in jobs} == {
        "deadline-sweep",
        "first-sweep",
        "outbox",
        "kpi-snapshot",
        "first-kpi-snapshot",
    }
    daily = next(j for j in jobs if j.id == "kpi-snapshot")
    assert str(daily.trigger) == "cron[hour='0', minute='15']"
