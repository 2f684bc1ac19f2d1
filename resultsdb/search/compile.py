"""A parsed filter and order -> one statement, from the pieces in ``sql/fragments``.

Nothing the caller wrote reaches the SQL text: values are bound parameters (``%(pN)s``),
metric, tag and parameter names too; columns come from the attribute allowlist through
``psycopg.sql.Identifier``, operators from a fixed table. Each value is checked against the
key's type first (a status that is not one, a date that is not one, a string compared with
a metric), so a mistake is InvalidInput naming the key, not a server error.

Pages are keyset pages over (order keys..., id). Nulls sort last in either direction, as in
MLflow and pandas. When the first key is a metric, the runs that report it are read first,
walking the (key, value) index (phase 1); the runs without it follow (phase 2), unless the
filter itself needs the metric, which is the common case and then costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from resultsdb.errors import InvalidInput
from resultsdb.search.filter import (
    And,
    Compare,
    In,
    IsNull,
    Key,
    Like,
    Node,
    Not,
    Or,
    OrderKey,
    Value,
)

RUN_STATUSES = ("scheduled", "running", "completed", "failed", "killed")

# Attribute -> (type, nullable). "experiment" is the experiment's name (a join).
ATTRIBUTE_TYPES: dict[str, tuple[type, bool]] = {
    "id": (UUID, False), "name": (str, True), "status": (str, False), "run_type": (str, False),
    "experiment": (str, False), "experiment_id": (UUID, False), "parent_run_id": (UUID, True),
    "start_time": (datetime, True), "end_time": (datetime, True), "created_at": (datetime, False),
    "updated_at": (datetime, False), "error_type": (str, True), "trial_count": (int, False),
}
SORTABLE = frozenset(ATTRIBUTE_TYPES) - {"experiment"}
_OPS = {op: sql.SQL(op) for op in ("=", "!=", "<", "<=", ">", ">=")}
_LIKE = {False: sql.SQL("like"), True: sql.SQL("ilike")}


@dataclass
class Statement:
    """What a phase sends: the statement and its bound values."""

    sql: sql.Composed
    params: dict[str, Any]


@dataclass
class _Composer:
    """Builds one statement from the pieces of ``sql/fragments/search_runs.sql``."""

    fragments: Mapping[str, str]
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> sql.Placeholder:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    def frag(self, name: str, **parts: sql.Composable) -> sql.Composed:
        return sql.SQL(self.fragments[name]).format(**parts)

    def join(self, word: str, items: Sequence[sql.Composable]) -> sql.Composable:
        if not items:
            return self.frag("true" if word == "and" else "false")
        if len(items) == 1:
            return items[0]
        space, joiner = sql.SQL(" "), sql.SQL(self.fragments[word])
        parts: list[sql.Composable] = [items[0]]
        for item in items[1:]:
            parts += [space, joiner, space, item]
        joined = sql.Composed(parts)
        return self.frag("group", item=joined)


class Compiler:
    """One search's filter and order, compiled into the statement of each phase."""

    def __init__(self, node: Node | None, order: Sequence[OrderKey], *, field: str = "where"):
        self.node = node
        self.order = list(order)
        self.field = field
        for item in self.order:
            self._check_order(item)
        first = self.order[0].key if self.order else None
        self.metric_first = first.name if first is not None and first.kind == "metric" else None
        if node is not None:
            self._check(node)  # every value against its key's type, before any SQL

    # -- checks ----------------------------------------------------------------------

    def _check_order(self, item: OrderKey) -> None:
        key = item.key
        if key.kind == "attribute" and key.name not in SORTABLE:
            raise InvalidInput(f"order_by: cannot order by {key.text}; order by an attribute ("
                               f"{', '.join(sorted(SORTABLE))}) or a metric", field="order_by")
        if key.kind in ("param", "tag"):
            raise InvalidInput(f"order_by: cannot order by {key.text}; order by a metric or an "
                               f"attribute ({', '.join(sorted(SORTABLE))})", field="order_by")

    def _check(self, node: Node) -> None:
        if isinstance(node, And | Or):
            for item in node.items:
                self._check(item)
        elif isinstance(node, Not):
            self._check(node.item)
        elif isinstance(node, Compare):
            self._value(node.key, node.value, node.op)
        elif isinstance(node, In):
            for v in node.values:
                self._value(node.key, v, "=")
        elif isinstance(node, Like):
            if node.key.kind == "metric" or (
                    node.key.kind == "attribute" and ATTRIBUTE_TYPES[node.key.name][0] is not str):
                raise InvalidInput(f"{self.field}: {node.key.text} (column {node.key.column}) is "
                                   "not text: like compares text", field=self.field)

    def _value(self, key: Key, value: Value, op: str) -> Any:
        """``value`` as bound for ``key``; InvalidInput when it cannot be compared with it."""
        where = f"{self.field}: {key.text} (column {key.column})"
        if key.kind == "metric":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(f"{where} is a number; got {value!r}", field=self.field)
            return float(value)
        if key.kind in ("param", "tag"):
            if op not in ("=", "!=") and isinstance(value, bool):
                raise InvalidInput(f"{where}: {op} compares numbers or strings, not {value!r}",
                                   field=self.field)
            return value
        kind = ATTRIBUTE_TYPES[key.name][0]
        if kind is str:
            if not isinstance(value, str):
                raise InvalidInput(f"{where} is text; quote the value: '{value}'", field=self.field)
            if key.name == "status" and op in ("=", "!=") and value not in RUN_STATUSES:
                raise InvalidInput(f"{where}: {value!r} is not a run status; one of "
                                   f"{', '.join(RUN_STATUSES)}", field=self.field)
            return value
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"{where} is a whole number; got {value!r}", field=self.field)
            return value
        if kind is UUID:
            try:
                if isinstance(value, str):
                    return UUID(value)
            except ValueError:
                pass
            raise InvalidInput(f"{where} is a run or experiment id (a UUID); got {value!r}",
                               field=self.field)
        return as_timestamp(value, where=where, field=self.field)

    # -- statements ------------------------------------------------------------------

    def needs_first_metric(self) -> bool:
        """True when the filter holds only for runs that report the first order metric: a
        top-level conjunct compares it. Then no run lacks it and phase 2 is skipped."""
        if self.metric_first is None:
            return False
        conjuncts = self.node.items if isinstance(self.node, And) else (self.node,)
        for item in conjuncts:
            if isinstance(item, Compare | In) and item.key.kind == "metric" \
                    and item.key.name == self.metric_first and not getattr(item, "negated", False):
                return True
            if isinstance(item, IsNull) and item.negated and item.key.kind == "metric" \
                    and item.key.name == self.metric_first:
                return True
        return False

    def statement(self, fragments: Mapping[str, str], *, experiments: list[UUID] | None,
                  after: Sequence[Any] | None, after_id: UUID | None, limit: int,
                  phase: int) -> Statement:
        """The statement of one phase (1: runs with the first order metric, or every run
        when the first key is not a metric; 2: runs without it), past the cursor, from the
        pieces in ``fragments`` (``sql/fragments/search_runs.sql``)."""
        c = _Composer(fragments)
        keys = self.order if phase == 1 else self.order[1:]
        after_values = list(after or []) if phase == 1 else list(after or [])[1:]
        join: sql.Composable = sql.SQL("")
        exprs: list[tuple[sql.Composable, bool, bool]] = []  # (expr, descending, nullable)
        for i, item in enumerate(keys):
            key = item.key
            if key.kind == "metric" and i == 0 and phase == 1:
                join = c.frag("order_metric_join", key=c.bind(key.name))
                exprs.append((c.frag("order_metric"), item.descending, False))
            elif key.kind == "metric":
                exprs.append((c.frag("metric_value", key=c.bind(key.name)), item.descending, True))
            else:
                nullable = ATTRIBUTE_TYPES[key.name][1]
                exprs.append((sql.Identifier("r", key.name), item.descending, nullable))
        # The last key is the id, in the first key's direction (the index's order).
        first_desc = self.order[0].descending if self.order else False
        exprs.append((sql.Identifier("r", "id"), first_desc, False))

        where: list[sql.Composable] = []
        if experiments is not None:
            where.append(c.frag("scope", experiments=c.bind(experiments)))
        if self.node is not None:
            where.append(self._node(c, self.node, phase))
        if phase == 2 and self.metric_first is not None:
            where.append(c.frag("not", item=c.frag("metric_present",
                                                   key=c.bind(self.metric_first))))
        if after_id is not None:
            where.extend(self._keyset(c, exprs, [*after_values, after_id]))
        order = sql.SQL(", ").join(
            c.frag("order_desc_nulls_last" if desc and nullable else
                   "order_desc" if desc else "order_asc", expr=expr)
            for expr, desc, nullable in exprs)
        statement = c.frag("statement", join=join, where=c.join("and", where), order=order,
                           limit=sql.Literal(limit))
        return Statement(statement, c.params)

    def _keyset(self, c: _Composer, exprs: list[tuple[sql.Composable, bool, bool]],
                values: list[Any]) -> list[sql.Composable]:
        """Rows after the cursor ``values`` in the order ``exprs`` (nulls last): the
        disjunction over i of (keys before i equal, key i after), and the first key's
        bound as a plain range an index can use."""
        terms: list[sql.Composable] = []
        equal: list[sql.Composable] = []
        for (expr, desc, nullable), value in zip(exprs, values, strict=True):
            if value is not None:
                after = c.frag("after_desc" if desc else "after_asc", expr=expr, value=c.bind(value))
                if nullable:
                    after = c.frag("after_or_null", after=after, expr=expr)
                terms.append(c.join("and", [*equal, after]))
                equal.append(c.frag("equals", expr=expr, value=c.bind(value)))
            else:  # a null: only the nulls after it, by the next keys
                equal.append(c.frag("is_null", expr=expr))
        out: list[sql.Composable] = [c.join("or", terms)]
        (expr, desc, nullable), value = exprs[0], values[0]
        if value is not None and not nullable:
            out.append(c.frag("from_desc" if desc else "from_asc", expr=expr, value=c.bind(value)))
        return out

    def _node(self, c: _Composer, node: Node, phase: int) -> sql.Composable:
        if isinstance(node, And):
            return c.join("and", [self._node(c, n, phase) for n in node.items])
        if isinstance(node, Or):
            return c.join("or", [self._node(c, n, phase) for n in node.items])
        if isinstance(node, Not):
            return c.frag("not", item=self._node(c, node.item, phase))
        key = node.key
        if key.kind == "metric":
            return self._metric(c, node, phase)
        if key.kind == "param":
            return self._params(c, node)
        if key.kind == "tag":
            test = self._json_test(c, node, sql.Identifier("r", "tags"))
            if isinstance(node, IsNull):
                return test if node.negated else c.frag("not", item=test)
            contains = isinstance(node, Compare) and node.op == "=" and _containable(node.key.path)
            # Containment is never null (tags is not null) and keeps the GIN index usable.
            return test if contains else c.frag("known", item=test)
        return self._attribute(c, node)

    def _metric(self, c: _Composer, node: Compare | In | IsNull | Like, phase: int) -> sql.Composable:
        name = node.key.name
        on_order = phase == 1 and name == self.metric_first  # the joined row o has it
        # While the order walks run_metrics (phase 1 of a metric order), each candidate's
        # row is in hand: other metrics are read from it rather than probed for. Otherwise
        # a probe (exists) lets the planner drive the search from run_metrics.
        in_row = phase == 1 and self.metric_first is not None
        prefix = "row_" if in_row else ""
        if isinstance(node, IsNull):
            if on_order:
                return c.frag("false" if not node.negated else "true")
            present = c.frag(prefix + "metric_present", key=c.bind(name))
            return present if node.negated else c.frag("not", item=present)
        if isinstance(node, In):
            values = [self._value(node.key, v, "=") for v in node.values]
            test = (c.frag("order_metric_in", values=c.bind(values)) if on_order else
                    c.frag(prefix + "metric_in", key=c.bind(name), values=c.bind(values)))
            return c.frag("not", item=test) if node.negated else test
        assert isinstance(node, Compare)
        value = c.bind(self._value(node.key, node.value, node.op))
        if on_order:
            return c.frag("order_metric_compare", op=_OPS[node.op], value=value)
        return c.frag(prefix + "metric_compare", key=c.bind(name), op=_OPS[node.op], value=value)

    def _params(self, c: _Composer, node: Compare | In | IsNull | Like) -> sql.Composable:
        if isinstance(node, Compare) and node.op == "=" and _containable(node.key.path):
            nested = _nested(node.key.path, self._value(node.key, node.value, node.op))
            return c.frag("params_contains", value=c.bind(Jsonb([nested])))
        test = self._json_test(c, node, sql.Identifier("d", "doc"))
        name = "params_absent" if isinstance(node, IsNull) and not node.negated else "params"
        return c.frag(name, test=test)

    def _json_test(self, c: _Composer, node: Compare | In | IsNull | Like,
                   doc: sql.Composable) -> sql.Composable:
        """The test on one JSON document (tags, or one configuration's parameters). IsNull
        gives 'has a value there' (the caller negates it); a negated In or Like needs a
        value there too, as a negated test on a column needs it not null."""
        path = list(node.key.path)
        if isinstance(node, IsNull):
            return c.frag("json_present", doc=doc, path=c.bind(path))
        if isinstance(node, Like | In):
            if isinstance(node, Like):
                test = c.frag("json_like", doc=doc, path=c.bind(path),
                              like=_LIKE[node.case_insensitive], value=c.bind(node.pattern))
            else:
                values = [Jsonb(self._value(node.key, v, "=")) for v in node.values]
                test = c.frag("json_in", doc=doc, path=c.bind(path), values=c.bind(values))
            if not node.negated:
                return test
            present = c.frag("json_present", doc=doc, path=c.bind(path))
            return c.join("and", [present, c.frag("not", item=test)])
        value = self._value(node.key, node.value, node.op)
        if node.op == "=":
            if not _containable(node.key.path):
                return c.frag("json_equals", doc=doc, path=c.bind(path), value=c.bind(Jsonb(value)))
            return c.frag("json_contains", doc=doc,
                          value=c.bind(Jsonb(_nested(node.key.path, value))))
        if node.op == "!=":
            return c.frag("json_not_equals", doc=doc, path=c.bind(path), value=c.bind(Jsonb(value)))
        if isinstance(value, str):
            return c.frag("json_text_compare", doc=doc, path=c.bind(path), op=_OPS[node.op],
                          value=c.bind(value))
        return c.frag("json_number_compare", doc=doc, path=c.bind(path), op=_OPS[node.op],
                      value=c.bind(float(value)))

    def _attribute(self, c: _Composer, node: Compare | In | IsNull | Like) -> sql.Composable:
        key = node.key
        if key.name == "experiment":
            column: sql.Composable = sql.Identifier("e", "name")
            test = self._column_test(c, node, column)
            return c.frag("experiment_name", test=test)
        return self._column_test(c, node, sql.Identifier("r", key.name))

    def _column_test(self, c: _Composer, node: Compare | In | IsNull | Like,
                     column: sql.Composable) -> sql.Composable:
        if isinstance(node, IsNull):
            test = c.frag("column_null", column=column)
            return c.frag("not", item=test) if node.negated else test
        if isinstance(node, Like):
            test = c.frag("column_like", column=column, like=_LIKE[node.case_insensitive],
                          value=c.bind(node.pattern))
            return c.frag("not", item=test) if node.negated else test
        if isinstance(node, In):
            values = [self._value(node.key, v, "=") for v in node.values]
            test = c.frag("column_in", column=column, values=c.bind(values))
            return c.frag("not", item=test) if node.negated else test
        value = self._value(node.key, node.value, node.op)
        return c.frag("column_compare", column=column, op=_OPS[node.op], value=c.bind(value))


def as_timestamp(value: Any, *, where: str, field: str) -> datetime:
    """An ISO date or timestamp as a UTC-aware datetime; one without a zone is UTC."""
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, date):
        stamp = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(f"{where} is a time; {value!r} is not an ISO date or timestamp "
                               "(e.g. '2026-01-31' or '2026-01-31T12:00:00+00:00')",
                               field=field) from None
    else:
        raise InvalidInput(f"{where} is a time; quote it as an ISO date: '2026-01-31'", field=field)
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _containable(path: Sequence[str]) -> bool:
    """Whether equality at ``path`` can be JSON containment: not through an array index
    (containment does not reach into arrays by position)."""
    return not any(part.isdigit() for part in path)


def _nested(path: Sequence[str], value: Any) -> Any:
    """``value`` under ``path``: ("a", "b"), 1 -> {"a": {"b": 1}}."""
    for part in reversed(path):
        value = {part: value}
    return value
