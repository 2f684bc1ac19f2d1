"""The bad-input catalogue, argument by argument: every public ResultsDB method's every
argument is given something it must refuse, and every reference to nothing is NotFound.

The classes (issue 13): extreme numbers (beyond double, beyond the integer a view reads),
nesting depth (10,000 levels, a document that contains itself), NUL and lone surrogates
in any text or JSON key or value, wrong types, and ids of the wrong kind (a Model record
where a Run goes). Each case is named ``method.argument: what is wrong`` and checked by
``refused``: its typed error, and no row of any table changed (``table_state``).

``NOT_FOUND`` holds one case per reference argument: a UUID no row has is NotFound,
whichever method takes it (ReferenceNotFound, the foreign key's word for it on a write,
is a NotFound too). Two guards keep both lists complete: a new method or argument
without a case fails them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from resultsdb.api import ResultsDB, connect
from resultsdb.errors import InvalidInput, InvalidSeriesRow, NotFound
from tests.reliability._world import MISSING, NAIVE, SHA, T0, World, refused

HUGE = 10**400  # an int no double holds
NUL = "a\x00b"
SURROGATE = "a\udc80b"  # what os.fsdecode makes of an undecodable byte


def _nested(levels: int) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    inner = doc
    for _ in range(levels - 1):
        inner["a"] = {}
        inner = inner["a"]
    return doc


DEEP = _nested(10_000)  # Python's recursion gives out near 1,000
DEEP_65 = _nested(65)  # one level past MAX_JSON_DEPTH
CYCLE: dict[str, Any] = {}
CYCLE["self"] = CYCLE
LATER = T0 + timedelta(days=30)


def _trades(**column: Any) -> dict[str, list[Any]]:
    base: dict[str, list[Any]] = {"ts": [LATER], "asset": ["BTC"], "action": ["buy"],
                                  "price": [1.0], "quantity": [1.0]}
    return base | column


Case = tuple[str, Callable[[World], Any], type[BaseException]]
I = InvalidInput  # noqa: E741 - the error nearly every case expects

CASES: list[Case] = [
    # -- experiments
    ("start_experiment.name: lone surrogate", lambda w: w.rdb.start_experiment(SURROGATE), I),
    ("start_experiment.description: NUL", lambda w: w.rdb.start_experiment("n", NUL), I),
    ("start_experiment.description: an int", lambda w: w.rdb.start_experiment("n", 5), I),
    ("start_experiment.tags: 10,000 levels deep", lambda w: w.rdb.start_experiment("n", tags=DEEP), I),
    ("start_experiment.tags: 65 levels deep", lambda w: w.rdb.start_experiment("n", tags=DEEP_65), I),
    ("start_experiment.tags: contains itself", lambda w: w.rdb.start_experiment("n", tags=CYCLE), I),
    ("start_experiment.tags: int beyond double", lambda w: w.rdb.start_experiment(
        "n", tags={"k": HUGE}), I),
    ("start_experiment.tags: surrogate key", lambda w: w.rdb.start_experiment(
        "n", tags={SURROGATE: 1}), I),
    ("start_experiment.tags: NUL label", lambda w: w.rdb.start_experiment("n", tags=[NUL]), I),
    ("start_experiment.exist_ok: a string", lambda w: w.rdb.start_experiment("n", exist_ok="no"), I),
    ("get_experiment.experiment: a Run", lambda w: w.rdb.get_experiment(w.run), I),
    ("get_experiment.experiment: NUL in a name", lambda w: w.rdb.get_experiment(NUL), I),
    ("get_experiment.experiment: surrogate in a name", lambda w: w.rdb.get_experiment(SURROGATE), I),
    ("get_experiment.experiment: 16 bytes", lambda w: w.rdb.get_experiment(b"0123456789abcdef"), I),
    ("complete_experiment.experiment: a Model", lambda w: w.rdb.complete_experiment(
        w.saved.model), I),
    ("fail_experiment.experiment: an int", lambda w: w.rdb.fail_experiment(7), I),
    ("archive_experiment.experiment: a Trial", lambda w: w.rdb.archive_experiment(w.trial), I),
    ("reactivate_experiment.experiment: a name of 256 characters",
     lambda w: w.rdb.reactivate_experiment("x" * 256), I),
    ("experiments.status: an int", lambda w: w.rdb.experiments(status=1), I),
    ("experiments.tags: surrogate label", lambda w: w.rdb.experiments(tags=[SURROGATE]), I),
    ("experiments.tags: 10,000 levels deep", lambda w: w.rdb.experiments(tags=DEEP), I),
    ("experiments.created_after: a string", lambda w: w.rdb.experiments(created_after="2024"), I),
    ("experiments.created_before: naive", lambda w: w.rdb.experiments(created_before=NAIVE), I),
    ("experiments.limit: int beyond double", lambda w: w.rdb.experiments(limit=HUGE), I),
    ("experiments.cursor: an int", lambda w: w.rdb.experiments(cursor=5), I),
    ("experiments.cursor: surrogate", lambda w: w.rdb.experiments(cursor=SURROGATE), I),
    # -- runs
    ("start_run.experiment: a Run", lambda w: w.rdb.start_run(w.run, "r"), I),
    ("start_run.name: lone surrogate", lambda w: w.rdb.start_run(w.exp, SURROGATE), I),
    ("start_run.run_type: NUL", lambda w: w.rdb.start_run(w.exp, "r", NUL), I),
    ("start_run.user_id: a Run", lambda w: w.rdb.start_run(w.exp, "r", user_id=w.run), I),
    ("start_run.tags: contains itself", lambda w: w.rdb.start_run(w.exp, "r", tags=CYCLE), I),
    ("start_run.parent: a Model", lambda w: w.rdb.start_run(w.exp, "r", parent=w.saved.model), I),
    ("start_run.status: an int", lambda w: w.rdb.start_run(w.exp, "r", status=1), I),
    ("run.experiment: a Model", lambda w: w.rdb.run(w.saved.model).__enter__(), I),
    ("run.name: an int", lambda w: w.rdb.run(w.exp, 5).__enter__(), I),
    ("run.run_type: upper case", lambda w: w.rdb.run(w.exp, "r", "Train").__enter__(), I),
    ("run.user_id: an int", lambda w: w.rdb.run(w.exp, "r", user_id=5).__enter__(), I),
    ("run.tags: 10,000 levels deep", lambda w: w.rdb.run(w.exp, "r", tags=DEEP).__enter__(), I),
    ("run.parent: an Experiment", lambda w: w.rdb.run(w.exp, "r", parent=w.exp).__enter__(), I),
    ("get_run.run: an Experiment", lambda w: w.rdb.get_run(w.exp), I),
    ("get_run.run: None", lambda w: w.rdb.get_run(None), I),
    ("end_run.run: a Model", lambda w: w.rdb.end_run(w.saved.model), I),
    ("end_run.status: an int", lambda w: w.rdb.end_run(w.run, 1), I),
    ("end_run.error: a string", lambda w: w.rdb.end_run(w.run, "failed", error="boom"), I),
    ("start.run: a Trial", lambda w: w.rdb.start(w.trial), I),
    ("log_summary_metrics.run: a Model", lambda w: w.rdb.log_summary_metrics(
        w.saved.model, {"x": 1}), I),
    ("log_summary_metrics.metrics: int beyond double", lambda w: w.rdb.log_summary_metrics(
        w.run, {"sharpe": HUGE}), I),
    ("log_summary_metrics.metrics: int beyond minus double", lambda w: w.rdb.log_summary_metrics(
        w.run, {"sharpe": -HUGE}), I),
    ("log_summary_metrics.metrics: trade_count beyond bigint", lambda w: w.rdb.log_summary_metrics(
        w.run, {"trade_count": 1e19}), I),
    ("log_summary_metrics.metrics: stats_version beyond integer",
     lambda w: w.rdb.log_summary_metrics(w.run, {"stats_version": 2**31}), I),
    ("log_summary_metrics.metrics: NUL key", lambda w: w.rdb.log_summary_metrics(w.run, {NUL: 1}), I),
    ("log_summary_metrics.metrics: surrogate key", lambda w: w.rdb.log_summary_metrics(
        w.run, {SURROGATE: 1}), I),
    ("log_summary_metrics.metrics: a nested object", lambda w: w.rdb.log_summary_metrics(
        w.run, {"a": {"b": 1}}), I),
    ("runs.experiment: a Run", lambda w: w.rdb.runs(w.run), I),
    ("runs.experiment: NUL in a name", lambda w: w.rdb.runs(NUL), I),
    ("runs.status: an int", lambda w: w.rdb.runs(status=5), I),
    ("runs.run_type: an int", lambda w: w.rdb.runs(run_type=5), I),
    ("runs.run_type: lone surrogate", lambda w: w.rdb.runs(run_type=SURROGATE), I),
    ("runs.tags: 65 levels deep", lambda w: w.rdb.runs(tags=DEEP_65), I),
    ("runs.parent: an Experiment", lambda w: w.rdb.runs(parent=w.exp), I),
    ("runs.started_after: a string", lambda w: w.rdb.runs(started_after="2024-01-01"), I),
    ("runs.started_before: an int", lambda w: w.rdb.runs(started_before=1704067200), I),
    ("runs.order_by: an int", lambda w: w.rdb.runs(order_by=1), I),
    ("runs.descending: a string", lambda w: w.rdb.runs(descending="yes"), I),
    ("runs.limit: int beyond double", lambda w: w.rdb.runs(limit=HUGE), I),
    ("runs.cursor: a dict", lambda w: w.rdb.runs(cursor={}), I),
    # -- trials
    ("start_trial.run: a Model", lambda w: w.rdb.start_trial(w.saved.model), I),
    ("start_trial.parameters: 10,000 levels deep", lambda w: w.rdb.start_trial(w.run, DEEP), I),
    ("start_trial.parameters: contains itself", lambda w: w.rdb.start_trial(w.run, CYCLE), I),
    ("start_trial.parameters: int beyond double", lambda w: w.rdb.start_trial(
        w.run, {"seed": HUGE}), I),
    ("start_trial.parameters: NUL in a nested string", lambda w: w.rdb.start_trial(
        w.run, {"opt": {"names": ["adam", NUL]}}), I),
    ("start_trial.parameters: surrogate in a nested key", lambda w: w.rdb.start_trial(
        w.run, {"opt": {SURROGATE: 1}}), I),
    ("start_trial.trial_run: an Experiment", lambda w: w.rdb.start_trial(w.run, trial_run=w.exp), I),
    ("finish_trial.trial: a Run", lambda w: w.rdb.finish_trial(w.run, 1.0), I),
    ("finish_trial.objective_value: int beyond double", lambda w: w.rdb.finish_trial(w.trial, HUGE), I),
    ("finish_trial.objective_value: a string", lambda w: w.rdb.finish_trial(w.trial, "1.0"), I),
    ("finish_trial.metrics: int beyond double", lambda w: w.rdb.finish_trial(
        w.trial, 1.0, {"a": HUGE}), I),
    ("finish_trial.status: an int", lambda w: w.rdb.finish_trial(w.trial, 1.0, status=1), I),
    ("prune_trial.trial: a Model", lambda w: w.rdb.prune_trial(w.saved.model), I),
    ("prune_trial.objective_value: int beyond minus double", lambda w: w.rdb.prune_trial(
        w.trial, -HUGE), I),
    ("prune_trial.metrics: a list", lambda w: w.rdb.prune_trial(w.trial, 1.0, [1.0]), I),
    ("fail_trial.trial: an int", lambda w: w.rdb.fail_trial(5), I),
    ("fail_trial.metrics: NUL key", lambda w: w.rdb.fail_trial(w.trial, {NUL: 1.0}), I),
    ("add_trial.run: an Experiment", lambda w: w.rdb.add_trial(w.exp, {}, 1.0), I),
    ("add_trial.parameters: 10,000 levels deep", lambda w: w.rdb.add_trial(w.run, DEEP, 1.0), I),
    ("add_trial.objective_value: int beyond double", lambda w: w.rdb.add_trial(w.run, {}, HUGE), I),
    ("add_trial.metrics: a string value", lambda w: w.rdb.add_trial(w.run, {}, 1.0, {"a": "1"}), I),
    ("add_trial.status: an int", lambda w: w.rdb.add_trial(w.run, {}, 1.0, status=1), I),
    ("best_trial.run: a Trial", lambda w: w.rdb.best_trial(w.trial), I),
    ("best_trial.direction: a list", lambda w: w.rdb.best_trial(w.run, ["maximize"]), I),
    ("trials.run: a Model", lambda w: w.rdb.trials(w.saved.model), I),
    ("trials_frame.run: an int", lambda w: w.rdb.trials_frame(5), I),
    # -- configurations and snapshots
    ("save_config.run: a Configuration", lambda w: w.rdb.save_config(w.cfg, "c", "training", {}), I),
    ("save_config.name: NUL", lambda w: w.rdb.save_config(w.run, NUL, "training", {}), I),
    ("save_config.config_type: lone surrogate", lambda w: w.rdb.save_config(
        w.run, "c", SURROGATE, {}), I),
    ("save_config.parameters: 10,000 levels deep", lambda w: w.rdb.save_config(
        w.run, "c", "training", DEEP), I),
    ("save_config.parameters: int beyond double in a list", lambda w: w.rdb.save_config(
        w.run, "c", "training", {"grid": [1, HUGE]}), I),
    ("save_config.parent: a Run", lambda w: w.rdb.save_config(
        w.run, "c", "training", {}, parent=w.run), I),
    ("get_config.config: a Run", lambda w: w.rdb.get_config(w.run), I),
    ("config_lineage.config: an int", lambda w: w.rdb.config_lineage(5), I),
    ("diff.a: a Run", lambda w: w.rdb.diff(w.run, w.cfg), I),
    ("diff.b: an int", lambda w: w.rdb.diff(w.cfg, 5), I),
    ("register_snapshot.run: a Model", lambda w: w.rdb.register_snapshot(
        w.saved.model, "binance", T0, T0, SHA), I),
    ("register_snapshot.data_source: NUL", lambda w: w.rdb.register_snapshot(
        w.run, NUL, T0, T0, SHA), I),
    ("register_snapshot.start_date: a string", lambda w: w.rdb.register_snapshot(
        w.run, "binance", "2024-01-01", T0, SHA), I),
    ("register_snapshot.end_date: naive", lambda w: w.rdb.register_snapshot(
        w.run, "binance", T0, NAIVE, SHA), I),
    ("register_snapshot.features_hash: an int", lambda w: w.rdb.register_snapshot(
        w.run, "binance", T0, T0, 5), I),
    ("register_snapshot.storage_path: lone surrogate", lambda w: w.rdb.register_snapshot(
        w.run, "binance", T0, T0, SHA, SURROGATE), I),
    ("runs_using_snapshot.snapshot: a Run", lambda w: w.rdb.runs_using_snapshot(w.run), I),
    # -- models: every argument is checked before the store is touched
    ("save_model.run: a Model", lambda w: w.rdb.save_model(w.saved.model, b"w2", "dqn"), I),
    ("save_model.data: an int", lambda w: w.rdb.save_model(w.run, 5, "dqn"), I),
    ("save_model.data: a path to nothing", lambda w: w.rdb.save_model(
        w.run, "/nonexistent/weights.bin", "dqn"), I),
    ("save_model.data: a path with NUL", lambda w: w.rdb.save_model(w.run, "/nonexistent/a\x00b", "dqn"), I),
    ("save_model.model_type: traversal", lambda w: w.rdb.save_model(w.run, b"w2", "../dqn"), I),
    ("save_model.config: a Run", lambda w: w.rdb.save_model(w.run, b"w2", "dqn", w.run), I),
    ("save_model.name: NUL", lambda w: w.rdb.save_model(w.run, b"w2", "dqn", name=NUL), I),
    ("save_model.metadata: 10,000 levels deep", lambda w: w.rdb.save_model(
        w.run, b"w2", "dqn", metadata=DEEP), I),
    ("save_model.file_format: traversal", lambda w: w.rdb.save_model(
        w.run, b"w2", "dqn", file_format="../../etc/passwd"), I),
    ("save_model.artifact_type: traversal", lambda w: w.rdb.save_model(
        w.run, b"w2", "dqn", artifact_type="../x"), I),
    ("save_model.commit_hash: an int", lambda w: w.rdb.save_model(
        w.run, b"w2", "dqn", commit_hash=1234567), I),
    ("save_model.metrics: NaN", lambda w: w.rdb.save_model(
        w.run, b"w2", "dqn", metrics={"sharpe": float("nan")}), I),
    ("save_model.metrics: int beyond double", lambda w: w.rdb.save_model(
        w.run, b"w2", "dqn", metrics={"sharpe": HUGE}), I),
    ("save_model.description: lone surrogate", lambda w: w.rdb.save_model(
        w.run, b"w2", "dqn", description=SURROGATE), I),
    ("get_model.model: a Run", lambda w: w.rdb.get_model(w.run), I),
    ("get_model.model: surrogate in a name", lambda w: w.rdb.get_model(SURROGATE), I),
    ("promote.version: a Model", lambda w: w.rdb.promote(w.saved.model), I),
    ("promote.status: an int", lambda w: w.rdb.promote(w.saved.version, 1), I),
    ("promote.reason: NUL", lambda w: w.rdb.promote(w.saved.version, "staging", NUL), I),
    ("promote.actor: lone surrogate", lambda w: w.rdb.promote(
        w.saved.version, "staging", actor=SURROGATE), I),
    ("promote.actor: 256 characters", lambda w: w.rdb.promote(
        w.saved.version, "staging", actor="x" * 256), I),
    ("get_production.model: a Run", lambda w: w.rdb.get_production(w.run), I),
    ("list_versions.model: an Experiment", lambda w: w.rdb.list_versions(w.exp), I),
    ("latest_version.model: an int", lambda w: w.rdb.latest_version(5), I),
    ("version_history.version: a Model", lambda w: w.rdb.version_history(w.saved.model), I),
    ("lineage.version: a Run", lambda w: w.rdb.lineage(w.run), I),
    # -- series
    ("write_equity.run: a Model", lambda w: w.rdb.write_equity(
        w.saved.model, {"ts": [LATER], "portfolio_value": [1.0]}), I),
    ("write_equity.data: an int", lambda w: w.rdb.write_equity(w.run, 5), I),
    ("write_equity.data: int beyond double", lambda w: w.rdb.write_equity(
        w.run, {"ts": [LATER], "portfolio_value": [HUGE]}), InvalidSeriesRow),
    ("write_equity.model: a Run", lambda w: w.rdb.write_equity(
        w.run, {"ts": [LATER], "portfolio_value": [1.0]}, model=w.run), I),
    ("write_equity.batch_key: lone surrogate", lambda w: w.rdb.write_equity(
        w.run, {"ts": [LATER], "portfolio_value": [1.0]}, batch_key=SURROGATE), I),
    ("write_trades.run: an Experiment", lambda w: w.rdb.write_trades(w.exp, _trades()), I),
    ("write_trades.data: None", lambda w: w.rdb.write_trades(w.run, None), I),
    ("write_trades.data: seq beyond bigint", lambda w: w.rdb.write_trades(
        w.run, _trades(seq=[2**70])), InvalidSeriesRow),
    ("write_trades.data: surrogate asset", lambda w: w.rdb.write_trades(
        w.run, _trades(asset=[SURROGATE])), InvalidSeriesRow),
    ("write_trades.data: metadata 10,000 levels deep", lambda w: w.rdb.write_trades(
        w.run, _trades(metadata=[DEEP])), InvalidSeriesRow),
    ("write_trades.data: metadata 65 levels deep", lambda w: w.rdb.write_trades(
        w.run, _trades(metadata=[DEEP_65])), InvalidSeriesRow),
    ("write_trades.data: metadata int beyond double", lambda w: w.rdb.write_trades(
        w.run, _trades(metadata=[{"fee": HUGE}])), InvalidSeriesRow),
    ("write_trades.data: metadata surrogate", lambda w: w.rdb.write_trades(
        w.run, _trades(metadata=[{"note": SURROGATE}])), InvalidSeriesRow),
    ("write_trades.model: an Experiment", lambda w: w.rdb.write_trades(
        w.run, _trades(), model=w.exp), I),
    ("write_trades.batch_key: NUL", lambda w: w.rdb.write_trades(w.run, _trades(), batch_key=NUL), I),
    ("read_equity.run: a Model", lambda w: w.rdb.read_equity(w.saved.model), I),
    ("read_equity.model: a Run", lambda w: w.rdb.read_equity(w.run, model=w.run), I),
    ("read_equity.start: a string", lambda w: w.rdb.read_equity(w.run, start="2024"), I),
    ("read_equity.end: naive", lambda w: w.rdb.read_equity(w.run, end=NAIVE), I),
    ("read_equity.every: a string", lambda w: w.rdb.read_equity(w.run, every="1h"), I),
    ("read_equity_arrow.run: an int", lambda w: w.rdb.read_equity_arrow(5), I),
    ("read_equity_arrow.model: an Experiment", lambda w: w.rdb.read_equity_arrow(
        w.run, model=w.exp), I),
    ("read_equity_arrow.start: naive", lambda w: w.rdb.read_equity_arrow(w.run, start=NAIVE), I),
    ("read_equity_arrow.end: an int", lambda w: w.rdb.read_equity_arrow(w.run, end=5), I),
    ("read_equity_arrow.every: negative", lambda w: w.rdb.read_equity_arrow(
        w.run, every=timedelta(-1)), I),
    ("read_trades.run: an Experiment", lambda w: w.rdb.read_trades(w.exp), I),
    ("read_trades.model: an int", lambda w: w.rdb.read_trades(w.run, model=5), I),
    ("read_trades.start: an int", lambda w: w.rdb.read_trades(w.run, start=5), I),
    ("read_trades.end: a string", lambda w: w.rdb.read_trades(w.run, end="x"), I),
    ("search_runs.where: an int", lambda w: w.rdb.search_runs(5), I),  # type: ignore[arg-type]
    ("search_runs.where: bad syntax", lambda w: w.rdb.search_runs("metrics.sharpe >"), I),
    ("search_runs.where: NUL", lambda w: w.rdb.search_runs(NUL), I),
    ("search_runs.experiments: empty", lambda w: w.rdb.search_runs(experiments=[]), I),
    ("search_runs.experiments: a Run", lambda w: w.rdb.search_runs(experiments=[w.run]), I),
    ("search_runs.order_by: a param", lambda w: w.rdb.search_runs(order_by="params.x"), I),
    ("search_runs.order_by: an int", lambda w: w.rdb.search_runs(order_by=[5]), I),  # type: ignore[list-item]
    ("search_runs.limit: 0", lambda w: w.rdb.search_runs(limit=0), I),
    ("search_runs.cursor: garbage", lambda w: w.rdb.search_runs(cursor="x"), I),
    ("round_trips.run: an Experiment", lambda w: w.rdb.round_trips(w.exp), I),
    ("round_trips.model: a Run", lambda w: w.rdb.round_trips(w.run, model=w.run), I),
    ("trade_stats.run: an int", lambda w: w.rdb.trade_stats(5), I),
    ("trade_stats.model: an Experiment", lambda w: w.rdb.trade_stats(w.run, model=w.exp), I),
    ("tear_sheet.run: an Experiment", lambda w: w.rdb.tear_sheet(w.exp), I),
    ("tear_sheet.model: a Run", lambda w: w.rdb.tear_sheet(w.run, model=w.run), I),
    ("tear_sheet.periods_per_year: 0", lambda w: w.rdb.tear_sheet(w.run, periods_per_year=0), I),
    ("tear_sheet.risk_free: -1", lambda w: w.rdb.tear_sheet(w.run, risk_free=-1), I),
    ("tear_sheet.omega_threshold: NaN", lambda w: w.rdb.tear_sheet(
        w.run, omega_threshold=float("nan")), I),
    ("tear_sheet.top_drawdowns: 0", lambda w: w.rdb.tear_sheet(w.run, top_drawdowns=0), I),
    ("tear_sheet.rolling_window: 1", lambda w: w.rdb.tear_sheet(w.run, rolling_window=1), I),
    ("tear_sheet.points: a string", lambda w: w.rdb.tear_sheet(w.run, points="5"), I),  # type: ignore[arg-type]
    ("tear_sheets.runs: one run, not a list", lambda w: w.rdb.tear_sheets(w.run), I),  # type: ignore[arg-type]
    ("tear_sheets.runs: an Experiment", lambda w: w.rdb.tear_sheets([w.exp]), I),
    ("tear_sheets.model: a Run", lambda w: w.rdb.tear_sheets([w.run], model=w.run), I),
    ("tear_sheets.periods_per_year: 0", lambda w: w.rdb.tear_sheets([w.run], periods_per_year=0), I),
    ("tear_sheets.risk_free: -1", lambda w: w.rdb.tear_sheets([w.run], risk_free=-1), I),
    ("tear_sheets.omega_threshold: NaN", lambda w: w.rdb.tear_sheets(
        [w.run], omega_threshold=float("nan")), I),
    ("tear_sheets.top_drawdowns: 0", lambda w: w.rdb.tear_sheets([w.run], top_drawdowns=0), I),
    ("tear_sheets.rolling_window: 1", lambda w: w.rdb.tear_sheets([w.run], rolling_window=1), I),
    ("tear_sheets.points: a string", lambda w: w.rdb.tear_sheets([w.run], points="5"), I),  # type: ignore[arg-type]
    ("compare_equity.runs: an int", lambda w: w.rdb.compare_equity(5), I),
    ("compare_equity.runs: a triple", lambda w: w.rdb.compare_equity([(w.run, None, 1)]), I),
    ("compare_equity.column: a dict", lambda w: w.rdb.compare_equity([w.run], column={}), I),
    ("compare_equity.start: naive", lambda w: w.rdb.compare_equity([w.run], start=NAIVE), I),
    ("compare_equity.end: a string", lambda w: w.rdb.compare_equity([w.run], end="x"), I),
    ("compare_equity.every: an int", lambda w: w.rdb.compare_equity([w.run], every=60), I),
    ("compare_equity.fill: bfill", lambda w: w.rdb.compare_equity([w.run], fill="bfill"), I),
    # -- statistics
    ("run_stats.run: a Model", lambda w: w.rdb.run_stats(w.saved.model), I),
    ("run_stats.model: a Run", lambda w: w.rdb.run_stats(w.run, model=w.run), I),
    ("run_stats.periods_per_year: int beyond double", lambda w: w.rdb.run_stats(
        w.run, periods_per_year=HUGE), I),
    ("run_stats.risk_free: a string", lambda w: w.rdb.run_stats(w.run, risk_free="0.0"), I),
    ("compute_stats.run: an int", lambda w: w.rdb.compute_stats(5), I),
    ("compute_stats.model: an Experiment", lambda w: w.rdb.compute_stats(w.run, model=w.exp), I),
    ("compute_stats.periods_per_year: a string", lambda w: w.rdb.compute_stats(
        w.run, periods_per_year="252"), I),
    ("compute_stats.risk_free: int beyond minus double", lambda w: w.rdb.compute_stats(
        w.run, risk_free=-HUGE), I),
    ("deflated_sharpe.search_run: an Experiment", lambda w: w.rdb.deflated_sharpe(w.exp), I),
    ("deflated_sharpe.periods_per_year: a string", lambda w: w.rdb.deflated_sharpe(
        w.run, periods_per_year="252"), I),
    ("deflated_sharpe.risk_free: int beyond double", lambda w: w.rdb.deflated_sharpe(
        w.run, risk_free=HUGE), I),
    ("deflated_sharpe.n_trials: a string", lambda w: w.rdb.deflated_sharpe(w.run, n_trials="3"), I),
    ("deflated_sharpe.n_trials: int beyond double", lambda w: w.rdb.deflated_sharpe(
        w.run, n_trials=HUGE), I),
    ("pbo.search_run: an int", lambda w: w.rdb.pbo(5), I),
    ("pbo.n_blocks: a string", lambda w: w.rdb.pbo(w.run, n_blocks="16"), I),
    ("pbo.n_blocks: int beyond double", lambda w: w.rdb.pbo(w.run, n_blocks=HUGE), I),
    ("pbo.periods_per_year: int beyond double", lambda w: w.rdb.pbo(w.run, periods_per_year=HUGE), I),
    ("pbo.risk_free: a string", lambda w: w.rdb.pbo(w.run, risk_free="0"), I),
    # -- analytics
    ("leaderboard.experiment: a Run", lambda w: w.rdb.leaderboard(w.run, "sharpe"), I),
    ("leaderboard.metric: a dict", lambda w: w.rdb.leaderboard(w.exp, {"a": 1}), I),
    ("leaderboard.metric: NUL", lambda w: w.rdb.leaderboard(w.exp, NUL), I),
    ("leaderboard.direction: an int", lambda w: w.rdb.leaderboard(w.exp, "sharpe", 1), I),
    ("leaderboard.limit: int beyond double", lambda w: w.rdb.leaderboard(
        w.exp, "sharpe", limit=HUGE), I),
    ("leaderboard.status: an int", lambda w: w.rdb.leaderboard(w.exp, "sharpe", status=1), I),
    ("compare_runs.runs: an int", lambda w: w.rdb.compare_runs(5), I),
    ("compare_runs.runs: a Run, not a list", lambda w: w.rdb.compare_runs(w.run), I),
    ("compare_runs.runs: a Model in the list", lambda w: w.rdb.compare_runs([w.saved.model]), I),
    ("compare_frame.runs: a string", lambda w: w.rdb.compare_frame(str(w.run.id)), I),
    ("experiment_summary.experiment: a Model", lambda w: w.rdb.experiment_summary(w.saved.model), I),
    ("experiment_summary.metric: a dict", lambda w: w.rdb.experiment_summary(w.exp, {"a": 1}), I),
    ("experiment_summary.metric: lone surrogate", lambda w: w.rdb.experiment_summary(
        w.exp, SURROGATE), I),
    ("experiment_summary.direction: None", lambda w: w.rdb.experiment_summary(
        w.exp, "sharpe", None), I),
    ("model_summary.model: a Run", lambda w: w.rdb.model_summary(w.run), I),
    ("models_needing_attention.max_age_days: a string",
     lambda w: w.rdb.models_needing_attention(max_age_days="30"), I),
    ("models_needing_attention.max_age_days: int beyond double",
     lambda w: w.rdb.models_needing_attention(max_age_days=HUGE), I),
    ("models_needing_attention.metric: a dict", lambda w: w.rdb.models_needing_attention(
        metric={"a": 1}), I),
    ("models_needing_attention.metric: NUL", lambda w: w.rdb.models_needing_attention(metric=NUL), I),
    ("models_needing_attention.direction: None", lambda w: w.rdb.models_needing_attention(
        direction=None), I),
]

N = NotFound
M = MISSING
NOT_FOUND: list[Case] = [
    ("get_experiment.experiment", lambda w: w.rdb.get_experiment(M), N),
    ("get_experiment.experiment: by name", lambda w: w.rdb.get_experiment("no-such"), N),
    ("complete_experiment.experiment", lambda w: w.rdb.complete_experiment(M), N),
    ("fail_experiment.experiment", lambda w: w.rdb.fail_experiment(M), N),
    ("archive_experiment.experiment", lambda w: w.rdb.archive_experiment(M), N),
    ("reactivate_experiment.experiment", lambda w: w.rdb.reactivate_experiment(M), N),
    ("start_run.experiment", lambda w: w.rdb.start_run(M, "r"), N),
    ("start_run.experiment: by name", lambda w: w.rdb.start_run("no-such", "r"), N),
    ("start_run.parent", lambda w: w.rdb.start_run(w.exp, "r", parent=M), N),
    ("run.experiment", lambda w: w.rdb.run(M).__enter__(), N),
    ("run.parent", lambda w: w.rdb.run(w.exp, parent=M).__enter__(), N),
    ("get_run.run", lambda w: w.rdb.get_run(M), N),
    ("end_run.run", lambda w: w.rdb.end_run(M), N),
    ("start.run", lambda w: w.rdb.start(M), N),
    ("log_summary_metrics.run", lambda w: w.rdb.log_summary_metrics(M, {"x": 1}), N),
    ("runs.experiment", lambda w: w.rdb.runs(M), N),
    ("runs.parent", lambda w: w.rdb.runs(parent=M), N),
    ("start_trial.run", lambda w: w.rdb.start_trial(M), N),
    ("start_trial.trial_run", lambda w: w.rdb.start_trial(w.run, trial_run=M), N),
    ("finish_trial.trial", lambda w: w.rdb.finish_trial(M, 1.0), N),
    ("prune_trial.trial", lambda w: w.rdb.prune_trial(M), N),
    ("fail_trial.trial", lambda w: w.rdb.fail_trial(M), N),
    ("add_trial.run", lambda w: w.rdb.add_trial(M, {}, 1.0), N),
    ("best_trial.run", lambda w: w.rdb.best_trial(M), N),
    ("trials.run", lambda w: w.rdb.trials(M), N),
    ("trials_frame.run", lambda w: w.rdb.trials_frame(M), N),
    ("save_config.run", lambda w: w.rdb.save_config(M, "c", "training", {}), N),
    ("save_config.parent", lambda w: w.rdb.save_config(w.run, "c", "training", {}, parent=M), N),
    ("get_config.config", lambda w: w.rdb.get_config(M), N),
    ("config_lineage.config", lambda w: w.rdb.config_lineage(M), N),
    ("diff.a", lambda w: w.rdb.diff(M, w.cfg), N),
    ("diff.b", lambda w: w.rdb.diff(w.cfg, M), N),
    ("register_snapshot.run", lambda w: w.rdb.register_snapshot(M, "binance", T0, T0, SHA), N),
    ("runs_using_snapshot.snapshot", lambda w: w.rdb.runs_using_snapshot(M), N),
    ("save_model.run", lambda w: w.rdb.save_model(M, b"w2", "dqn"), N),
    ("save_model.config", lambda w: w.rdb.save_model(w.run, b"w2", "dqn", M), N),
    ("get_model.model", lambda w: w.rdb.get_model(M), N),
    ("get_model.model: by name", lambda w: w.rdb.get_model("no-such"), N),
    ("promote.version", lambda w: w.rdb.promote(M), N),
    ("get_production.model", lambda w: w.rdb.get_production(M), N),
    ("list_versions.model", lambda w: w.rdb.list_versions(M), N),
    ("list_versions.model: by name", lambda w: w.rdb.list_versions("no-such"), N),
    ("latest_version.model", lambda w: w.rdb.latest_version(M), N),
    ("version_history.version", lambda w: w.rdb.version_history(M), N),
    ("lineage.version", lambda w: w.rdb.lineage(M), N),
    ("write_equity.run", lambda w: w.rdb.write_equity(M, {"ts": [LATER], "portfolio_value": [1.0]}), N),
    ("write_equity.model", lambda w: w.rdb.write_equity(
        w.run, {"ts": [LATER], "portfolio_value": [1.0]}, model=M), N),
    ("write_trades.run", lambda w: w.rdb.write_trades(M, _trades()), N),
    ("write_trades.model", lambda w: w.rdb.write_trades(w.run, _trades(), model=M), N),
    ("read_equity.run", lambda w: w.rdb.read_equity(M), N),
    ("read_equity.model", lambda w: w.rdb.read_equity(w.run, model=M), N),
    ("read_equity_arrow.run", lambda w: w.rdb.read_equity_arrow(M), N),
    ("read_equity_arrow.model", lambda w: w.rdb.read_equity_arrow(w.run, model=M), N),
    ("read_trades.run", lambda w: w.rdb.read_trades(M), N),
    ("read_trades.model", lambda w: w.rdb.read_trades(w.run, model=M), N),
    ("search_runs.experiments", lambda w: w.rdb.search_runs(experiments=[M]), N),
    ("round_trips.run", lambda w: w.rdb.round_trips(M), N),
    ("round_trips.model", lambda w: w.rdb.round_trips(w.run, model=M), N),
    ("trade_stats.run", lambda w: w.rdb.trade_stats(M), N),
    ("trade_stats.model", lambda w: w.rdb.trade_stats(w.run, model=M), N),
    ("tear_sheet.run", lambda w: w.rdb.tear_sheet(M), N),
    ("tear_sheet.model", lambda w: w.rdb.tear_sheet(w.run, model=M), N),
    ("tear_sheets.runs", lambda w: w.rdb.tear_sheets([w.run, M]), N),
    ("tear_sheets.model", lambda w: w.rdb.tear_sheets([w.run], model=M), N),
    ("compare_equity.runs", lambda w: w.rdb.compare_equity([w.run, M]), N),
    ("run_stats.run", lambda w: w.rdb.run_stats(M), N),
    ("run_stats.model", lambda w: w.rdb.run_stats(w.run, model=M), N),
    ("compute_stats.run", lambda w: w.rdb.compute_stats(M), N),
    ("compute_stats.model", lambda w: w.rdb.compute_stats(w.run, model=M), N),
    ("deflated_sharpe.search_run", lambda w: w.rdb.deflated_sharpe(M), N),
    ("pbo.search_run", lambda w: w.rdb.pbo(M), N),
    ("leaderboard.experiment", lambda w: w.rdb.leaderboard(M, "sharpe"), N),
    ("compare_runs.runs", lambda w: w.rdb.compare_runs([w.run, M]), N),
    ("compare_frame.runs", lambda w: w.rdb.compare_frame([M]), N),
    ("experiment_summary.experiment", lambda w: w.rdb.experiment_summary(M), N),
    ("model_summary.model", lambda w: w.rdb.model_summary(M), N),
]


@pytest.mark.parametrize(("name", "call", "error"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_argument_is_refused_with_its_typed_error_and_changes_no_row(
        world: World, name: str, call: Callable[[World], Any], error: type[BaseException]) -> None:
    err = refused(world, call, error)
    if isinstance(err, InvalidInput) and not isinstance(err, InvalidSeriesRow):
        argument = name.split(":")[0].split(".")[1]
        # The message names the argument (or the field it fills, e.g. run -> run_id),
        # and never shows a NUL or a lone surrogate itself.
        assert argument.rstrip("s")[:4] in str(err) or (err.field or "").startswith(
            argument[:4]), (name, str(err))
    assert "\x00" not in str(err) and str(err).encode("utf-8")


@pytest.mark.parametrize(("name", "call", "error"), NOT_FOUND, ids=[c[0] for c in NOT_FOUND])
def test_a_reference_to_nothing_is_not_found(
        world: World, name: str, call: Callable[[World], Any], error: type[BaseException]) -> None:
    refused(world, call, error)


SECRET_URL = "postgresql://someone:hunter2-secret@127.0.0.1:1/db"
CONNECTING: list[tuple[str, Callable[[], Any], str]] = [
    ("connect.pool_max_size: negative", lambda: connect(SECRET_URL, pool_max_size=-1), "pool_max_size"),
    ("connect.pool_max_size: a string", lambda: connect(SECRET_URL, pool_max_size="x"), "pool_max_size"),
    ("connect.settings: not a setting", lambda: connect(SECRET_URL, pool_max_sise=4), "pool_max_sise"),
    ("connect.url: an int", lambda: connect(5), "url"),  # type: ignore[arg-type]
    ("ResultsDB.url: NUL", lambda: ResultsDB(url=SECRET_URL + "\x00"), "url"),
    ("ResultsDB.settings: an int", lambda: ResultsDB(5), "settings"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("name", "call", "field"), CONNECTING, ids=[c[0] for c in CONNECTING])
def test_bad_settings_are_invalid_input_naming_the_setting_and_never_the_password(
        name: str, call: Callable[[], Any], field: str) -> None:
    """Refused before any connection is tried (port 1 would refuse it anyway)."""
    with pytest.raises(InvalidInput) as err:
        call()
    assert err.value.field == field and str(err.value).startswith(f"{field}: ")
    assert "hunter2" not in str(err.value)


def _public_arguments() -> set[tuple[str, str]]:
    skip = {"open", "close", "transaction"}
    return {(name, p) for name, fn in inspect.getmembers(ResultsDB, inspect.isfunction)
            if not name.startswith("_") and name not in skip
            for p in list(inspect.signature(fn).parameters)[1:]}


def _covered(cases: list[Case]) -> set[tuple[str, str]]:
    return {tuple(name.split(":")[0].split(".", 1)) for name, _, _ in cases}  # type: ignore[misc]


def test_every_argument_of_every_public_method_has_a_bad_input_case() -> None:
    missing = _public_arguments() - _covered(CASES)
    assert not missing, sorted(missing)
    assert len({name for name, _, _ in CASES + NOT_FOUND}) == len(CASES) + len(NOT_FOUND)


def test_every_reference_argument_has_a_not_found_case() -> None:
    references = {(name, p) for name, p in _public_arguments()
                  if p in {"experiment", "run", "runs", "parent", "trial", "trial_run", "config",
                           "snapshot", "model", "version", "search_run", "a", "b"}}
    missing = references - _covered(NOT_FOUND)
    assert not missing, sorted(missing)
