"""Search runs across experiments with the filter language (:mod:`resultsdb.search`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from resultsdb.errors import InvalidInput
from resultsdb.records import Run
from resultsdb.registry import fragments
from resultsdb.repositories.common import Connection
from resultsdb.search.compile import Compiler
from resultsdb.search.filter import keys

# Past this, a JSON number is not in run_metrics (runs_sync_metrics); below the other
# bound it is stored as 0. A cursor reads a run's metric as run_metrics holds it.
_METRIC_MAX = 1e300
_METRIC_TINY = 1e-300


def search_runs(conn: Connection, compiler: Compiler, *, experiments: list[UUID] | None,
                after: Sequence[Any] | None, after_id: UUID | None, limit: int) -> list[Run]:
    """A page of the runs the compiled filter matches, in its order, past the cursor
    (``after``: the last row's order values, ``after_id`` its id)."""
    phase_one = compiler.metric_first is None or after_id is None or after[0] is not None  # type: ignore[index]
    rows: list[Run] = []
    if phase_one:
        st = compiler.statement(fragments("search_runs"), experiments=experiments, after=after,
                                after_id=after_id,
                                limit=limit, phase=1)
        rows = conn.q.composed("search_runs", Run, st.sql, st.params)
    if (compiler.metric_first is not None and len(rows) < limit
            and not compiler.needs_first_metric()):
        # The runs without the first order metric come after those with it.
        st = compiler.statement(fragments("search_runs"), experiments=experiments,
                                after=None if phase_one else after,
                                after_id=None if phase_one else after_id,
                                limit=limit - len(rows), phase=2)
        rows += conn.q.composed("search_runs", Run, st.sql, st.params)
    return rows


def order_values(run: Run, compiler: Compiler) -> list[Any]:
    """The last row's values of the order keys, as the statement compares them."""
    values: list[Any] = []
    for item in compiler.order:
        key = item.key
        if key.kind == "metric":
            raw = run.summary_metrics.get(key.name)
            value = None if raw is None or isinstance(raw, bool) else float(raw)
            if value is not None and abs(value) >= _METRIC_MAX:
                value = None
            elif value is not None and abs(value) < _METRIC_TINY:
                value = 0.0
            values.append(value)
        else:
            values.append(getattr(run, key.name))
    return values


def check_metric_names(conn: Connection, compiler: Compiler, *, field: str) -> None:
    """InvalidInput when the filter or order names a metric no run reports (a typo, most
    likely), listing those that exist. Called after an empty first page only."""
    named = [k for k in keys(compiler.node) if k.kind == "metric"]
    named += [o.key for o in compiler.order if o.key.kind == "metric"]
    for key in named:
        if not conn.q.metric_key_exists(key=key.name):
            known = [m.key for m in conn.q.metric_keys(limit=51)]
            shown = ", ".join(known[:50]) + (" ..." if len(known) > 50 else "")
            raise InvalidInput(f"{field}: no run reports the metric {key.name!r} "
                               f"({key.text}); metrics: {shown or 'none yet'}", field=field)
