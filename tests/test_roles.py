"""`resultsdb roles`: owner, writer and reader group roles with least privilege.

Proved with real login roles (with passwords) connecting to the test database: the
reader reads and cannot write or create; the writer writes every table the pipeline
writes (the whole seed) and cannot alter, create, drop or truncate; the owner owns the
schema. Roles are cluster-wide, so each test uses its own prefix and drops its roles.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import errors as pgerrors
from psycopg import sql
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from resultsdb.cli import app
from resultsdb.db import Database
from resultsdb.errors import InvalidInput
from resultsdb.repositories import roles
from resultsdb.seed import seed

PASSWORD = "Tr0ub4dor&3-correct-horse"  # a test password: it must never be shown


@pytest.fixture
def prefix(db_url: str) -> Iterator[str]:
    """A role prefix for this test alone; its roles (and logins named after it) are dropped."""
    name = f"rdbt_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(db_url, autocommit=True) as c:
        made = [r[0] for r in c.execute("select rolname from pg_roles where rolname like %s",
                                        [f"{name}%"])]
        # One at a time, grantees before the owner: DROP OWNED BY several roles at once
        # trips over a default-privileges entry that one owns and another is granted in.
        made.sort(key=lambda r: r.endswith("_owner"))
        for role in made:
            c.execute(sql.SQL("reassign owned by {} to current_user").format(sql.Identifier(role)))
            c.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
        for role in made:
            c.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


@pytest.fixture
def login(db: Database, db_url: str, prefix: str) -> Callable[[str], str]:
    """``login(group)``: a login role in that group, with a password; its connection string."""
    def make(group: str) -> str:
        name = f"{prefix}_{group}_login"
        roles.ensure_roles(db, prefix=prefix, login=name, group=group, password=PASSWORD)
        return make_conninfo(db_url, user=name, password=PASSWORD)
    return make


def refused(conn: psycopg.Connection[Any], statement: str, *args: Any) -> str:
    """Run a statement that must be refused for want of privilege; the server's message."""
    with pytest.raises(pgerrors.InsufficientPrivilege) as info, conn.transaction():
        conn.execute(statement, args or None)
    return str(info.value)


