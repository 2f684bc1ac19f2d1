"""Secrets and SQL building.

A real login role with a password is created on the test server, and its URL is used
for everything: the password must not appear in logs (DEBUG, every logger), reprs,
exception messages and chains, or CLI output. (On the embedded server authentication
is trust, so the password is carried but not checked; with RESULTSDB_TEST_URL over TCP
it is checked.) The masking functions themselves: tests/test_config.py.

Reader cannot write, writer cannot change the schema: tests/test_roles.py
(test_reader_reads_but_cannot_write_or_create,
test_writer_writes_rows_but_cannot_change_the_schema).
"""

from __future__ import annotations

import ast
import logging
import secrets
import traceback
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from typer.testing import CliRunner

from resultsdb.api import ResultsDB
from resultsdb.cli import app
from resultsdb.config import Settings
from resultsdb.errors import DatabaseUnavailable, ResultsDBError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def secret_url(db_url: str) -> Iterator[tuple[str, str]]:
    """(URL of a login role with a real password, that password) for the test's database."""
    role = f"rdb_sec_{secrets.token_hex(4)}"
    password = f"Pw-{secrets.token_hex(12)}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} login password {} in role pg_read_all_data, "
                             "pg_write_all_data").format(sql.Identifier(role), sql.Literal(password)))
        try:
            params = conninfo_to_dict(db_url)
            host = params.get("host", "localhost")
            url = (f"postgresql://{role}:{password}@/{params['dbname']}?host={host}"
                   f"&port={params.get('port', 5432)}")
            yield url, password
        finally:
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def chain(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def test_the_password_never_appears_in_logs_reprs_or_errors(
        secret_url: tuple[str, str], caplog: pytest.LogCaptureFixture) -> None:
    url, password = secret_url
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):
        with ResultsDB(Settings(slow_query_ms=0), url=url) as rdb:  # every query logged as slow
            seen += [repr(rdb), str(rdb), repr(rdb.db), repr(rdb.settings), str(rdb.settings),
                     rdb.db.masked_url]
            exp = rdb.start_experiment("secret-test")
            rdb.log_summary_metrics(rdb.start_run(exp, "r"), {"sharpe": 1.0})
            for bad in (lambda: rdb.start_experiment("secret-test"),  # AlreadyExists
                        lambda: rdb.get_experiment("missing"),
                        lambda: rdb.db.read(lambda c: c.execute("select * from no_such_table"))):
                with pytest.raises(ResultsDBError) as info:
                    bad()
                seen += [str(info.value), repr(info.value), chain(info.value)]
        # The same password, but a server that is not there: a connection error.
        dead = make_conninfo(url, port="1", host="127.0.0.1")
        with pytest.raises(DatabaseUnavailable) as info:
            ResultsDB(Settings(url=dead, connect_timeout=1, retry_attempts=1)).open()
        seen += [str(info.value), repr(info.value)]
    assert password not in caplog.text
    assert caplog.records  # the test did log at DEBUG
    for text in seen:
        assert password not in text, text


def test_the_password_never_appears_in_cli_output(secret_url: tuple[str, str]) -> None:
    url, password = secret_url
    runner = CliRunner()
    for args in (["--url", url, "status"], ["--url", url, "--json", "status"],
                 ["--url", url, "stats-run", "not-a-uuid"],
                 ["--url", url, "--debug", "health"],
                 ["--url", make_conninfo(url, port="1", host="127.0.0.1", connect_timeout="2"),
                  "status"]):
        result = runner.invoke(app, args)
        out = result.stdout + result.stderr + (chain(result.exception) if result.exception
                                               and not isinstance(result.exception, SystemExit)
                                               else "")
        assert password not in out, args


def test_masking_from_the_string_side_without_a_server() -> None:
    password = "Sup3r-s3cret"
    for url in (f"postgresql://u:{password}@db.example:5432/x",
                f"postgresql+psycopg://u:{password}@db.example/x?sslmode=require",
                f"postgresql://db.example/x?password={password}",
                f"host=db.example user=u password={password} dbname=x"):
        settings = Settings(url=url)
        rdb = ResultsDB(settings)
        for text in (repr(settings), str(settings), repr(rdb), repr(rdb.db), str(settings.masked_url),
                     repr(settings.model_dump())):
            assert password not in text, text


# -- SQL is never built from strings ---------------------------------------------------

SQL_CALLS = {"execute", "executemany", "copy", "stream", "SQL", "Composed"}


def _is_built_string(node: ast.AST) -> bool:
    """An f-string, % formatting, concatenation or .format() call: a string built at run time."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format" and isinstance(node.func.value, ast.Constant))


def built_sql(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in SQL_CALLS and _is_built_string(node.args[0]):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}({ast.unparse(node.args[0])[:60]})")
    return found


def test_the_checker_sees_built_sql() -> None:
    src = ('cur.execute(f"select {x}")\nsql.SQL(f"drop {t}")\nc.execute("a" + b)\n'
           'c.execute("select %s" % v)\nc.copy("copy {} from stdin".format(t))\nc.execute("select 1")\n')
    probe = ROOT / ".resultsdb" / "sql_probe.py"
    probe.parent.mkdir(exist_ok=True)
    probe.write_text(src)
    try:
        assert len(built_sql(probe)) == 5
    finally:
        probe.unlink()


def test_no_sql_is_built_from_strings_in_resultsdb() -> None:
    files = sorted((ROOT / "resultsdb").rglob("*.py"))
    assert len(files) > 30
    offenders = [hit for f in files for hit in built_sql(f)]
    assert offenders == [], "\n".join(offenders)
