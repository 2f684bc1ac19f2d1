"""SQLSTATE -> error class -> retried? Each row of resultsdb.sqlstate, raised by the server.

Every code is raised by the server itself (``raise exception using errcode``, or a
connection cut under the statement for "no SQLSTATE") inside ``Database.write``, the
call that replays its whole transaction; the test counts the attempts. Transient codes
are also retried by ``read`` and ``write_statement``, and surface at once inside a
caller's transaction, where only the caller could replay the work.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from resultsdb import sqlstate
from resultsdb.config import Settings
from resultsdb.db import Database
from resultsdb.errors import (
    AlreadyExists,
    AuthenticationFailed,
    CommitOutcomeUnknown,
    DatabaseError,
    DatabaseNotFound,
    DatabaseUnavailable,
    InvalidInput,
    ResourceExhausted,
    ResultsDBError,
    Timeout,
    TransientError,
)

Connection = psycopg.Connection[Any]
ATTEMPTS = 3

# (SQLSTATE, the class it maps to, retried). None: no SQLSTATE, the connection was cut.
CASES: list[tuple[str | None, type[ResultsDBError], bool]] = [
    (None, DatabaseUnavailable, True),
    ("08006", DatabaseUnavailable, True),      # connection_failure
    ("08000", DatabaseUnavailable, True),      # connection_exception
    ("57P01", DatabaseUnavailable, True),      # admin_shutdown
    ("57P02", DatabaseUnavailable, True),      # crash_shutdown
    ("57P03", DatabaseUnavailable, True),      # cannot_connect_now
    ("53300", DatabaseUnavailable, True),      # too_many_connections
    ("40001", TransientError, True),           # serialization_failure
    ("40P01", TransientError, True),           # deadlock_detected
    ("55P03", TransientError, True),           # lock_not_available
    ("40003", CommitOutcomeUnknown, False),    # statement_completion_unknown
    ("53100", ResourceExhausted, False),       # disk_full
    ("53200", ResourceExhausted, False),       # out_of_memory
    ("54000", InvalidInput, False),            # program_limit_exceeded
    ("54001", InvalidInput, False),            # statement_too_complex
    ("28000", AuthenticationFailed, False),    # invalid_authorization_specification
    ("28P01", AuthenticationFailed, False),    # invalid_password
    ("3D000", DatabaseNotFound, False),        # invalid_catalog_name
    ("42P01", DatabaseError, False),           # undefined_table, migrated database: not ours
    ("23505", AlreadyExists, False),           # unique_violation
    ("22P02", InvalidInput, False),            # invalid_text_representation
    ("57014", Timeout, False),                 # query_canceled
    ("42501", DatabaseError, False),           # insufficient_privilege
    ("55006", DatabaseError, False),           # object_in_use: an OperationalError, not retried
    ("XX000", DatabaseError, False),           # internal_error
]


def fail_with(conn: Connection, code: str | None) -> None:
    """Make the server fail the current statement with ``code`` (None: cut the connection)."""
    if code is None:
        # The socket shut under the session: psycopg reads EOF, no SQLSTATE.
        with socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
        conn.execute("select 1")
    else:
        conn.execute(f"do $$ begin raise exception 'simulated' using errcode = '{code}'; end $$")


class Attempts:
    """``fn(conn)`` for db.write/read that counts its calls and always fails with ``code``."""

    def __init__(self, code: str | None) -> None:
        self.code = code
        self.calls = 0

    def __call__(self, conn: Connection) -> None:
        self.calls += 1
        fail_with(conn, self.code)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    with Database(Settings(retry_attempts=ATTEMPTS), url=db_url) as database:
        yield database


@pytest.mark.parametrize(("code", "error", "retried"), CASES, ids=[c[0] or "none" for c in CASES])
def test_each_sqlstate_maps_to_its_class_and_only_transient_ones_are_retried(
        db: Database, code: str | None, error: type[ResultsDBError], retried: bool) -> None:
    fn = Attempts(code)
    started = time.monotonic()
    with pytest.raises(ResultsDBError) as info:
        db.write(fn)
    elapsed = time.monotonic() - started
    assert type(info.value) is error, info.value
    assert sqlstate.transient(info.value) is retried
    # The table's class, or the one errmap refines it to (23505: AlreadyExists); 42P01 on a
    # table that is not ours is a plain DatabaseError (ours: test_schema_not_migrated).
    assert issubclass(error, sqlstate.rule(code).error) or code == "42P01"
    assert "\n" not in str(info.value)  # one line
    if retried:
        assert fn.calls == ATTEMPTS
        assert elapsed >= 0.05 + 0.1  # exponential backoff between the attempts
    else:
        assert fn.calls == 1
    assert db.read(lambda c: c.execute("select 1").fetchone()[0]) == 1  # the pool recovered


TRANSIENT = ["40001", "40P01", "57P01", None]


@pytest.mark.parametrize("code", TRANSIENT, ids=[c or "none" for c in TRANSIENT])
@pytest.mark.parametrize("call", ["read", "write_statement"])
def test_transient_failures_are_retried_by_read_and_write_statement(
        db: Database, code: str | None, call: str) -> None:
    fn = Attempts(code)
    expected = sqlstate.rule(code).error
    if call == "write_statement" and code is None:
        expected = CommitOutcomeUnknown  # the statement was its own commit: never replayed
    with pytest.raises(expected):
        getattr(db, call)(fn)
    assert fn.calls == (1 if expected is CommitOutcomeUnknown else ATTEMPTS)


@pytest.mark.parametrize("code", ["40001", "40P01", "57P01"])
@pytest.mark.parametrize("call", ["write", "write_statement", "read"])
def test_inside_a_callers_transaction_a_transient_failure_surfaces_at_once(
        db: Database, code: str, call: str) -> None:
    fn = Attempts(code)
    with pytest.raises(sqlstate.rule(code).error), db.transaction():
        getattr(db, call)(fn)
    assert fn.calls == 1  # only the caller can replay its transaction


def test_the_retry_predicate_retries_exactly_the_rows_marked_transient() -> None:
    """No permanent row's class derives from a transient one, so the class decides as
    the row does (AuthenticationFailed must not be taken for a DatabaseUnavailable)."""
    for code, rule in sqlstate.RULES.items():
        assert sqlstate.transient(rule.error("x")) is rule.transient, code
    assert not sqlstate.transient(sqlstate.DEFAULT.error("x"))
    assert sqlstate.rule("08P01").error is DatabaseUnavailable  # by its class, 08
    assert sqlstate.rule("0A000") == sqlstate.DEFAULT


def test_errors_psycopg_raises_itself_have_no_sqlstate_and_only_a_lost_connection_is_transient(
        ) -> None:
    cases: list[tuple[psycopg.Error, type[ResultsDBError]]] = [
        (psycopg.OperationalError("server closed the connection unexpectedly"), DatabaseUnavailable),
        (psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"), InvalidInput),
        (psycopg.InterfaceError("the connection is closed"), DatabaseError),
        (psycopg.ProgrammingError("the query has 1 placeholder but 2 parameters were passed"),
         DatabaseError),
    ]
    for exc, error in cases:
        assert exc.sqlstate is None
        assert sqlstate.rule_of(exc).error is error, exc


def test_a_nul_in_a_string_is_invalid_input_not_retried(db: Database) -> None:
    calls: list[int] = []

    def fn(conn: Connection) -> None:
        calls.append(1)
        conn.execute("select %s::text", ("a\x00b",))

    with pytest.raises(InvalidInput):
        db.write(fn)
    assert calls == [1]
