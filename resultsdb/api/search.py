"""Search runs across experiments: a filter language, several order keys, keyset pages."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from resultsdb.api.base import Base, Page, Ref, decode_keyset, encode_keyset
from resultsdb.errors import InvalidInput
from resultsdb.inputs import as_limit
from resultsdb.records import Run
from resultsdb.repositories import experiments as experiments_repo
from resultsdb.repositories import search as search_repo
from resultsdb.search.compile import Compiler
from resultsdb.search.filter import parse, parse_order

DEFAULT_ORDER = ("created desc",)


class SearchAPI(Base):
    def search_runs(self, where: str | None = None, *, experiments: Sequence[Ref] | Ref | None = None,
                    order_by: Sequence[str] | str | None = None, limit: int = 100,
                    cursor: str | None = None) -> Page[Run]:
        """Runs of any experiment (or of ``experiments``, names or ids) matching ``where``,
        ordered by ``order_by``, a page at a time.

        ``where`` is a filter such as ``"metrics.sharpe > 1.5 and params.fast = 10 and
        tags.asset = 'btc' and status = 'completed' and started >= '2026-01-01'"``:
        ``metrics.NAME``, ``params.PATH`` (a dotted path into the parameters of the run's
        configurations and of the trial it ran), ``tags.NAME`` and the attributes id, name,
        status, run_type, experiment (its name), experiment_id, parent, started, ended,
        created, updated, error_type, trial_count; ``=  !=  <  <=  >  >=``, ``in (...)``,
        ``not in``, ``is [not] null``, ``[not] like`` / ``ilike``, ``and``, ``or``, ``not``
        and parentheses. Values compare with their type: ``params.fast = 10`` matches the
        JSON number 10, ``params.fast = '10'`` the string. A date without a zone is UTC.

        ``order_by``: keys such as ``["metrics.sharpe desc", "started"]`` (metrics and
        attributes; default newest first); nulls and runs without the metric come last;
        ties go by id. Pass ``page.next_cursor`` back as ``cursor`` for the next page.

        InvalidInput (nothing read) for a filter that does not parse - the message points
        at the column and lists the keys - for a value of the wrong type, and, when the
        first page is empty, for a metric no run reports (a typo), listing those that do.
        """
        node = parse(where, field="where") if where is not None else None
        orders = ([order_by] if isinstance(order_by, str) else
                  list(DEFAULT_ORDER) if order_by is None else list(order_by))
        if not orders or len(orders) > 8:
            raise InvalidInput("order_by: give 1 to 8 keys, such as ['metrics.sharpe desc']",
                               field="order_by")
        compiler = Compiler(node, [parse_order(o) for o in orders])
        lim = as_limit(limit)
        refs: list[Ref] | None = (None if experiments is None else
                                  [experiments] if isinstance(experiments, str | bytes) or
                                  not isinstance(experiments, Sequence) else list(experiments))
        if refs is not None and not refs:
            raise InvalidInput("experiments: give at least one experiment, or None for all",
                               field="experiments")

        def go(conn: Any) -> tuple[list[Run], str]:
            scope = (None if refs is None else
                     sorted({experiments_repo.resolve(conn, ref, field="experiments")
                             for ref in refs}))
            kind = "search:" + hashlib.sha256(repr((where or "", orders, scope)).encode()
                                              ).hexdigest()[:16]
            after, after_id = (decode_keyset(cursor, kind, len(compiler.order))
                               if cursor is not None else (None, None))
            rows = search_repo.search_runs(conn, compiler, experiments=scope, after=after,
                                           after_id=after_id, limit=lim)
            if not rows and cursor is None:  # nothing matched, or nothing there to match?
                for experiment_id in scope or ():
                    experiments_repo.get(conn, experiment_id)
                search_repo.check_metric_names(conn, compiler, field="where")
            return rows, kind

        rows, kind = self.db.read(go)
        nxt = None
        if len(rows) == lim:
            last = rows[-1]
            nxt = encode_keyset(kind, search_repo.order_values(last, compiler), last.id)
        return Page(rows, nxt)
