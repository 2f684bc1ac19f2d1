"""Embedded test servers that never outlive the pytest process that started them.

A session's server is stopped in the fixture's teardown; a pytest that is SIGKILLed, or
that a timeout ends with ``os._exit``, runs no teardown. So each server gets a reaper:
a small process in a session of its own (Ctrl-C in the terminal does not reach it) that
holds the read end of a pipe whose write end only pytest holds. When pytest ends, however
it ends, the pipe closes; the reaper reads EOF, stops the server and removes its folder.

Run as ``python -m tests.reaper DATA_DIR`` by :func:`embedded_server`.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil

from resultsdb import embedded

ROOT = Path(__file__).resolve().parent.parent


def _stop_and_remove(data_dir: Path) -> None:
    with contextlib.suppress(Exception):  # a server the test left dead has nothing to stop
        embedded.stop(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.contextmanager
def embedded_server(data_dir: Path) -> Iterator[embedded.ServerInfo]:
    """Start (or reuse) the embedded server of ``data_dir``; stop it and remove the folder when
    the block ends, or when this process dies without ending it."""
    reaper = subprocess.Popen(
        [sys.executable, "-m", "tests.reaper", str(data_dir)], cwd=ROOT,
        stdin=subprocess.PIPE, start_new_session=True)
    try:
        yield embedded.start(data_dir)
    finally:
        _stop_and_remove(data_dir)
        assert reaper.stdin is not None
        reaper.stdin.close()
        reaper.wait(timeout=30)


def remove_orphans(parent: Path) -> list[Path]:
    """Stop and remove the ``session-<pid>`` folders under ``parent`` whose pytest is gone
    (left by a run killed before its reaper existed, or a reaper killed with it)."""
    removed = []
    for folder in sorted(parent.glob("session-*")):
        pid = folder.name.removeprefix("session-")
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            _stop_and_remove(folder)
            removed.append(folder)
    return removed


def main(argv: list[str]) -> int:
    data_dir = Path(argv[1])
    sys.stdin.buffer.read()  # returns at EOF: the pytest process has closed it, or died
    _stop_and_remove(data_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
