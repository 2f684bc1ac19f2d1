"""psycopg errors into the resultsdb hierarchy (resultsdb.errors).

Messages name the table and field, in the catalog's words where a constraint has a
comment (the ``constraint_catalog`` query, read once per Database and re-read when an
error names a relation it does not know, such as a partition created since). Every text
taken from the server passes through ``mask_dsns`` first: a connection string in it never
shows its password.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import psycopg
from psycopg import errors as pgerrors

from resultsdb.config import mask_dsns
from resultsdb.errors import (
    AlreadyExists,
    ConstraintViolation,
    DatabaseError,
    DatabaseUnavailable,
    InvalidInput,
    InvalidTransition,
    ProtectedRow,
    ReferenceNotFound,
    ResultsDBError,
    StillReferenced,
    Timeout,
    TransientError,
)
from resultsdb.records import ConstraintInfo


class ErrorMapper:
    """Translates psycopg errors for one Database: ``catalog`` lists its constraints,
    tables and partitions."""

    def __init__(self, catalog: Callable[[], list[ConstraintInfo]]) -> None:
        self._catalog = catalog
        self._constraints: dict[str, ConstraintInfo] | None = None

    def constraint(self, name: str | None) -> ConstraintInfo | None:
        """Catalog description of a constraint, table or partition (read once, cached)."""
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
        message = mask_dsns((diag.message_primary or str(exc)).strip())
        table = diag.table_name
        column = diag.column_name
        cname = diag.constraint_name
        sqlstate = exc.sqlstate or ""
        if sqlstate == "RS001":
            detail = dict(kv.split("=", 1) for kv in (diag.message_detail or "").split() if "=" in kv)
            return InvalidTransition(message, table=table, from_status=detail.get("from"),
                                     to_status=detail.get("to"))
        if sqlstate == "RS002":
            where = f"{table}.{column}" if table and column else (table or "row")
            return ProtectedRow(f"{where}: {message}", table=table, field=column,
                                columns=(column,) if column else ())
        if isinstance(exc, pgerrors.IntegrityError):
            return self._integrity(exc, message, table, column, cname)
        if isinstance(exc, pgerrors.QueryCanceled):
            return Timeout(f"statement cancelled: {message}")
        if isinstance(exc, pgerrors.SerializationFailure | pgerrors.DeadlockDetected
                      | pgerrors.LockNotAvailable):
            return TransientError(message)
        if isinstance(exc, pgerrors.DataError):
            return InvalidInput(f"invalid value: {message}", field=column, table=table)
        if isinstance(exc, psycopg.OperationalError | pgerrors.AdminShutdown
                      | pgerrors.CannotConnectNow):
            return DatabaseUnavailable(f"database unavailable: {message}")
        return DatabaseError(f"{type(exc).__name__}: {message}")

    def _integrity(self, exc: psycopg.Error, message: str, table: str | None,
                   column: str | None, cname: str | None) -> ResultsDBError:
        detail = mask_dsns(exc.diag.message_detail or "")
        key_cols = re.match(r"Key \(([^)]*)\)", detail)
        columns = tuple(c.strip() for c in key_cols.group(1).split(",")) if key_cols else ()
        if (cname and self.constraint(cname) is None) or (table and self.constraint(table) is None):
            self._constraints = None  # a partition created after the catalog was read
        info = self.constraint(cname)
        if info is not None:
            table = info.table_name
            columns = columns or tuple(info.columns)
        elif table and (rel := self.constraint(table)) is not None:
            table = rel.table_name  # the catalog lists each partition under its own name
        if column and not columns:
            columns = (column,)
        field = column or (columns[0] if len(columns) == 1 else None)
        if isinstance(exc, pgerrors.CheckViolation) and columns and not field:
            field = columns[0]  # a rule over several columns is worded about the first it names
        where = f"{table}.{field}" if table and field else (table or "row")
        if isinstance(exc, pgerrors.UniqueViolation):
            what = ", ".join(columns) if columns else (cname or "key")
            text = f"{table or 'row'}: a row with this ({what}) already exists"
            if info and info.description:
                text += f" ({info.description})"
            return AlreadyExists(text, constraint=cname, table=table, field=field, columns=columns)
        # ON DELETE RESTRICT raises restrict_violation on PostgreSQL 18, foreign_key_violation
        # ("is still referenced") before. The row refused is in the referenced table, which
        # only the message names: diag.table_name is the referencing one.
        if isinstance(exc, pgerrors.RestrictViolation) or (
                isinstance(exc, pgerrors.ForeignKeyViolation) and "referenced from table" in detail):
            target = re.search(r'on table "([^"]+)" violates', message)
            if target:
                rel = self.constraint(target.group(1))
                table = rel.table_name if rel else target.group(1)
            ref = re.search(r'from table "([^"]+)"', detail)
            by = ref.group(1) if ref else "another table"
            if info is not None:
                by = f"{info.table_name} ({', '.join(info.columns)})"
            where = f"{table}.{field}" if table and field else (table or "row")
            return StillReferenced(
                f"{where}: cannot delete or change, rows in {by} still reference it",
                constraint=cname, table=table, field=field, columns=columns)
        if isinstance(exc, pgerrors.ForeignKeyViolation):
            return ReferenceNotFound(
                f"{where}: refers to a row that does not exist ({detail or message})",
                constraint=cname, table=table, field=field, columns=columns)
        if isinstance(exc, pgerrors.NotNullViolation):
            return ConstraintViolation(f"{where}: must not be null", constraint=cname,
                                       table=table, field=field, columns=columns)
        rule = info.description if info and info.description else f"violates {cname or message}"
        return ConstraintViolation(f"{where}: {rule}", constraint=cname, table=table,
                                   field=field, columns=columns)
