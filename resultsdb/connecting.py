"""Connecting: the URL libpq reads, the pool's pre-ping, and why a connection could not be
made - classified by the SQLSTATE the server refused it with.

libpq reports a refused connection without its SQLSTATE: psycopg raises an
OperationalError whose ``sqlstate`` is None and whose text the server may have written in
any language (psycopg/psycopg#1188). The server did send a code, in its answer to the
startup packet, so this module asks again: it sends the startup packet libpq sent (the
host, port, user and database libpq resolved; never a password) and reads the code of
the error the server answers with. A server that asks for a password first cannot be
asked that way; for it, libpq's flags say whether a password was missing or refused, and
the maintenance database tells a refused password from a database that does not exist.
The code then goes through :mod:`resultsdb.sqlstate` like any other.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import ssl
import struct
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from resultsdb import sqlstate
from resultsdb.connection import Connection
from resultsdb.errmap import said
from resultsdb.errors import AuthenticationFailed, DatabaseNotFound, ResultsDBError
from resultsdb.registry import Registry
from resultsdb.repositories import catalog


def libpq_url(url: str) -> str:
    """A URL libpq reads: SQLAlchemy/yoyo-style driver suffixes (postgresql+psycopg://) dropped."""
    return re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url)


def pre_ping(conn: Connection) -> None:
    """The pool's check before it hands out a connection: raise if it is dead.

    A server that ends a session - restart, crash, pg_terminate_backend,
    idle_session_timeout - sends its FATAL message and closes the socket, so an
    idle connection it has dropped has something to read. Nothing to read, and
    libpq seeing it sound and idle, tells what an empty-query ping would, without
    the round trip, which was a third of the time of each call when 4 processes
    share 2 cores. (A peer that vanished silently answers neither: the ping would
    hang as the statement will.) Anything else gets the real ping, which also
    reads whatever was sent.
    """
    pgconn = conn.pgconn
    if (not conn.closed and pgconn.status == pq.ConnStatus.OK
            and pgconn.transaction_status == pq.TransactionStatus.IDLE):
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        if not poller.poll(0):
            return
    ConnectionPool.check_connection(conn)


_PROTOCOL_3 = 196608  # protocol 3.0
_SSL_REQUEST = 80877103
_MAINTENANCE_DB = "postgres"


def explain(exc: psycopg.Error, conninfo: str, kwargs: dict[str, Any], where: str,
            registry: Registry) -> ResultsDBError:
    """The resultsdb error for a connection attempt that raised ``exc`` (one line, with what
    to do): its class from the SQLSTATE the server refused it with, if it did."""
    code = exc.sqlstate or _refusal(exc, conninfo, kwargs, registry)
    error = sqlstate.rule(code).error if code else sqlstate.rule_of(exc).error
    if error is DatabaseNotFound:
        name = _text(exc.pgconn, "db") or conninfo_to_dict(conninfo).get("dbname")
        return DatabaseNotFound(
            f"database {name!r} does not exist: run `resultsdb init` (connecting to {where})")
    if error is AuthenticationFailed:
        return AuthenticationFailed(f"cannot connect to {where}: {said(exc)}; check the user "
                                    "and password in RESULTSDB_URL")
    return error(f"cannot connect to {where}: {said(exc)}")


def _refusal(exc: psycopg.Error, conninfo: str, kwargs: dict[str, Any],
             registry: Registry) -> str | None:
    """The SQLSTATE of the server's refusal; None when it was not reached or did not say."""
    pgconn = exc.pgconn
    if not isinstance(exc, psycopg.OperationalError) or pgconn is None:
        return None
    if pgconn.needs_password:
        return "28P01"  # it asked for a password and libpq had none
    timeout = float(kwargs.get("connect_timeout") or 10)
    sslmode = conninfo_to_dict(conninfo).get("sslmode")
    code = startup_sqlstate(pgconn, str(sslmode) if sslmode else None, timeout)
    if code is None and pgconn.used_password:
        # A password was sent and the login failed: a wrong one, or a right one for a
        # database that does not exist (checked only after the password).
        code = _password_or_database(conninfo, kwargs, _text(pgconn, "db"), registry)
    return code


def _password_or_database(conninfo: str, kwargs: dict[str, Any], name: str,
                          registry: Registry) -> str | None:
    if name == _MAINTENANCE_DB:
        return "28P01"
    try:
        with Connection.connect(make_conninfo(conninfo, dbname=_MAINTENANCE_DB), **kwargs) as conn:
            conn.registry = registry
            exists = catalog.database_exists(conn, name)
    except psycopg.OperationalError:
        return "28P01"  # the same login is refused there too
    return None if exists else "3D000"


def startup_sqlstate(pgconn: Any, sslmode: str | None, timeout: float) -> str | None:
    """The SQLSTATE of the error the server answers ``pgconn``'s startup packet with.

    None when it asks for a password first, starts the session, or cannot be reached.
    TLS is negotiated as libpq's sslmode would (``prefer`` by default), so pg_hba.conf
    sees the same kind of connection; nothing secret is sent, so the server's certificate
    is not checked.
    """
    host, port = _text(pgconn, "host"), int(_text(pgconn, "port") or 5432)
    user, dbname = _text(pgconn, "user"), _text(pgconn, "db")
    params = b"".join(k + b"\0" + v.encode() + b"\0"
                      for k, v in ((b"user", user), (b"database", dbname))) + b"\0"
    try:
        with contextlib.ExitStack() as closing:
            stream = closing.enter_context(_connected(host, _text(pgconn, "hostaddr"), port,
                                                      timeout))
            if stream.family != socket.AF_UNIX and sslmode not in ("disable", "allow"):
                stream.sendall(struct.pack("!ii", 8, _SSL_REQUEST))
                if _read(stream, 1) == b"S":
                    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                    stream = closing.enter_context(context.wrap_socket(stream))
            stream.sendall(struct.pack("!ii", 8 + len(params), _PROTOCOL_3) + params)
            while True:
                kind, body = _message(stream)
                if kind == b"E":
                    fields = {f[:1]: f[1:] for f in body.split(b"\0") if f}
                    code = fields.get(b"C", b"").decode("ascii", "replace")
                    return code or None
                if kind == b"Z":
                    stream.sendall(b"X\0\0\0\4")  # the session started: end it politely
                    return None
                if kind == b"R" and body[:4] != b"\0\0\0\0":
                    return None  # a password is asked for
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def _connected(host: str, hostaddr: str, port: int, timeout: float) -> Iterator[socket.socket]:
    if host.startswith(("/", "@")):  # a unix socket's folder (@: Linux's abstract namespace)
        path = ("\0" + host[1:] if host[0] == "@" else host) + f"/.s.PGSQL.{port}"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
    else:
        sock = socket.create_connection((hostaddr or host, port), timeout=timeout)
    with sock:
        yield sock


def _message(stream: socket.socket) -> tuple[bytes, bytes]:
    head = _read(stream, 5)
    length = struct.unpack("!i", head[1:])[0]
    if not 4 <= length <= 1 << 20:
        raise ValueError("not a PostgreSQL server")
    return head[:1], _read(stream, length - 4)


def _read(stream: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = stream.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data


def _text(pgconn: Any, name: str) -> str:
    value = getattr(pgconn, name, b"") or b""
    return str(value.decode() if isinstance(value, bytes) else value)
