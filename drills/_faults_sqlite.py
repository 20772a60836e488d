"""The SQLite default when its disk fills up or turns read-only, under load.

Running as root, ``chmod`` does not stop writes, so the database lives on a small tmpfs mounted
for the drill: "disk full" is a filler file that takes the remaining space, "read-only" is
``mount -o remount,ro``. Both happen under the running app, as they would in production, and
are undone the same way. Without root (or without the right to mount) the drill falls back to
``chmod`` of the database file, its WAL files and directory, which does stop a non-root user.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from drills._faults_load import Load, get, wait_for
from drills._faults_stack import Result, finish
from drills.common import free_port, prepare, running

READ_ONLY_TEXT = "数据库只读或磁盘已满"


def _mount(args: list[str]) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextlib.contextmanager
def small_disk(size_mib: int) -> Iterator[Path | None]:
    """A tmpfs of ``size_mib`` MiB, or None when mounting is not allowed here."""
    where = Path(tempfile.mkdtemp(prefix="hotline-drill-disk-"))
    mounted = os.geteuid() == 0 and _mount(
        ["-t", "tmpfs", "-o", f"size={size_mib}m", "tmpfs", str(where)]
    )
    try:
        yield where if mounted else None
    finally:
        if mounted:
            _mount(["-o", "remount,rw", str(where)])
            gc.collect()  # prepare()'s engine in this process may still hold the file open
            # Lazy: whatever still holds a file there lets go of the mount when it closes it.
            subprocess.run(["umount", "--lazy", str(where)], capture_output=True)
        shutil.rmtree(where, ignore_errors=True)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 512):  # big blocks, then the last few KiB
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    return filler


def sqlite_read_only(short: bool) -> Result:
    result = Result("SQLite: disk full, then read-only, under load")
    hold = 3 if short else 20
    with small_disk(64) as disk:
        if disk is None and os.geteuid() == 0:
            result.skipped = ": cannot mount a tmpfs here, and chmod does not stop root"
            result.say("SKIPPED" + result.skipped)
            return result
        folder = disk or Path(tempfile.mkdtemp(prefix="hotline-drill-sqlite-"))
        db_file = folder / "hotline.db"
        db_url = f"sqlite:///{db_file}"
        keys = prepare(db_url)
        with running(db_url, port=free_port(), workers=2) as stack:
            load = Load(stack.url, keys, threads=2, prefix="sqlite").start()
            wait_for(lambda: load.ticketed, 60)
            probe = f"{stack.url}/api/v1/calls/{min(load.ticketed)}"
            phases = [("disk full", lambda: fill(folder), lambda f: f.unlink())] if disk else []
            # A file system with the database open for writing cannot be remounted read-only
            # ("busy"), and that is not how it happens anyway: a read-only file or mount is met
            # when the app (re)starts. So the app is restarted onto the read-only disk.
            # --short: the read-only phase costs two restarts (and model loads): long only.
            phases += (
                []
                if short and disk
                else [
                    (
                        "read-only",
                        lambda: _restarted(stack, lambda: _read_only(folder, disk)),
                        lambda _: _restarted(stack, lambda: _writable(folder, disk)),
                    )
                ]
            )
            for name, break_it, mend in phases:
                before = load.figures.statuses.get("503", 0)
                token = break_it()
                time.sleep(hold)
                refused = load.figures.statuses.get("503", 0) - before
                # The call belongs to one of the two clients; the other is told 404.
                read = min(get(probe, _api(key))[0] for key in keys.values())
                ready = get(f"{stack.url}/readyz")[0]
                mend(token)
                result.say(f"{name} for {hold} s: {refused} pushes answered 503; /readyz {ready}")
                result.require(refused > 0, f"{name}: writes refused with 503 and Retry-After")
                if name == "read-only" and read == 503:
                    # SQLite in WAL mode cannot open a database on a read-only file system
                    # without its -shm file (removed at the last clean close): reads get the
                    # same clear 503 until the disk is writable again. Known, documented.
                    result.say(f"note {name}: reads answer 503 too (WAL needs its -shm file)")
                else:
                    result.require(read == 200, f"{name}: reads keep working ({probe} → {read})")
                resumed = wait_for(lambda b=load.figures.accepted: load.figures.accepted > b, 30)
                result.require(resumed is not None, f"{name}: writes accepted again when mended")
            load.stop()
        result.say(
            "how: "
            + (
                "a 64 MiB tmpfs filled up by a file (disk full), then remounted read-only "
                "with the app restarted onto it"
                if disk
                else "chmod of the database, its WAL files and directory"
            )
        )
        said = dict(load.figures.messages)
        # "busy" is a write that lost a race with another worker (retried like the others).
        result.require(
            any(READ_ONLY_TEXT in m for m in said)
            and all(READ_ONLY_TEXT in m or "database_busy" in m for m in said),
            f"the 503 answers said: {said}",
        )
        integrity = _integrity(db_file)
        result.require(integrity == "ok", f"PRAGMA integrity_check: {integrity}")
        finished = finish(result, load, db_url)
        if not disk:
            shutil.rmtree(folder, ignore_errors=True)
        return finished


def _restarted(stack, between) -> None:
    assert stack.gunicorn is not None
    stack.gunicorn.terminate()
    stack.gunicorn.wait(30)
    between()
    stack.start_web()


def _api(key: str):
    import urllib.request

    opener = urllib.request.build_opener()
    opener.addheaders = [("X-API-Key", key)]
    return opener


def _read_only(folder: Path, disk: Path | None) -> None:
    gc.collect()  # prepare()'s engine in this process may still hold the file open
    if disk is not None:
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        return
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)


def _writable(folder: Path, disk: Path | None) -> None:
    if disk is not None:
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        return
    folder.chmod(0o755)
    for path in folder.iterdir():
        path.chmod(0o644)


def _integrity(db_file: Path) -> str:
    with contextlib.closing(sqlite3.connect(db_file)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


__all__ = ["sqlite_read_only"]
