"""gunicorn settings for hotline: `gunicorn -c gunicorn.conf.py wsgi:app`.

Only what the app needs from gunicorn lives here; bind address and worker count come from the
command line or gunicorn's own variables (WEB_CONCURRENCY, GUNICORN_CMD_ARGS).

Prometheus multiprocess mode: with PROMETHEUS_MULTIPROC_DIR set (a directory writable by the
workers, e.g. /run/hotline/metrics), every worker keeps its HTTP metrics in files there and
/metrics adds them up. Stale files from a previous run would be added too, so the directory is
emptied at start, and a worker that exits is marked dead so its live gauges stop counting.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# Our own JSON access line (logger hotline.access) replaces gunicorn's, which would show the
# query string.
accesslog = None


def _multiproc_dir() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def on_starting(server: Any) -> None:
    directory = _multiproc_dir()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if _multiproc_dir() is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
