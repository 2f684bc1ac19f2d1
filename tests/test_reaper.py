"""A killed pytest leaves no embedded server running and no data folder behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from resultsdb import embedded
from tests.reaper import ROOT, remove_orphans

# A test that starts a session server and waits to be killed.
_VICTIM = """
import time

def test_waits(pg_server):
    print("SERVER UP", flush=True)
    time.sleep(120)
"""


def _wait(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_pytest_leaves_no_server_and_no_folder(tmp_path: Path, how: signal.Signals) -> None:
    victim = tmp_path / "test_victim.py"
    victim.write_text(_VICTIM, encoding="utf-8")
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n",
                                          encoding="utf-8")
    data_root = Path(tempfile.mkdtemp(prefix="rdbreap", dir="/tmp"))  # short: the socket
    env = {**os.environ, "RESULTSDB_TEST_DATA_DIR": str(data_root)}
    env.pop("RESULTSDB_TEST_URL", None)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(victim)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            if "SERVER UP" in line:
                break
        folder = data_root / f"session-{proc.pid}"
        info = embedded.status(folder)
        assert info is not None and psutil.pid_exists(info.pid)
        proc.send_signal(how)
        proc.wait(timeout=30)
        assert _wait(lambda: not psutil.pid_exists(info.pid) or
                     psutil.Process(info.pid).status() == psutil.STATUS_ZOMBIE, 30), \
            "the server outlived pytest"
        assert _wait(lambda: not folder.exists(), 30), f"{folder} is left behind"
    finally:
        remove_orphans(data_root)
        shutil.rmtree(data_root, ignore_errors=True)


def test_orphaned_session_folders_of_dead_pids_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = tmp_path / f"session-{dead.pid}"
    (orphan / "pgdata").mkdir(parents=True)
    alive = tmp_path / f"session-{os.getpid()}"
    alive.mkdir()
    assert remove_orphans(tmp_path) == [orphan]
    assert not orphan.exists() and alive.exists()
