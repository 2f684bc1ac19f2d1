"""Experiments and runs: the tracking half of the API (like mlflow's start_run)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal

from resultsdb.api.base import Base, Page, Ref, decode_cursor, encode_cursor
from resultsdb.errors import AlreadyExists, InvalidInput, InvalidTransition
from resultsdb.fields import SummaryMetrics, Text
from resultsdb.inputs import as_bool, as_limit, as_tags, is_uuid, ref_id, validate_value
from resultsdb.records import Experiment, ExperimentStatus, Run, RunStatus
from resultsdb.repositories import experiments as experiments_repo
from resultsdb.repositories import runs as runs_repo

RUN_SORT_KEYS = runs_repo.SORT_KEYS
MAX_ERROR_MESSAGE = 10_000


def storable(text: str, limit: int) -> str:
    """An exception's text as the database can store it: NUL and lone surrogates
    (bytes decoded with surrogateescape, say) written as backslash escapes, then cut to
    ``limit`` characters. The runtime hands us this text; refusing it would lose the
    failure it describes, so here, unlike caller input, it is made storable."""
    text = text.replace("\x00", "\\x00")
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text[:limit]


def _text_of(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - a broken __str__ still leaves the type to report
        return f"<{type(error).__name__}: str() failed>"


class ExperimentsAPI(Base):
    # -- experiments ---------------------------------------------------------------

    def start_experiment(self, name: str, description: str | None = None,
                         tags: Mapping[str, Any] | Sequence[str] | None = None, *,
                         exist_ok: bool = False) -> Experiment:
        """Create an experiment, active.

        Names are unique among experiments that are not archived. On a clash this
        raises AlreadyExists, unless ``exist_ok`` - then it returns the live
        experiment of that name (as ``mlflow.set_experiment`` does), whatever its
        description and tags.
        """
        data = {"name": name, "description": description, "tags": {} if tags is None else tags}
        as_bool(exist_ok, field="exist_ok")

        def create(conn: Any) -> Experiment:
            return experiments_repo.create(conn, data)

        try:
            return self.db.write(create)
        except AlreadyExists:
            if not exist_ok:
                raise
            return self.get_experiment(name)

    def get_experiment(self, experiment: Ref) -> Experiment:
        """An experiment by record, id, or name (the live experiment of that name)."""
        return self.db.read(lambda c: experiments_repo.get(c, experiments_repo.resolve(c, experiment)))

    def _set_experiment_status(self, experiment: Ref, status: ExperimentStatus) -> Experiment:
        return self.db.write(lambda c: experiments_repo.set_status(
            c, experiments_repo.resolve(c, experiment), status))

    def complete_experiment(self, experiment: Ref) -> Experiment:
        """Mark an active experiment completed (InvalidTransition from other states)."""
        return self._set_experiment_status(experiment, "completed")

    def fail_experiment(self, experiment: Ref) -> Experiment:
        return self._set_experiment_status(experiment, "failed")

    def archive_experiment(self, experiment: Ref) -> Experiment:
        """Archive an experiment: it leaves listings of live experiments and frees its name."""
        return self._set_experiment_status(experiment, "archived")

    def reactivate_experiment(self, experiment: Ref) -> Experiment:
        """Make an archived, completed or failed experiment active again.

        AlreadyExists when another live experiment has taken its name meanwhile.
        """
        return self._set_experiment_status(experiment, "active")

    def experiments(self, *, status: ExperimentStatus | None = None,
                    tags: Mapping[str, Any] | Sequence[str] | None = None,
                    created_after: datetime | None = None, created_before: datetime | None = None,
                    limit: int = 100, cursor: str | None = None) -> Page[Experiment]:
        """Experiments matching every filter given, oldest first, a page at a time."""
        after = decode_cursor(cursor, "experiments")[1] if cursor else None
        lim = as_limit(limit)
        filters = {
            "status": validate_value("status", status, ExperimentStatus | None, table="experiments"),
            "tags": as_tags(tags, field="tags") if tags is not None else None,
            "created_after": validate_value("created_after", created_after),
            "created_before": validate_value("created_before", created_before),
        }
        rows = self.db.read(lambda c: experiments_repo.search(c, after=after, limit=lim, **filters))
        nxt = encode_cursor("experiments", "", rows[-1].id) if len(rows) == lim else None
        return Page(rows, nxt)

    # -- runs ------------------------------------------------------------------------

    def start_run(self, experiment: Ref, name: str | None = None, run_type: str = "training", *,
                  user_id: Any = None, tags: Mapping[str, Any] | Sequence[str] | None = None,
                  parent: Ref | None = None, status: Literal["running", "scheduled"] = "running",
                  ) -> Run:
        """Start a run in an experiment (by record, id or name); it is running unless scheduled."""
        if status not in ("running", "scheduled"):
            raise InvalidInput(f"runs.status: a run starts running or scheduled, not {status!r}; "
                               "end it with end_run", field="status", table="runs")

        parent_id = None if parent is None else ref_id(parent, field="parent", table="runs", kind=Run)

        def go(conn: Any) -> Run:
            data = {
                "experiment_id": experiments_repo.resolve(conn, experiment), "name": name,
                "run_type": run_type, "user_id": user_id, "tags": {} if tags is None else tags,
                "status": status, "parent_run_id": parent_id,
            }
            return runs_repo.create(conn, data)
        if isinstance(experiment, str) and not is_uuid(experiment):
            return self.db.write(go)  # the name lookup and the insert: one transaction
        return self.db.write_statement(go)  # the insert alone

    def get_run(self, run: Ref) -> Run:
        run_id = ref_id(run, field="run", table="runs", kind=Run)
        return self.db.read(lambda c: runs_repo.get(c, run_id))

    def end_run(self, run: Ref, status: Literal["completed", "failed", "killed"] = "completed", *,
                error: BaseException | None = None) -> Run:
        """End a run: end_time is stamped in the same statement. A failed or killed run
        keeps the exception's type and message (NUL and lone surrogates in them stored
        as backslash escapes). InvalidTransition if it already ended."""
        run_id = ref_id(run, field="run", table="runs", kind=Run)
        if status not in ("completed", "failed", "killed"):
            raise InvalidInput(f"status: {status!r} does not end a run; use completed, failed or "
                               "killed", field="status", table="runs")
        if error is not None and not isinstance(error, BaseException):
            raise InvalidInput(f"runs.error: must be an exception, not {type(error).__name__}",
                               field="error", table="runs")
        error_type = None if error is None else storable(type(error).__qualname__, 255)
        message = None if error is None else storable(_text_of(error), MAX_ERROR_MESSAGE)

        return self.db.write_statement(lambda c: runs_repo.end(  # one update
            c, run_id, status, error_type=error_type, error_message=message))

    def start(self, run: Ref) -> Run:
        """Start a scheduled run."""
        run_id = ref_id(run, field="run", table="runs", kind=Run)
        return self.db.write(lambda c: runs_repo.update(c, run_id, status="running"))

    @contextmanager
    def run(self, experiment: Ref, name: str | None = None, run_type: str = "training", *,
            user_id: Any = None, tags: Mapping[str, Any] | Sequence[str] | None = None,
            parent: Ref | None = None) -> Iterator[Run]:
        """``with db.run(exp, "train") as run:`` - running inside, then completed; if the
        block raises, failed with the exception's type and message (killed on Ctrl-C).
        A run the block ended itself (``end_run``) keeps that end. The block's exception
        reaches the caller as it was raised (the same object); a failure to end the run
        is only added to it as a note."""
        started = self.start_run(experiment, name, run_type, user_id=user_id, tags=tags, parent=parent)
        try:
            yield started
        except BaseException as exc:
            status: Literal["failed", "killed"] = (
                "killed" if isinstance(exc, KeyboardInterrupt | SystemExit) else "failed")
            try:
                self._end_unless_ended(started, status, exc)
            except Exception as end_exc:  # noqa: BLE001 - whatever it is, it is not the news
                # The block's exception is what the caller needs to see, not ours.
                exc.add_note(f"resultsdb: could not mark run {started.id} {status}: "
                             f"{type(end_exc).__name__}: {storable(_text_of(end_exc), 500)}")
            raise
        self._end_unless_ended(started, "completed", None)

    def _end_unless_ended(self, run: Run, status: Literal["completed", "failed", "killed"],
                          error: BaseException | None) -> None:
        """end_run, except that a run the block already ended (end_run inside it) stays so."""
        try:
            self.end_run(run, status, error=error)
        except InvalidTransition as exc:
            if exc.from_status not in ("completed", "failed", "killed"):
                raise

    def log_summary_metrics(self, run: Ref, metrics: Mapping[str, float]) -> Run:
        """Merge finite numbers into the run's summary_metrics, atomically (concurrent
        merges lose nothing; a key given again takes the new value)."""
        run_id = ref_id(run, field="run", table="runs", kind=Run)
        values = validate_value("metrics", metrics, SummaryMetrics, table="runs")
        return self.db.write_statement(lambda c: runs_repo.merge_summary_metrics(c, run_id, values))

    def runs(self, experiment: Ref | None = None, *, status: RunStatus | None = None,
             run_type: str | None = None, tags: Mapping[str, Any] | Sequence[str] | None = None,
             parent: Ref | None = None, started_after: datetime | None = None,
             started_before: datetime | None = None, order_by: str = "created_at",
             descending: bool = False, limit: int = 100, cursor: str | None = None) -> Page[Run]:
        """Runs matching every filter given, sorted by an allowlisted column, a page at a time.

        ``order_by`` is one of created_at, updated_at, start_time, end_time, status,
        run_type; rows whose sort column is null are left out. Pass ``page.next_cursor``
        back as ``cursor`` for the next page (keyset pagination: stable under inserts).
        """
        key = runs_repo.sort_key(order_by)
        lim = as_limit(limit)
        status = validate_value("status", status, RunStatus | None, table="runs")
        kind = f"runs:{order_by}:{'desc' if as_bool(descending, field='descending') else 'asc'}"
        after_value, after_id = decode_cursor(cursor, kind) if cursor is not None else (None, None)
        parent_id = None if parent is None else ref_id(parent, field="parent", table="runs", kind=Run)
        params = {
            "parent_run_id": parent_id, "status": status,
            "run_type": validate_value("run_type", run_type, Text | None, table="runs"),
            "tags": as_tags(tags, field="tags") if tags is not None else None,
            "started_after": validate_value("started_after", started_after),
            "started_before": validate_value("started_before", started_before),
        }

        def go(conn: Any) -> list[Run]:
            filters = {
                "experiment_id": None if experiment is None else experiments_repo.resolve(
                    conn, experiment),
                **params,
            }
            rows = runs_repo.search(conn, order_by=key, descending=descending, filters=filters,
                                    after_value=after_value, after=after_id, limit=lim)
            if not rows:  # nothing matched, or nothing there to match?
                if filters["experiment_id"] is not None:
                    experiments_repo.get(conn, filters["experiment_id"])
                if parent_id is not None:
                    runs_repo.get(conn, parent_id)
            return rows

        rows = self.db.read(go)
        nxt = None
        if len(rows) == lim:
            last = rows[-1]
            nxt = encode_cursor(kind, getattr(last, key), last.id)
        return Page(rows, nxt)
