"""A login the server refuses fails at once, with one line and what to do.

A wrong or missing password, a role that does not exist or a database that does not
exist is raised when the pool would open - not retried, and not after connect_timeout -
as AuthenticationFailed or DatabaseNotFound (``resultsdb init`` creates the database);
the CLI prints one line and exits 10 or 11. A server that is down stays
DatabaseUnavailable and is retried (test_faults.py). psycopg gives no SQLSTATE for a
refused connection, so resultsdb.connecting reads it from the server's answer to the
startup packet; these tests run against the session's server (trust authentication)
and against a private one that asks for passwords (scram-sha-256).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from resultsdb.api import ResultsDB
from resultsdb.cli import app
from resultsdb.config import Settings
from resultsdb.db import Database
from resultsdb.errors import AuthenticationFailed, DatabaseNotFound, ResultsDBError
from tests.reaper import embedded_server

# Long enough that a refusal that went through the pool's retries would show.
TIMEOUT = 5
SETTINGS = Settings(connect_timeout=TIMEOUT, pool_timeout=TIMEOUT)
PASSWORD = "Pw-7c1e9a"


@pytest.fixture(scope="module")
def password_server() -> Iterator[str]:
    """Admin conninfo of a private server whose every login needs a password, and a role
    ``rdb_login`` with PASSWORD that owns database ``rdb_exists``."""
    data_dir = Path(tempfile.mkdtemp(prefix="rdbpw", dir="/tmp"))  # short: the socket lives there
    with embedded_server(data_dir) as info:
        with psycopg.connect(info.conninfo(), autocommit=True) as admin:
            admin.execute(sql.SQL("create role rdb_login login password {}").format(
                sql.Literal(PASSWORD)))
            admin.execute("create database rdb_exists owner rdb_login")
            admin.execute("alter system set password_encryption = 'scram-sha-256'")
            (info.pgdata / "pg_hba.conf").write_text(
                "local all postgres trust\n"  # the fixture's own admin connection
                "local all all scram-sha-256\n"
                "host all all 127.0.0.1/32 scram-sha-256\n")
            admin.execute("select pg_reload_conf()")
        yield info.conninfo()


def refused(url: str) -> tuple[ResultsDBError, float]:
    """The error opening a ResultsDB on ``url`` raises, and how long it took."""
    started = time.monotonic()
    with pytest.raises(ResultsDBError) as info:
        ResultsDB(SETTINGS, url=url).open()
    return info.value, time.monotonic() - started


def as_user(conninfo: str, **params: str) -> str:
    return make_conninfo(conninfo, **params)


@pytest.mark.parametrize("case", ["wrong password", "no password", "unknown role",
                                  "database missing"])
def test_a_login_the_password_server_refuses_fails_at_once(password_server: str, case: str) -> None:
    url = {
        "wrong password": as_user(password_server, user="rdb_login", password="not-it",
                                  dbname="rdb_exists"),
        "no password": as_user(password_server, user="rdb_login", dbname="rdb_exists"),
        "unknown role": as_user(password_server, user="rdb_nobody", password=PASSWORD,
                                dbname="rdb_exists"),
        "database missing": as_user(password_server, user="rdb_login", password=PASSWORD,
                                    dbname="rdb_missing"),
    }[case]
    err, took = refused(url)
    assert took < TIMEOUT  # no retries, no pool wait
    assert "\n" not in str(err)
    assert "not-it" not in str(err) and PASSWORD not in str(err)
    if case == "database missing":
        assert type(err) is DatabaseNotFound
        assert str(err).startswith("database 'rdb_missing' does not exist: run `resultsdb init`")
    else:
        assert type(err) is AuthenticationFailed
        assert str(err).endswith("check the user and password in RESULTSDB_URL")
    with Database(SETTINGS, url=as_user(
            password_server, user="rdb_login", password=PASSWORD, dbname="rdb_exists")) as db:
        assert db.read(lambda c: c.execute("select current_user").fetchone()[0]) == "rdb_login"


def test_a_missing_role_or_database_fails_at_once_on_a_trust_server(db_url: str) -> None:
    for url, error in ((as_user(db_url, user="rdb_no_such_role"), AuthenticationFailed),
                       (as_user(db_url, dbname="rdb_no_such_db"), DatabaseNotFound)):
        err, took = refused(url)
        assert type(err) is error, err
        assert took < TIMEOUT
        assert "\n" not in str(err)


def test_the_cli_says_it_in_one_line_with_the_hint(password_server: str, db_url: str) -> None:
    runner = CliRunner()
    cases = [
        (as_user(password_server, user="rdb_login", password="not-it", dbname="rdb_exists"),
         10, "AuthenticationFailed", "check the user and password in RESULTSDB_URL"),
        (as_user(db_url, dbname="rdb_no_such_db"), 11, "DatabaseNotFound",
         "does not exist: run `resultsdb init`"),
    ]
    for url, code, name, hint in cases:
        started = time.monotonic()
        result = runner.invoke(app, ["--url", url, "show", "anything"])
        assert time.monotonic() - started < TIMEOUT
        assert result.exit_code == code, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert name in lines[0] and hint in lines[0]
        assert "not-it" not in result.stderr