def scram_matches(verifier: str, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier is for this password (RFC 5802 StoredKey).

    The test servers trust local connections, so a login alone would not prove it.
    """
    head, keys = verifier.split("$", 1)[1].split("$")
    iterations, salt = head.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key


def test_roles_are_created_once_and_own_the_schema(db: Database, conn: Any, prefix: str) -> None:
    first = roles.ensure_roles(db, prefix=prefix)
    names = roles.RoleNames.with_prefix(prefix)
    assert sorted(first.created) == sorted(names.all())
    assert "runs" in first.reassigned and "run_summaries" in first.reassigned

    again = roles.ensure_roles(db, prefix=prefix)  # idempotent
    assert again.created == [] and again.reassigned == []
    by_name = {r.name: r for r in again.roles}
    assert not any(r.can_login for r in by_name.values())
    assert by_name[names.writer].member_of == [names.reader]
    assert by_name[names.reader].member_of == []

    not_owned = conn.execute(
        """select c.relname from pg_class c
            where c.relnamespace = current_schema()::regnamespace
              and c.relkind in ('r', 'p', 'v') and c.relowner <> %s::regrole
           union all
           select proname from pg_proc
            where pronamespace = current_schema()::regnamespace and proowner <> %s::regrole""",
        [names.owner, names.owner]).fetchall()
    assert not_owned == []


def test_prefix_and_login_names_are_checked(db: Database) -> None:
    with pytest.raises(InvalidInput, match="prefix"):
        roles.ensure_roles(db, prefix="Robert'); drop table runs; --")
    with pytest.raises(InvalidInput, match="login"):
        roles.ensure_roles(db, prefix="rdbt_x", login="Bad Name")
    with pytest.raises(InvalidInput, match="group"):
        roles.ensure_roles(db, prefix="rdbt_x", login="rdbt_x_l", group="admin")


def test_privileged_roles_are_never_turned_into_logins(db: Database, conn: Any, prefix: str) -> None:
    me = conn.execute("select current_user").fetchone()[0]
    before = conn.execute("select rolpassword from pg_authid where rolname = %s", [me]).fetchone()
    with pytest.raises(InvalidInput, match="privileged"):
        roles.ensure_roles(db, prefix=prefix, login=me, group="reader", password=PASSWORD)
    after = conn.execute("select rolpassword from pg_authid where rolname = %s", [me]).fetchone()
    assert before == after
    assert conn.execute("select count(*) from pg_roles where rolname like %s",
                        [f"{prefix}%"]).fetchone()[0] == 0  # one transaction: nothing stayed


def test_reader_reads_but_cannot_write_or_create(
        db: Database, login: Callable[[str], str], prefix: str) -> None:
    seed(db)
    with psycopg.connect(login("reader"), autocommit=True) as c:
        assert c.execute("select current_user").fetchone()[0] == f"{prefix}_reader_login"
        run_id = c.execute("select run_id from run_summaries order by run_id limit 1").fetchone()[0]
        assert c.execute("select count(*) from equity_curves").fetchone()[0] > 0
        assert c.execute("select count(*) from leaderboard").fetchone()[0] > 0
        assert "permission denied" in refused(
            c, "insert into experiments (name) values ('nope')")
        refused(c, "update runs set name = 'x' where id = %s", run_id)
        refused(c, "delete from runs where id = %s", run_id)
        refused(c, "create table reader_table (x int)")
        refused(c, "create view reader_view as select 1")
        refused(c, "select maintain_series_partitions()")
        refused(c, "select ensure_series_partition(now() + interval '6 months')")


def test_writer_writes_rows_but_cannot_change_the_schema(
        db: Database, conn: Any, login: Callable[[str], str], prefix: str) -> None:
    url = login("writer")
    with Database(url=url) as as_writer:
        summary = seed(as_writer)  # every table the pipeline writes, triggers included
    assert summary.inserted and all(n > 0 for n in summary.counts.values())

    with psycopg.connect(url, autocommit=True) as c:
        version = c.execute("select id from model_versions where status = 'archived'").fetchone()[0]
        # A delete cascades to the audit trail, which the writer itself may not delete from.
        c.execute("delete from model_versions where id = %s", [version])
        refused(c, "alter table runs add column notes text")
        refused(c, "create table writer_table (x int)")
        refused(c, "drop table trade_logs")
        refused(c, "truncate equity_curves")
        refused(c, "create index on runs (name)")
        refused(c, "alter table equity_curves detach partition equity_curves_default")
        refused(c, "insert into status_transitions values ('runs', 'completed', 'running')")
        refused(c, "update model_version_transitions set reason = 'rewritten'")
        refused(c, "delete from model_version_transitions")
        refused(c, "delete from _yoyo_migration")
        # Partition DDL directly: no. Through the owner's bounded function: yes.
        refused(c, "select ensure_series_partition(now() + interval '7 months')")
        with pytest.raises(pgerrors.InvalidParameterValue):
            c.execute("select maintain_series_partitions(25)")
        created = [r[0] for r in c.execute("select maintain_series_partitions(6)")]
        # migrate made the current month and 3 ahead: months 4 to 6 are new.
        months = {p.rsplit("_p", 1)[1] for p in created}
        assert len(months) == 3 and f"equity_curves_p{min(months)}" in created
    owner = roles.RoleNames.with_prefix(prefix).owner
    owners = {r[0] for r in conn.execute(
        "select pg_get_userbyid(relowner) from pg_class where relname = any(%s)", [created])}
    assert owners == {owner}
    # Default privileges: the new partitions are readable by readers at once.
    with psycopg.connect(login("reader"), autocommit=True) as c:
        c.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(created[0])))


def test_owner_login_acts_as_the_owner_and_its_tables_get_the_grants(
        db: Database, login: Callable[[str], str], prefix: str) -> None:
    names = roles.RoleNames.with_prefix(prefix)
    with psycopg.connect(login("owner"), autocommit=True) as c:
        assert c.execute("select current_user").fetchone()[0] == names.owner
        c.execute("create table owner_notes (run_id uuid primary key, note text)")
        c.execute("alter table runs add column owner_was_here text")  # DDL: the owner may
    with psycopg.connect(login("writer"), autocommit=True) as c:
        c.execute("insert into owner_notes values (uuid_v7(), 'later table, same grants')")
    with psycopg.connect(login("reader"), autocommit=True) as c:
        assert c.execute("select count(*) from owner_notes").fetchone()[0] == 1
        refused(c, "insert into owner_notes values (uuid_v7(), 'no')")


def test_a_login_moves_between_groups(db: Database, conn: Any, prefix: str) -> None:
    name = f"{prefix}_mover"
    roles.ensure_roles(db, prefix=prefix, login=name, group="owner")
    report = roles.ensure_roles(db, prefix=prefix, login=name, group="reader")
    assert {r.name: r.member_of for r in report.roles}[name] == [f"{prefix}_reader"]
    assert conn.execute("select rolconfig from pg_roles where rolname = %s",
                        [name]).fetchone()[0] is None  # no longer acts as the owner
    assert report.login == name and report.password_set is False


def test_the_password_is_stored_hashed_and_never_shown(
        db_url: str, conn: Any, prefix: str) -> None:
    env = {"RDBT_PASSWORD": PASSWORD}
    result = CliRunner().invoke(app, ["--url", db_url, "--json", "roles", "--prefix", prefix,
                                      "--login", f"{prefix}_app", "--group", "writer",
                                      "--password-env", "RDBT_PASSWORD"], env=env)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.stdout and PASSWORD not in result.stderr
    report = json.loads(result.stdout)
    assert report["login"] == f"{prefix}_app" and report["password_set"] is True
    stored = conn.execute("select rolpassword from pg_authid where rolname = %s",
                          [f"{prefix}_app"]).fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$") and PASSWORD not in stored
    assert scram_matches(stored, PASSWORD) and not scram_matches(stored, PASSWORD + "x")
    with psycopg.connect(make_conninfo(db_url, user=f"{prefix}_app", password=PASSWORD)) as c:
        assert c.execute("select 1").fetchone() == (1,)

    # Failing after the password was read: run by a role that may not create roles.
    app_url = make_conninfo(db_url, user=f"{prefix}_app", password=PASSWORD)
    for args in (["roles", "--prefix", f"{prefix}_x", "--login", f"{prefix}_x_app",
                  "--password-env", "RDBT_PASSWORD"],
                 ["--debug", "roles", "--prefix", f"{prefix}_x", "--login", f"{prefix}_x_app",
                  "--password-env", "RDBT_PASSWORD"]):
        failed = CliRunner().invoke(app, ["--url", app_url, *args], env=env)
        assert failed.exit_code != 0
        shown = failed.stdout + failed.stderr + repr(failed.exception)
        assert PASSWORD not in shown, shown
        if "--debug" not in args:
            assert "permission denied" in failed.stderr and len(failed.stderr.splitlines()) == 1


def test_password_env_must_be_set(db_url: str, prefix: str) -> None:
    result = CliRunner().invoke(app, ["--url", db_url, "roles", "--prefix", prefix,
                                      "--login", f"{prefix}_app", "--password-env", "RDBT_UNSET"],
                                env={"RDBT_UNSET": ""})
    assert result.exit_code == 4
    assert "RDBT_UNSET is not set" in result.stderr
