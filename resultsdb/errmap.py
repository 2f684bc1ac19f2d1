"""psycopg errors into the resultsdb hierarchy (resultsdb.errors).

The class comes from the error's SQLSTATE (:mod:`resultsdb.sqlstate`, the one table that
also says what is retried); nothing here reads the server's words to decide, so the
mapping holds under any ``lc_messages``. Messages name the table and field, in the
catalog's words where a constraint has a comment (the ``constraint_catalog`` query,
read once per Database and re-read when an error names a relation it does not know,
such as a partition created since). Every text taken from the server passes through
``mask_dsns`` first: a connection string in it never shows its password.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import psycopg

from resultsdb import sqlstate
from resultsdb.config import mask_dsns
from resultsdb.errors import (
    AlreadyExists,
    AuthenticationFailed,
    CommitOutcomeUnknown,
    ConstraintViolation,
    DatabaseError,
    DatabaseNotFound,
    DatabaseUnavailable,
    InvalidInput,
    InvalidTransition,
    ProtectedRow,
    ReferenceNotFound,
    ResourceExhausted,
    ResultsDBError,
    SchemaNotMigrated,
    StillReferenced,
    Timeout,
    TransientError,
)
from resultsdb.records import ConstraintInfo

# How each class words the server's message: one line, with what to do about it.
_WORDS: dict[type[ResultsDBError], str] = {
    DatabaseUnavailable: "database unavailable: {message}",
    TransientError: "{message}",
    Timeout: "statement cancelled: {message}",
    CommitOutcomeUnknown: "the server cannot tell whether the statement completed; it may or "
                          "may not have been stored ({message})",
    ResourceExhausted: "the database server ran out of resources: {message}",
    AuthenticationFailed: "authentication failed: {message}; check the user and password "
                          "in RESULTSDB_URL",
    DatabaseNotFound: "database does not exist: run `resultsdb init` ({message})",
    SchemaNotMigrated: "schema not migrated: run `resultsdb migrate` ({message})",
}

# "(a, b)=(1, 2)": the key a detail quotes. The words around it are translated, the
# column names are not, so this reads the same in every language the server speaks.
_KEY = re.compile(r"\(([^()]*)\)=\(")


def said(exc: psycopg.Error) -> str:
    """What the server (or libpq) said, on one line, any connection string in it masked."""
    lines = (exc.diag.message_primary or str(exc)).strip().splitlines()
    return mask_dsns(lines[0].strip() if lines else type(exc).__name__)


class ErrorMapper:
    """Translates psycopg errors for one Database: ``catalog`` lists its constraints,
    indexes, tables and partitions; ``behind`` says whether migrations are pending."""

    def __init__(self, catalog: Callable[[], list[ConstraintInfo]],
                 behind: Callable[[], bool]) -> None:
        self._catalog = catalog
        self._behind = behind
        self._constraints: dict[str, ConstraintInfo] | None = None

    def constraint(self, name: str | None) -> ConstraintInfo | None:
        """Catalog description of a constraint, index, table or partition (read once, cached)."""
        if not name:
            return None
        if self._constraints is None:
            try:
                self._constraints = {c.name: c for c in self._catalog()}
            except psycopg.Error:
                return None
        return self._constraints.get(name)

    def map(self, exc: psycopg.Error) -> ResultsDBError:
        """The resultsdb error for a psycopg one."""
        diag = exc.diag
        message = said(exc)
        table = diag.table_name
        column = diag.column_name
        error = sqlstate.rule_of(exc).error
        if error is InvalidTransition:
            detail = dict(kv.split("=", 1) for kv in (diag.message_detail or "").split() if "=" in kv)
            return InvalidTransition(message, table=table, from_status=detail.get("from"),
                                     to_status=detail.get("to"))
        if error is ProtectedRow:
            where = f"{table}.{column}" if table and column else (table or "row")
            return ProtectedRow(f"{where}: {message}", table=table, field=column,
                                columns=(column,) if column else ())
        if error is ConstraintViolation:
            return self._integrity(exc, message, table, column, diag.constraint_name)
        if error is InvalidInput:
            if (exc.sqlstate or "").startswith("54"):
                return self._too_large(message, table, diag.constraint_name)
            return InvalidInput(f"invalid value: {message}", field=column, table=table)
        if error is SchemaNotMigrated and not self._migrations_pending():
            error = DatabaseError  # a table that is not ours: the caller's query is wrong
        words = _WORDS.get(error, "{kind}: {message}")
        return error(words.format(kind=type(exc).__name__, message=message))

    def _migrations_pending(self) -> bool:
        try:
            return self._behind()
        except psycopg.Error:
            return False

    def _too_large(self, message: str, table: str | None, cname: str | None) -> InvalidInput:
        """54xxx: a value past one of the server's limits. An index row that outgrew its
        page names the index; the catalog says which column of it can be that large."""
        if cname and self.constraint(cname) is None:
            self._constraints = None  # an index created after the catalog was read
        info = self.constraint(cname)
        if info is None:
            return InvalidInput(f"{table or 'input'}: past a limit of the database: {message}",
                                table=table)
        field = info.columns[0] if len(info.columns) == 1 else None
        where = f"{info.table_name}.{field}" if field else (
            f"{info.table_name} ({', '.join(info.columns)})" if info.columns else info.table_name)
        return InvalidInput(f"{where}: value too large to index in {info.name} ({message})",
                            field=field, table=info.table_name)

    def _integrity(self, exc: psycopg.Error, message: str, table: str | None,
                   column: str | None, cname: str | None) -> ResultsDBError:
        detail = mask_dsns(exc.diag.message_detail or "")
        key = _KEY.search(detail)
        columns = tuple(c.strip() for c in key.group(1).split(",")) if key else ()
        if (cname and self.constraint(cname) is None) or (table and self.constraint(table) is None):
            self._constraints = None  # a partition created after the catalog was read
        info = self.constraint(cname)
        if info is not None and info.referenced_table is not None:
            return self._foreign_key(exc, message, detail, info, columns)
        if info is not None:
            table = info.table_name
            columns = columns or tuple(info.columns)
        elif table and (rel := self.constraint(table)) is not None:
            table = rel.table_name  # the catalog lists each partition under its own name
        if column and not columns:
            columns = (column,)
        field = column or (columns[0] if len(columns) == 1 else None)
        if exc.sqlstate == "23514" and columns and not field:
            field = columns[0]  # a rule over several columns is worded about the first it names
        where = f"{table}.{field}" if table and field else (table or "row")
        if exc.sqlstate == "23505":
            what = ", ".join(columns) if columns else (cname or "key")
            text = f"{table or 'row'}: a row with this ({what}) already exists"
            if info and info.description:
                text += f" ({info.description})"
            return AlreadyExists(text, constraint=cname, table=table, field=field, columns=columns)
        if exc.sqlstate == "23502":
            return ConstraintViolation(f"{where}: must not be null", constraint=cname,
                                       table=table, field=field, columns=columns)
        rule = info.description if info and info.description else f"violates {cname or message}"
        return ConstraintViolation(f"{where}: {rule}", constraint=cname, table=table,
                                   field=field, columns=columns)

    @staticmethod
    def _foreign_key(exc: psycopg.Error, message: str, detail: str, info: ConstraintInfo,
                     columns: tuple[str, ...]) -> ConstraintViolation:
        """Which side of a foreign key was refused. diag.table_name is the referencing table
        either way; the SQLSTATE says it for ON DELETE RESTRICT on PostgreSQL 18 (23001),
        else the key the detail quotes is either the referencing columns (a row refers to
        one that does not exist) or the referenced ones (a row being deleted or changed is
        still referenced)."""
        child, parent = tuple(info.columns), tuple(info.referenced_columns)
        referenced = exc.sqlstate == "23001" or (bool(columns) and columns == parent != child)
        if referenced:
            table = info.referenced_table
            field = parent[0] if len(parent) == 1 else None
            where = f"{table}.{field}" if field else f"{table}"
            return StillReferenced(
                f"{where}: cannot delete or change, rows in {info.table_name} "
                f"({', '.join(child)}) still reference it",
                constraint=info.name, table=table, field=field, columns=parent)
        field = child[0] if len(child) == 1 else None
        where = f"{info.table_name}.{field}" if field else info.table_name
        if columns and columns == child:
            return ReferenceNotFound(
                f"{where}: refers to a row that does not exist ({detail or message})",
                constraint=info.name, table=info.table_name, field=field, columns=child)
        # No key quoted (a role that may not read the table gets none) or both sides named
        # alike: the server said nothing that tells the direction.
        return ConstraintViolation(
            f"{where}: violates foreign key {info.name} to {info.referenced_table}: the row it "
            f"refers to is missing, or a row being deleted is still referenced ({message})",
            constraint=info.name, table=info.table_name, field=field, columns=child)
