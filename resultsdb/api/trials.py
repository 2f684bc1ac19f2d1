"""Hyperparameter trials: numbered by the database, safe from many processes at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from resultsdb.api.base import Base, Ref
from resultsdb.api.configs import flatten
from resultsdb.connection import Connection
from resultsdb.errors import InvalidInput, NotFound
from resultsdb.fields import FiniteFloat, NumberMap
from resultsdb.inputs import ref_id, validate_value
from resultsdb.records import Run, Trial
from resultsdb.repositories import runs as runs_repo
from resultsdb.repositories import trials as trials_repo

if TYPE_CHECKING:
    import pandas as pd

Direction = Literal["maximize", "minimize"]


class TrialsAPI(Base):
    def start_trial(self, run: Ref, parameters: Mapping[str, Any] | None = None, *,
                    trial_run: Ref | None = None) -> Trial:
        """A running trial of a search run. Its number is assigned by the database:
        1, 2, 3 ... per run, no duplicates and no gaps among started trials, whatever
        the number of processes starting trials at once. ``trial_run`` is the child run
        holding the trial's own series, if it has one.

        The start commits without waiting for its WAL flush (unless the setting
        ``durable_trial_starts`` is on); the finish flushes it. A server crash in
        between may forget a start nothing durable has followed yet: its
        ``finish_trial`` then raises NotFound and its number is given again; finished
        trials are never lost and numbers stay gapless."""
        table = "hyperparameter_results"
        data = {"run_id": ref_id(run, field="run", table=table, kind=Run),
                "parameters": {} if parameters is None else parameters,
                "trial_run_id": (None if trial_run is None
                                 else ref_id(trial_run, field="trial_run", table=table, kind=Run))}
        # One statement (counter bump + insert): see Database.write_statement. Unless
        # durable_trial_starts is set, it commits without waiting for the WAL flush:
        # the trial's finish, a durable commit, flushes it (WAL is flushed in order).
        # Inside the caller's transaction it cannot: the setting would last to its end.
        flush = self.db.settings.durable_trial_starts or self.db.in_transaction()
        return self.db.write_statement(
            lambda c: trials_repo.create(c, data, wait_for_flush=flush))

    def finish_trial(self, trial: Ref, objective_value: float | None = None,
                     metrics: Mapping[str, float] | None = None,
                     status: Literal["completed", "pruned", "failed"] = "completed") -> Trial:
        """End a running trial. A completed trial needs a finite objective value; metrics
        (finite numbers) are merged. InvalidTransition if the trial already ended."""
        table = "hyperparameter_results"
        trial_id = ref_id(trial, field="trial", table=table, kind=Trial)
        if status not in ("completed", "pruned", "failed"):
            raise InvalidInput(f"{table}.status: {status!r} does not end a trial; use completed, "
                               "pruned or failed", field="status", table=table)
        value = validate_value("objective_value", objective_value, FiniteFloat | None, table=table)
        if status == "completed" and value is None:
            raise InvalidInput(f"{table}.objective_value: a completed trial needs one",
                               field="objective_value", table=table)
        extra = validate_value("metrics", {} if metrics is None else metrics, NumberMap, table=table)

        return self.db.write_statement(lambda c: trials_repo.finish(  # one update
            c, trial_id, status, objective_value=value, metrics=extra))

    def prune_trial(self, trial: Ref, objective_value: float | None = None,
                    metrics: Mapping[str, float] | None = None) -> Trial:
        """End a trial as pruned (stopped early), keeping its last value if given."""
        return self.finish_trial(trial, objective_value, metrics, status="pruned")

    def fail_trial(self, trial: Ref, metrics: Mapping[str, float] | None = None) -> Trial:
        return self.finish_trial(trial, None, metrics, status="failed")

    def add_trial(self, run: Ref, parameters: Mapping[str, Any] | None = None,
                  objective_value: float | None = None, metrics: Mapping[str, float] | None = None,
                  status: Literal["completed", "pruned", "failed"] = "completed") -> Trial:
        """Record a trial that has already ended (as Optuna's ``study.add_trial``): numbered
        like start_trial, stored with its outcome in one statement, so no running trial is
        ever left behind. A completed trial needs a finite objective value."""
        table = "hyperparameter_results"
        if status not in ("completed", "pruned", "failed"):
            raise InvalidInput(f"{table}.status: {status!r} is not an ended trial; use completed, "
                               "pruned or failed", field="status", table=table)
        data = {"run_id": ref_id(run, field="run", table=table, kind=Run),
                "parameters": {} if parameters is None else parameters, "status": status,
                "objective_value": objective_value, "metrics": {} if metrics is None else metrics}
        return self.db.write_statement(lambda c: trials_repo.create(c, data))

    def best_trial(self, run: Ref, direction: Direction = "maximize") -> Trial:
        """The completed trial with the best objective (ties: lowest number); NotFound if none."""
        if direction not in ("maximize", "minimize"):
            raise InvalidInput(f"direction: must be maximize or minimize, got {direction!r}",
                               field="direction")
        run_id = ref_id(run, field="run", table="hyperparameter_results", kind=Run)

        def go(conn: Connection) -> Trial:
            try:
                return trials_repo.best(conn, run_id, direction)
            except NotFound:
                runs_repo.get(conn, run_id)  # no run at all: NotFound says so
                raise
        return self.db.read(go)

    def trials(self, run: Ref) -> list[Trial]:
        """Every trial of a run, in number order; NotFound when there is no such run."""
        run_id = ref_id(run, field="run", table="hyperparameter_results", kind=Run)

        def go(conn: Connection) -> list[Trial]:
            rows = trials_repo.all_of_run(conn, run_id)
            if not rows:
                runs_repo.get(conn, run_id)
            return rows
        return self.db.read(go)

    def trials_frame(self, run: Ref) -> pd.DataFrame:
        """The run's trials as a DataFrame, one row per trial, like Optuna's
        ``study.trials_dataframe()``: parameters flattened to ``params_<dotted.key>``
        columns, metrics to ``metrics_<key>``."""
        import pandas as pd

        rows = []
        for t in self.trials(run):
            row: dict[str, Any] = {
                "number": t.trial_number, "value": t.objective_value, "state": t.status,
                "datetime_start": t.created_at, "datetime_complete": t.finished_at,
                "duration": (t.finished_at - t.created_at) if t.finished_at else None,
                "trial_id": t.id, "trial_run_id": t.trial_run_id,
            }
            row.update({f"params_{k}": v for k, v in flatten(t.parameters).items()})
            row.update({f"metrics_{k}": v for k, v in t.metrics.items()})
            rows.append(row)
        frame = pd.DataFrame(rows)
        if frame.empty:
            frame = pd.DataFrame(columns=["number", "value", "state", "datetime_start",
                                          "datetime_complete", "duration", "trial_id", "trial_run_id"])
        return frame
