"""errmap: the direction of a foreign-key refusal, values past an index's limit, and a
schema that was never migrated - decided from SQLSTATEs and the catalog, not from words.

No other locale is installed on the test machines (``set lc_messages = 'de_DE.UTF-8'`` is
refused), so the server cannot be made to speak another language. The foreign-key tests
take the error a real refusal raised and hand the mapper the same error with its message
and detail replaced: by PostgreSQL's German wording, and by text that says nothing.
"""

from __future__ import annotations

import random
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from resultsdb.api import ResultsDB
from resultsdb.cli import app
from resultsdb.config import Settings
from resultsdb.db import Database
from resultsdb.errors import (
    ConstraintViolation,
    DatabaseError,
    InvalidInput,
    ReferenceNotFound,
    SchemaNotMigrated,
    StillReferenced,
)
from tests._constraint_rows import make_model, make_run

Connection = psycopg.Connection[Any]


def raised(conn: Connection, query: str, *params: Any) -> psycopg.Error:
    """The psycopg error the server raises for ``query``."""
    with pytest.raises(psycopg.Error) as info:
        conn.execute(query, params)
    return info.value


class _Diag:
    """The diagnostic fields of ``real``, but message and detail as given."""

    def __init__(self, real: psycopg.Error, primary: str, detail: str | None) -> None:
        for name in ("table_name", "column_name", "constraint_name", "schema_name"):
            setattr(self, name, getattr(real.diag, name))
        self.message_primary = primary
        self.message_detail = detail


def reworded(real: psycopg.Error, primary: str, detail: str | None) -> psycopg.Error:
    """``real`` as a server writing other words would have sent it (same class, SQLSTATE
    and fields)."""
    diag = _Diag(real, primary, detail)
    cls = type("Reworded", (type(real),), {"diag": property(lambda self: diag)})
    return cls(primary)  # type: ignore[no-any-return]


def test_a_foreign_key_refusal_is_told_apart_by_the_catalog_in_any_language(
        db: Database, conn: Connection) -> None:
    run = make_run(conn)
    model = make_model(conn, run_id=run)
    missing = conn.execute("select uuid_v7()").fetchone()[0]  # type: ignore[index]
    orphan = raised(conn, "insert into models (name, model_type, run_id) values ('m', 'lstm', %s)",
                    missing)
    in_use = raised(conn, "delete from runs where id = %s", run)
    assert orphan.diag.table_name == in_use.diag.table_name == "models"  # no help either way

    german = {  # PostgreSQL's German catalogue
        id(orphan): (
            "Einfügen oder Aktualisieren in Tabelle »models« verletzt Fremdschlüssel-Constraint "
            "»models_run_id_fkey«",
            f"Schlüssel (run_id)=({missing}) ist nicht in Tabelle »runs« vorhanden."),
        id(in_use): (
            "Aktualisieren oder Löschen in Tabelle »runs« verletzt Fremdschlüssel-Constraint "
            "»models_run_id_fkey« von Tabelle »models«",
            f"Auf Schlüssel (id)=({run}) wird noch aus Tabelle »models« verwiesen."),
    }
    for exc in (orphan, in_use):
        primary, detail = german[id(exc)]
        for variant in (exc, reworded(exc, primary, detail)):
            err = db.map_error(variant)
            if exc is orphan:
                assert type(err) is ReferenceNotFound, err
                assert (err.table, err.field, err.columns) == ("models", "run_id", ("run_id",))
                assert str(err).startswith("models.run_id: refers to a row that does not exist")
            else:
                assert type(err) is StillReferenced, err
                assert (err.table, err.field, err.columns) == ("runs", "id", ("id",))
                assert str(err).startswith(
                    "runs.id: cannot delete or change, rows in models (run_id) still reference it")

    # Words that say nothing, and no detail (a role that may not read the table gets
    # none): the SQLSTATE still tells a RESTRICT refusal on PostgreSQL 18 (23001); 23503
    # alone cannot say which side, and the error says so rather than guess.
    for exc in (orphan, in_use):
        err = db.map_error(reworded(exc, "?????", None))
        assert isinstance(err, ConstraintViolation) and err.constraint == "models_run_id_fkey"
        if exc.sqlstate == "23001":
            assert type(err) is StillReferenced and err.table == "runs"
        else:
            assert type(err) is ConstraintViolation, err
            assert "the row it refers to is missing, or a row being deleted is still referenced" \
                in str(err)
    assert conn.execute("select count(*) from models where id = %s", (model,)).fetchone() == (1,)


def cjk(n: int, seed: int = 13) -> str:
    """``n`` random CJK characters (3 bytes each in UTF-8; random, so TOAST cannot
    compress them under the index's limit)."""
    rng = random.Random(seed)
    return "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(n))


@pytest.mark.parametrize(("columns", "field"), [(["label"], "label"), (["label", "note"], None)])
def test_a_value_too_large_for_an_index_names_the_column_from_the_catalog(
        db: Database, conn: Connection, columns: list[str], field: str | None) -> None:
    conn.execute("create table labelled (id int, label text, note text, at timestamptz)")
    conn.execute(f"create index labelled_idx on labelled (id, {', '.join(columns)}, at)")
    calls: list[int] = []

    def insert(c: Connection) -> None:
        calls.append(1)
        c.execute("insert into labelled values (1, %s, %s, now())", (cjk(1000), "x"))

    with pytest.raises(InvalidInput) as info:
        db.write(insert)
    assert calls == [1]  # a program limit, not retried
    assert isinstance(info.value.__cause__, psycopg.errors.ProgramLimitExceeded)
    err = info.value
    assert (err.table, err.field) == ("labelled", field)
    where = f"labelled.{field}" if field else "labelled (label, note)"  # the text columns
    assert str(err).startswith(f"{where}: value too large to index in labelled_idx")
    assert conn.execute("select count(*) from labelled").fetchone() == (0,)


# -- a database that was never migrated ------------------------------------------------------


def test_a_call_before_migrate_says_schema_not_migrated(empty_db_url: str) -> None:
    with ResultsDB(Settings(retry_attempts=3), url=empty_db_url) as rdb:
        for call in (lambda: rdb.start_experiment("too-early"), rdb.experiments):
            with pytest.raises(SchemaNotMigrated) as info:
                call()
            assert str(info.value).startswith("schema not migrated: run `resultsdb migrate`")
            assert "\n" not in str(info.value)


def test_a_missing_table_is_ours_only_while_migrations_are_pending(db: Database,
                                                                   conn: Connection) -> None:
    def missing_table() -> None:
        db.read(lambda c: c.execute("select * from no_such_table"))

    with pytest.raises(DatabaseError) as info:
        missing_table()  # every migration applied: the caller named a table that is not ours
    assert type(info.value) is DatabaseError
    assert str(info.value).startswith("UndefinedTable: ")
    last = conn.execute("select max(migration_id) from _yoyo_migration").fetchone()[0]  # type: ignore[index]
    conn.execute("delete from _yoyo_migration where migration_id = %s", (last,))
    with pytest.raises(SchemaNotMigrated):
        missing_table()  # one behind: the table may be one the pending migration adds


def test_a_cli_command_before_migrate_says_schema_not_migrated(empty_db_url: str) -> None:
    result = CliRunner().invoke(app, ["--url", empty_db_url, "show", "anything"])
    assert result.exit_code == 12, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SchemaNotMigrated" in lines[0]
    assert "schema not migrated: run `resultsdb migrate`" in lines[0]
    assert "UndefinedTable" not in result.stderr
