"""Record an Optuna study's trials in resultsdb, as they finish.

    import optuna
    from resultsdb.integrations.optuna import ResultsDBCallback

    with db.run(exp, "search", run_type="hyperparameter_tuning") as run:
        study = optuna.create_study(direction="maximize")
        study.optimize(objective, n_trials=100, callbacks=[ResultsDBCallback(db, run)])

Every finished Optuna trial becomes one ``hyperparameter_results`` row of ``run``,
written in one statement with its outcome (``ResultsDB.add_trial``):

- ``parameters``: ``trial.params``.
- ``status``: COMPLETE -> completed, PRUNED -> pruned, FAIL -> failed.
- ``objective_value``: the (first) value. Optuna gives a pruned trial its last
  intermediate value, which is kept too.
- ``metrics``: ``optuna_number`` (Optuna counts from 0; resultsdb numbers trials
  1, 2, 3 ... itself), the numeric user attributes, the last intermediate value and
  its step (``intermediate_value``, ``intermediate_step``), and for a multi-objective
  study the other values as ``objective_1``, ``objective_2`` ... (or under the names
  given as ``metric_name``).

resultsdb stores only finite numbers. A non-finite value or user attribute is left
out of ``metrics``; a COMPLETE trial whose objective is infinite is recorded as
failed, with ``objective_nonfinite`` = 1 in its metrics.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from resultsdb.api.base import Ref
from resultsdb.errors import InvalidInput
from resultsdb.records import Trial

if TYPE_CHECKING:
    import optuna

    from resultsdb.api import ResultsDB

Ended = Literal["completed", "pruned", "failed"]
_STATUS: dict[str, Ended] = {"COMPLETE": "completed", "PRUNED": "pruned", "FAIL": "failed"}


def _require_optuna() -> Any:
    try:
        import optuna
    except ImportError as exc:
        raise ImportError(
            "resultsdb.integrations.optuna needs Optuna: pip install 'resultsdb[optuna]' "
            "(or pip install optuna)") from exc
    return optuna


def _finite(value: object) -> float | int | None:
    """``value`` as a number if it is a finite real (bool is not a number here), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


class ResultsDBCallback:
    """An Optuna study callback: ``study.optimize(objective, callbacks=[ResultsDBCallback(db, run)])``.

    ``metric_name`` names the objective values in ``metrics`` too: a string for a
    single-objective study (``{"sharpe": value}``), or one name per objective for a
    multi-objective one (the first value is also the objective_value). Unnamed, the
    first value is only the objective_value and the others are ``objective_1`` ...
    """

    def __init__(self, db: ResultsDB, run: Ref, *, metric_name: str | Sequence[str] | None = None) -> None:
        _require_optuna()
        if metric_name is not None and not isinstance(metric_name, str):
            metric_name = list(metric_name)
            if not metric_name or not all(isinstance(n, str) and n for n in metric_name):
                raise InvalidInput("metric_name: must be a name or a list of names",
                                   field="metric_name")
        self.db = db
        self.run = run
        self.metric_name = metric_name

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self.record(trial)

    def record(self, trial: optuna.trial.FrozenTrial) -> Trial | None:
        """Write one finished Optuna trial; None (nothing written) for one still running."""
        status = _STATUS.get(trial.state.name)
        if status is None:
            return None
        metrics: dict[str, float | int] = {}
        for key, value in trial.user_attrs.items():
            number = _finite(value)
            if number is not None:
                metrics[key] = number
        if trial.intermediate_values:
            step = max(trial.intermediate_values)
            last = _finite(trial.intermediate_values[step])
            metrics["intermediate_step"] = step
            if last is not None:
                metrics["intermediate_value"] = last
        values = list(trial.values or [])
        metrics.update(self._named_values(values))
        metrics["optuna_number"] = trial.number  # last: a user attribute cannot hide it
        objective = _finite(values[0]) if values else None
        if status == "completed" and objective is None:
            status = "failed"  # resultsdb stores finite objectives only
            metrics["objective_nonfinite"] = 1
        return self.db.add_trial(self.run, trial.params, objective, metrics, status)

    def _named_values(self, values: list[float]) -> dict[str, float | int]:
        if isinstance(self.metric_name, list):
            if len(self.metric_name) != len(values) and values:
                raise InvalidInput(f"metric_name: {len(self.metric_name)} names for "
                                   f"{len(values)} objective values", field="metric_name")
            names = self.metric_name
        elif isinstance(self.metric_name, str):
            names = [self.metric_name] if len(values) == 1 else [
                f"{self.metric_name}_{i}" for i in range(len(values))]
        else:
            names = [""] + [f"objective_{i}" for i in range(1, len(values))]
        named = {}
        for name, value in zip(names, values, strict=False):
            number = _finite(value)
            if name and number is not None:
                named[name] = number
        return named
