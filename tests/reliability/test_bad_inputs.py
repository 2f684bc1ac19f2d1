"""A catalogue of bad inputs across the public API and the CLI.

Every case names the typed error it must raise, and checks that no row of any table
changed: the count and an md5 of every table's rows, ordered by key, are the same
before and after (``table_state``, read on a connection of its own). The fixtures
create one of everything first, so every table has rows a bad call could disturb.

Cases that the API *accepts* safely (SQL-looking text in filter values and tag keys)
are in ``SAFE``: they must succeed, change nothing, and leave the tables intact.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pandas as pd
import psycopg
import pytest
from typer.testing import CliRunner

from resultsdb import series
from resultsdb.artifacts import ArtifactStore, claim
from resultsdb.artifacts.keys import check_relative
from resultsdb.cli import app
from resultsdb.errors import (
    AlreadyExists,
    ConstraintViolation,
    InvalidArtifactKey,
    InvalidInput,
    InvalidSeriesRow,
    InvalidTransition,
    NotFound,
    ReferenceNotFound,
    SeriesArchiveError,
)
from resultsdb.stats import trading
from tests.reliability._world import MISSING, NAIVE, SHA, T0, World, refused
from tests.reliability.conftest import table_state


def equity(ts: Any, values: Any) -> pd.DataFrame:
    return pd.DataFrame({"ts": ts, "portfolio_value": values})


def later(n: int = 3) -> pd.DatetimeIndex:
    return pd.date_range(T0 + timedelta(days=30), periods=n, freq="min", tz="UTC")


def cli(w: World, *args: str) -> None:
    """Run the CLI; raise what it reported, as the error class named on stderr."""
    result = CliRunner().invoke(app, ["--url", w.url, *args])
    if result.exit_code == 0:
        return
    classes = {c.__name__: c for c in (InvalidInput, NotFound, InvalidTransition,
                                        InvalidArtifactKey, ReferenceNotFound,
                                        SeriesArchiveError)}
    for name, cls in classes.items():
        if f"({name})" in result.stderr:
            raise cls(result.stderr)
    if result.exit_code == 2:  # click's usage error: refused before any command ran
        raise InvalidInput(result.stderr)
    raise AssertionError(f"exit {result.exit_code}: {result.stderr} {result.exception!r}")


Case = tuple[str, Callable[[World], Any], type[BaseException]]
R = "start_time; drop table runs"

CASES: list[Case] = [
    # -- experiments: strings, JSON, states
    ("experiment name empty", lambda w: w.rdb.start_experiment(""), InvalidInput),
    ("experiment name 256 chars", lambda w: w.rdb.start_experiment("x" * 256), InvalidInput),
    ("experiment name with NUL", lambda w: w.rdb.start_experiment("a\x00b"), InvalidInput),
    ("experiment name not a string", lambda w: w.rdb.start_experiment(123), InvalidInput),
    ("experiment duplicate live name", lambda w: w.rdb.start_experiment("momentum"), AlreadyExists),
    ("experiment tag NaN", lambda w: w.rdb.start_experiment("n", tags={"k": float("nan")}),
     InvalidInput),
    ("experiment tag +inf", lambda w: w.rdb.start_experiment("n", tags={"k": float("inf")}),
     InvalidInput),
    ("experiment tag -inf nested", lambda w: w.rdb.start_experiment(
        "n", tags={"k": {"x": [float("-inf")]}}), InvalidInput),
    ("experiment tag key not a string", lambda w: w.rdb.start_experiment("n", tags={1: "x"}),
     InvalidInput),
    ("experiment tag value not JSON", lambda w: w.rdb.start_experiment("n", tags={"k": object()}),
     InvalidInput),
    ("experiment description 10001 chars", lambda w: w.rdb.start_experiment(
        "n", description="d" * 10_001), InvalidInput),
    ("experiment completed then failed", lambda w: w.rdb.fail_experiment(w.done_exp),
     InvalidTransition),
    ("experiment unknown name", lambda w: w.rdb.get_experiment("no-such"), NotFound),
    ("experiment unknown id", lambda w: w.rdb.complete_experiment(MISSING), NotFound),
    ("experiment malformed id", lambda w: w.rdb.get_experiment("0190-not-a-uuid-" + "0" * 20),
     NotFound),
    ("experiments unknown status", lambda w: w.rdb.experiments(status="bogus"), InvalidInput),
    ("experiments limit 0", lambda w: w.rdb.experiments(limit=0), InvalidInput),
    ("experiments limit negative", lambda w: w.rdb.experiments(limit=-5), InvalidInput),
    ("experiments naive created_after", lambda w: w.rdb.experiments(created_after=NAIVE),
     InvalidInput),
    # -- runs
    ("run in unknown experiment", lambda w: w.rdb.start_run(MISSING, "r"), ReferenceNotFound),
    ("run starts completed", lambda w: w.rdb.start_run(w.exp, "r", status="completed"),
     InvalidInput),
    ("run name 256 chars", lambda w: w.rdb.start_run(w.exp, "r" * 256), InvalidInput),
    ("run tags not a mapping", lambda w: w.rdb.start_run(w.exp, "r", tags=42), InvalidInput),
    ("end run unknown status", lambda w: w.rdb.end_run(w.run, "bogus"), InvalidInput),
    ("end run twice", lambda w: w.rdb.end_run(w.ended_run), InvalidTransition),
    ("end unknown run", lambda w: w.rdb.end_run(MISSING), NotFound),
    ("start an ended run", lambda w: w.rdb.start(w.ended_run), InvalidTransition),
    ("metric NaN", lambda w: w.rdb.log_summary_metrics(w.run, {"sharpe": float("nan")}),
     InvalidInput),
    ("metric string", lambda w: w.rdb.log_summary_metrics(w.run, {"sharpe": "1.0"}), InvalidInput),
    ("metric bool", lambda w: w.rdb.log_summary_metrics(w.run, {"sharpe": True}), InvalidInput),
    ("runs order_by injection", lambda w: w.rdb.runs(order_by=R), InvalidInput),
    ("runs order_by quoted", lambda w: w.rdb.runs(order_by='"name"'), InvalidInput),
    ("runs order_by subquery", lambda w: w.rdb.runs(order_by="(select 1)"), InvalidInput),
    ("runs unknown status", lambda w: w.rdb.runs(status="bogus"), InvalidInput),
    ("runs forged cursor", lambda w: w.rdb.runs(cursor="eyJrIjoieCJ9"), InvalidInput),
    ("runs naive started_after", lambda w: w.rdb.runs(started_after=NAIVE), InvalidInput),
    ("runs limit 1001", lambda w: w.rdb.runs(limit=1001), InvalidInput),
    # -- trials
    ("trial of unknown run", lambda w: w.rdb.start_trial(MISSING), NotFound),
    ("trial params NaN", lambda w: w.rdb.start_trial(w.run, {"x": float("nan")}), InvalidInput),
    ("trial params not a mapping", lambda w: w.rdb.start_trial(w.run, "lr=1"), InvalidInput),
    ("trial objective inf", lambda w: w.rdb.finish_trial(w.trial, float("inf")), InvalidInput),
    ("trial unknown status", lambda w: w.rdb.finish_trial(w.trial, 1.0, status="bogus"),
     InvalidInput),
    ("trial finished twice", lambda w: w.rdb.finish_trial(w.done_trial, 2.0), InvalidTransition),
    ("trial add as running", lambda w: w.rdb.add_trial(w.run, status="running"), InvalidInput),
    ("trial completed without objective", lambda w: w.rdb.add_trial(w.run), InvalidInput),
    # -- configurations and snapshots
    ("config name empty", lambda w: w.rdb.save_config(w.run, "", "training", {}), InvalidInput),
    ("config params NaN", lambda w: w.rdb.save_config(w.run, "c", "training",
                                                       {"x": float("nan")}), InvalidInput),
    ("config params a list", lambda w: w.rdb.save_config(w.run, "c", "training", [1, 2]),
     InvalidInput),
    ("config unknown parent", lambda w: w.rdb.save_config(w.run, "c", "training", {},
                                                          parent=MISSING), ReferenceNotFound),
    ("config unknown run", lambda w: w.rdb.save_config(MISSING, "c", "training", {}),
     ReferenceNotFound),
    ("snapshot naive start", lambda w: w.rdb.register_snapshot(
        w.run, "binance", NAIVE, T0, SHA), InvalidInput),
    ("snapshot end before start", lambda w: w.rdb.register_snapshot(
        w.run, "binance", T0, T0 - timedelta(days=1), SHA), InvalidInput),
    ("snapshot malformed hash", lambda w: w.rdb.register_snapshot(
        w.run, "binance", T0, T0, "xyz"), InvalidInput),
    ("snapshot upper-case hash", lambda w: w.rdb.register_snapshot(
        w.run, "binance", T0, T0, SHA.upper()), InvalidInput),
    # -- models
    ("model data not bytes", lambda w: w.rdb.save_model(w.run, 12345, "dqn"), InvalidInput),
    ("model malformed commit hash", lambda w: w.rdb.save_model(
        w.run, b"weights", "dqn", name="dqn-btc", commit_hash="NOT-HEX"), InvalidInput),
    ("model file format traversal", lambda w: w.rdb.save_model(
        w.run, b"weights", "dqn", name="dqn-btc", file_format="../../etc"), InvalidInput),
    ("model metrics NaN", lambda w: w.rdb.save_model(
        w.run, b"weights", "dqn", name="dqn-btc", metrics={"x": float("nan")}), InvalidInput),
    ("model wrong type on reuse", lambda w: w.rdb.save_model(w.run, b"weights", "ppo",
                                                             name="dqn-btc"), InvalidInput),
    ("promote to unknown status", lambda w: w.rdb.promote(w.saved.version, "bogus"), InvalidInput),
    ("promote unknown version", lambda w: w.rdb.promote(MISSING), NotFound),
    ("unknown model name", lambda w: w.rdb.get_model("no-such-model"), NotFound),
    ("duplicate model version", lambda w: w.rdb.db.write(lambda c: c.execute(
        "insert into model_versions (model_id, version, run_id) values (%s, 1, %s)",
        (w.saved.model.id, w.run.id))), AlreadyExists),
    # -- series
    ("equity NaN value", lambda w: series.write_equity(
        w.rdb.db, w.run, None, equity(later(), [1.0, float("nan"), 2.0])), InvalidSeriesRow),
    ("equity +inf value", lambda w: series.write_equity(
        w.rdb.db, w.run, None, equity(later(), [1.0, float("inf"), 2.0])), InvalidSeriesRow),
    ("equity naive timestamps", lambda w: series.write_equity(
        w.rdb.db, w.run, None, equity(pd.date_range(NAIVE, periods=3, freq="min"), [1.0] * 3)),
     InvalidSeriesRow),
    ("equity unsorted timestamps", lambda w: series.write_equity(
        w.rdb.db, w.run, None, equity(later()[::-1], [1.0] * 3)), InvalidSeriesRow),
    ("equity duplicate timestamps", lambda w: series.write_equity(
        w.rdb.db, w.run, None, equity([later()[0]] * 3, [1.0] * 3)), InvalidSeriesRow),
    ("equity timestamps already stored", lambda w: series.write_equity(
        w.rdb.db, w.run, None, equity(pd.date_range(T0, periods=3, freq="min", tz="UTC"),
                                      [1.0] * 3)), AlreadyExists),
    ("equity unknown run", lambda w: series.write_equity(
        w.rdb.db, MISSING, None, equity(later(), [1.0] * 3)), ReferenceNotFound),
    ("equity batch key reused for other content", lambda w: series.write_equity(
        w.rdb.db, w.run, None, equity(later(), [1.0] * 3), batch_key="eq-1"), AlreadyExists),
    ("equity empty batch key", lambda w: series.write_equity(
        w.rdb.db, w.run, None, equity(later(), [1.0] * 3), batch_key=""), InvalidInput),
    ("trade negative quantity", lambda w: series.write_trades(
        w.rdb.db, w.run, None, [(T0 + timedelta(days=30), "BTC", "buy", 1.0, -1.0)]),
     InvalidSeriesRow),
    ("trade unknown action", lambda w: series.write_trades(
        w.rdb.db, w.run, None, [(T0 + timedelta(days=30), "BTC", "hold", 1.0, 1.0)]),
     InvalidSeriesRow),
    ("trade empty asset", lambda w: series.write_trades(
        w.rdb.db, w.run, None, [(T0 + timedelta(days=30), "", "buy", 1.0, 1.0)]), InvalidSeriesRow),
    ("trade unsorted timestamps", lambda w: series.write_trades(
        w.rdb.db, w.run, None, [(T0 + timedelta(days=31), "BTC", "buy", 1.0, 1.0),
                                (T0 + timedelta(days=30), "BTC", "sell", 1.0, 1.0)]),
     InvalidSeriesRow),
    # -- artifact store names, hashes and sizes
    ("artifact hash with traversal", lambda w: w.store.get("../../etc/passwd"), InvalidArtifactKey),
    ("artifact hash upper-case", lambda w: w.store.get(SHA.upper()), InvalidArtifactKey),
    ("artifact hash too short", lambda w: w.store.get("abc"), InvalidArtifactKey),
    ("artifact key absolute", lambda w: check_relative("/etc/passwd"), InvalidArtifactKey),
    ("artifact key dot-dot", lambda w: check_relative("sha256/../../x"), InvalidArtifactKey),
    ("artifact key NUL", lambda w: check_relative("sha256/a\x00b"), InvalidArtifactKey),
    ("artifact store root is /", lambda w: ArtifactStore("file:///"), InvalidArtifactKey),
    ("artifact negative size", lambda w: w.rdb.db.write(lambda c: claim(c, "cd" * 32, -1)),
     ConstraintViolation),
    # -- statistics
    ("stats periods_per_year 0", lambda w: trading.run_stats(w.rdb.db, w.run, periods_per_year=0),
     InvalidInput),
    ("stats risk_free -2", lambda w: trading.run_stats(w.rdb.db, w.run, risk_free=-2), InvalidInput),
    ("stats unknown run", lambda w: trading.run_stats(w.rdb.db, MISSING), NotFound),
    # -- CLI
    ("cli stats-run malformed id", lambda w: cli(w, "stats-run", "not-an-id"), InvalidInput),
    ("cli stats-run unknown run", lambda w: cli(w, "stats-run", MISSING), NotFound),
    ("cli stats-run negative periods", lambda w: cli(w, "stats-run", str(w.run.id),
                                                     "--periods-per-year", "-1"), InvalidInput),
    ("cli archive bad date", lambda w: cli(w, "archive", "--before", "yesterday-ish"), InvalidInput),
    ("cli archive naive time", lambda w: cli(w, "archive", "--before", "2024-01-01T00:00:00"),
     InvalidInput),
    ("cli gc bad grace", lambda w: cli(w, "gc", "--grace", "forever"), InvalidInput),
    ("cli cleanup negative keep", lambda w: cli(w, "cleanup-versions", "dqn-btc", "--keep", "-1"),
     InvalidInput),
    ("cli cleanup unknown model", lambda w: cli(w, "cleanup-versions", "no-such", "--keep", "1"),
     NotFound),
    ("cli roles prefix injection", lambda w: cli(w, "roles", "--prefix", "x; drop table runs"),
     InvalidInput),
    ("cli restore traversal partition", lambda w: cli(
        w, "restore", "--from", "file:///nonexistent-rdb", "--partition", "../../etc"), SeriesArchiveError),
]


def test_the_catalogue_has_at_least_40_cases() -> None:
    assert len(CASES) >= 40
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "call", "error"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_its_typed_error_and_changes_no_row(
        world: World, name: str, call: Callable[[World], Any], error: type[BaseException]) -> None:
    # save_model checks every argument and reference before it stores a byte, so a
    # refused save leaves the blobs ledger (and the store) as they were too.
    refused(world, call, error)


SAFE: list[tuple[str, Callable[[World], Any]]] = [
    ("runs tag key with quotes", lambda w: w.rdb.runs(tags={"a'); drop table runs; --": 1})),
    ("runs tag value with quotes", lambda w: w.rdb.runs(tags={"asset": "x' or '1'='1"})),
    ("runs run_type injection", lambda w: w.rdb.runs(run_type="training' or 1=1 --")),
    ("experiments tag label injection", lambda w: w.rdb.experiments(tags=["'; drop table runs; --"])),
    ("experiment named like SQL", lambda w: w.rdb.get_experiment("momentum' or '1'='1")),
]


@pytest.mark.parametrize(("name", "call"), SAFE, ids=[c[0] for c in SAFE])
def test_sql_in_filter_values_is_only_data(world: World, name: str, call: Callable[[World], Any]) -> None:
    with psycopg.connect(world.url, autocommit=True) as conn:
        before = table_state(conn)
        try:
            result = call(world)
        except NotFound:
            result = []
        assert len(list(result)) == 0  # matched nothing: the text was compared, not run
        assert table_state(conn) == before


def test_an_oversized_json_document_is_refused_and_one_at_the_limit_stored(world: World) -> None:
    """JSON documents are capped at fields.MAX_JSON_BYTES (compact UTF-8 JSON), whichever
    field holds them: a 10 MB document is refused naming the field, and writes nothing; a
    document just under the cap is stored and reads back equal."""
    from resultsdb.fields import MAX_JSON_BYTES

    huge = {f"k{i:06d}": "v" * 100 for i in range(100_000)}  # ~10.6 MB of JSON
    many_metrics = {f"metric_{i:07d}": float(i) for i in range(60_000)}  # ~1.7 MB
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("tags", lambda: world.rdb.start_experiment("big-tags", tags=huge)),
        ("tags", lambda: world.rdb.start_run(world.exp, "big", tags={"nested": huge})),
        ("parameters", lambda: world.rdb.save_config(world.run, "big", "model", huge)),
        ("metrics", lambda: world.rdb.log_summary_metrics(world.run, many_metrics)),
    ]
    with psycopg.connect(world.url, autocommit=True) as conn:
        before = table_state(conn)
        for field, call in cases:
            with pytest.raises(InvalidInput, match=field) as info:
                call()
            assert f"over the limit of {MAX_JSON_BYTES:,} bytes" in str(info.value)
        assert table_state(conn) == before
    # "é" is two bytes in UTF-8: the cap counts bytes, not characters.
    tags = {"blob": "é" * ((MAX_JSON_BYTES - 20) // 2)}
    exp = world.rdb.start_experiment("tags-at-the-limit", tags=tags)
    assert world.rdb.get_experiment(exp.id).tags == tags
