"""db.search_runs against an independent evaluator (tests/search/reference.py), on one
dataset for the module: metrics with ties, gaps and names that need quoting; parameters in
configurations (nested, arrays, numbers beside numeric strings, booleans) and in trials;
tags; runs of every status, unnamed runs, three experiments. Every search is also paged
through in small pages and must give the same runs in the same order, each once."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resultsdb import ResultsDB
from resultsdb.errors import InvalidInput, NotFound
from tests.dbpool import DatabasePool
from tests.search.reference import Parser, RunFacts, matching, ordered

EXPERIMENTS = ("alpha", "beta", "gamma")
ASSETS = ("btc", "eth", "sol")


def _dataset(db: ResultsDB) -> list[RunFacts]:
    rng = random.Random(20261205)
    facts: dict[Any, RunFacts] = {}
    exps = {name: db.start_experiment(name) for name in EXPERIMENTS}
    runs = []
    for i in range(72):
        exp = exps[EXPERIMENTS[i % 3]]
        status = "scheduled" if i % 17 == 5 else "running"
        tags: dict[str, Any] = {}
        if i % 5:
            tags["asset"] = rng.choice(ASSETS)
        if i % 4 == 0:
            tags["team.name"] = rng.choice(["quant", "ml"])
        run = db.start_run(exp, None if i % 11 == 0 else f"run{i:03d}",
                           run_type=rng.choice(["backtest", "training"]), tags=tags, status=status)
        metrics = {"sharpe": rng.choice([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, rng.uniform(-2, 3)]),
                   "max_drawdown": round(rng.uniform(0, 0.5), 3)}
        if i % 7 == 0:
            del metrics["sharpe"]
        if i % 3 == 0:
            metrics["val loss"] = round(rng.uniform(0, 1), 2)
        if i % 13 == 0:
            metrics = {}
        if metrics:
            db.log_summary_metrics(run, metrics)
        docs = []
        for c in range(0 if i % 6 == 0 else 1 + (i % 9 == 0)):
            doc = {"fast": rng.choice([5, 10, "10", 20, 10.0]), "slow": rng.choice([0.25, 1.5, 30]),
                   "model": {"kind": rng.choice(["dqn", "ppo"]),
                             "layers": rng.choice([[64, 32], [128], []])},
                   "use_ema": rng.choice([True, False])}
            if rng.random() < 0.2:
                doc["note"] = None
            db.save_config(run, f"cfg{i}-{c}", "strategy", doc)
            docs.append(doc)
        if status == "running" and i % 4 != 3:
            run = db.end_run(run, rng.choice(["completed", "completed", "failed", "killed"]))
        runs.append(run)
        facts[run.id] = RunFacts(run.id, {}, {k: float(v) for k, v in metrics.items()}, tags, docs)
    # A search whose trials are child runs: their parameters are the trial's.
    search = db.start_run(exps["alpha"], "search000", run_type="hyperparameter_tuning")
    facts[search.id] = RunFacts(search.id, {}, {}, {}, [])
    for t in range(6):
        child = db.start_run(exps["alpha"], f"trial{t:03d}", run_type="backtest", parent=search)
        params = {"lr": [0.001, 0.01, 0.1][t % 3], "fast": [10, 20][t % 2]}
        db.start_trial(search, params, trial_run=child)
        metrics = {"sharpe": round(rng.uniform(0, 3), 2)}
        db.log_summary_metrics(child, metrics)
        facts[child.id] = RunFacts(child.id, {}, metrics, {}, [params])
    names = {e.id: e.name for e in exps.values()}
    page = db.search_runs(order_by="id", limit=1000)
    for run in page:
        facts[run.id].attrs = {
            "id": run.id, "name": run.name, "status": run.status, "run_type": run.run_type,
            "experiment": names[run.experiment_id], "experiment_id": run.experiment_id,
            "parent_run_id": run.parent_run_id, "start_time": run.start_time,
            "end_time": run.end_time, "created_at": run.created_at, "updated_at": run.updated_at,
            "error_type": run.error_type, "trial_count": run.trial_count}
    assert len(page) == len(facts)
    return list(facts.values())


@pytest.fixture(scope="module")
def searched(database_pool: DatabasePool, pg_server: Any) -> Iterator[tuple[ResultsDB, list[RunFacts]]]:
    name = database_pool.take()
    try:
        with ResultsDB(url=pg_server.conninfo(name)) as db:
            yield db, _dataset(db)
    finally:
        database_pool.give_back(name)


def _order_spec(order: list[str]) -> list[tuple[str, tuple[str, ...], bool]]:
    out = []
    for text in order:
        words = text.rsplit(" ", 1)
        desc = len(words) == 2 and words[1].lower() == "desc"
        key_text = words[0] if len(words) == 2 and words[1].lower() in ("asc", "desc") else text
        kind, path = Parser(key_text).key()
        out.append(("metric" if kind == "metric" else "attr", path, desc))
    return out


def _check(db: ResultsDB, facts: list[RunFacts], where: str | None, order: list[str],
           page_size: int) -> None:
    expected = [r.id for r in ordered(matching(where, facts), _order_spec(order))]
    whole = db.search_runs(where, order_by=order, limit=1000)
    assert [r.id for r in whole] == expected, where
    assert whole.next_cursor is None
    paged: list[Any] = []
    cursor = None
    for _ in range(1000):
        page = db.search_runs(where, order_by=order, limit=page_size, cursor=cursor)
        paged += [r.id for r in page]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert paged == expected, (where, order, page_size)


EXAMPLES = [
    ("metrics.sharpe > 1.5 and metrics.max_drawdown < 0.2 and params.fast = 10", ["metrics.sharpe desc"]),
    ("metrics.sharpe >= 1 and status = 'completed' and run_type = 'backtest'", ["metrics.sharpe desc"]),
    ("tags.asset = 'btc' and started >= '2020-01-01'", ["metrics.sharpe desc", "name"]),
    ("tags.asset in ('eth', 'sol') or tags.`team.name` = 'ml'", ["name desc"]),
    ("params.fast = '10'", ["created"]),
    ("params.fast = 10.0 and not params.use_ema = true", ["metrics.max_drawdown"]),
    ("params.model.layers.0 = 64", ["metrics.sharpe"]),
    ("params.model.kind like 'd%' and params.slow < 1", ["metrics.`val loss` desc"]),
    ("params.lr <= 0.01", ["metrics.sharpe desc"]),
    ("params.note is null and params.fast is not null", ["name"]),
    ("metrics.`val loss` is null", ["metrics.sharpe desc", "metrics.max_drawdown"]),
    ("not (metrics.sharpe < 1 or metrics.sharpe is null)", ["metrics.sharpe"]),
    ("name like 'run0%' and name not like '%5'", ["ended desc"]),
    ("name ilike 'RUN01_' or name is null", ["name"]),
    ("experiment = 'beta' and ended is not null", ["ended"]),
    ("experiment in ('alpha', 'gamma') and parent is not null", ["metrics.sharpe desc"]),
    ("status in ('scheduled', 'running') or status != 'completed'", ["started desc"]),
    ("metrics.sharpe in (0, 0.5, 2.5) and metrics.sharpe not in (0)", ["metrics.sharpe desc"]),
    ("tags.asset != 'btc'", ["trial_count desc", "name"]),
    ("params.model.layers is not null and params.model.kind not in ('ppo')", ["status", "name desc"]),
    (None, ["metrics.sharpe desc"]),
    (None, ["metrics.`val loss`", "metrics.sharpe desc", "name"]),
    (None, ["created desc"]),
]


@pytest.mark.parametrize(("where", "order"), EXAMPLES)
def test_examples_match_the_reference_whole_and_paged(searched: tuple[ResultsDB, list[RunFacts]],
                                                      where: str | None, order: list[str]) -> None:
    db, facts = searched
    expected = matching(where, facts)
    assert expected or where is None or "lr" in where, "an example should match something"
    for size in (1, 4, 25):
        _check(db, facts, where, order, size)


# Random filters: predicates on every kind of key, combined with and, or, not.
_metric = st.sampled_from(["metrics.sharpe", "metrics.max_drawdown", "metrics.`val loss`"])
_number = st.sampled_from([-1, 0, 0.25, 0.5, 1, 1.5, 2, 10, 20, 30])
_op = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
_param = st.sampled_from(["params.fast", "params.slow", "params.model.kind", "params.use_ema",
                          "params.model.layers.0", "params.lr", "params.note", "params.missing"])
_pvalue = st.sampled_from(["10", "'10'", "5", "20.0", "'dqn'", "'ppo'", "true", "false", "64",
                           "0.01", "1.5"])
_attr_pred = st.sampled_from([
    "status = 'completed'", "status != 'failed'", "run_type = 'backtest'", "name > 'run040'",
    "name is null", "name like '%0'", "experiment = 'gamma'", "parent is null",
    "ended is null", "started < '2000-01-01'", "created > '2000-01-01T00:00:00+00:00'",
    "trial_count >= 1", "error_type is null", "status in ('running', 'killed')"])


@st.composite
def _predicate(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        m = draw(_metric)
        form = draw(st.integers(0, 2))
        if form == 0:
            return f"{m} {draw(_op)} {draw(_number)}"
        if form == 1:
            return f"{m} is {draw(st.sampled_from(['', 'not ']))}null"
        return f"{m} {draw(st.sampled_from(['', 'not ']))}in ({draw(_number)}, {draw(_number)})"
    if kind == 1:
        p = draw(_param)
        form = draw(st.integers(0, 3))
        if form == 0:
            value = draw(_pvalue)
            op = draw(st.sampled_from(["=", "!="])) if value in ("true", "false") else draw(_op)
            return f"{p} {op} {value}"
        if form == 1:
            return f"{p} is {draw(st.sampled_from(['', 'not ']))}null"
        if form == 2:
            return f"{p} {draw(st.sampled_from(['', 'not ']))}in ({draw(_pvalue)}, {draw(_pvalue)})"
        return f"{p} {draw(st.sampled_from(['like', 'not like', 'ilike']))} " \
               f"{draw(st.sampled_from(['%p%', 'D%', '1%', '_0']))!r}"
    if kind == 2:
        form = draw(st.integers(0, 2))
        if form == 0:
            return f"tags.asset {draw(st.sampled_from(['=', '!=']))} {draw(st.sampled_from(ASSETS))!r}"
        if form == 1:
            return f"tags.`team.name` is {draw(st.sampled_from(['', 'not ']))}null"
        return f"tags.asset {draw(st.sampled_from(['in', 'not in']))} ('btc', 'sol')"
    return draw(_attr_pred)


@st.composite
def _filter(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 2 or draw(st.booleans()):
        return draw(_predicate())
    left, right = draw(_filter(depth + 1)), draw(_filter(depth + 1))
    joined = f"({left} {draw(st.sampled_from(['and', 'or', 'AND', 'Or']))} {right})"
    return f"not {joined}" if draw(st.integers(0, 4)) == 0 else joined


_orders = st.lists(st.sampled_from(["metrics.sharpe desc", "metrics.sharpe", "metrics.`val loss` desc",
                                    "name", "name desc", "ended desc", "status", "created desc",
                                    "trial_count"]), min_size=1, max_size=3, unique=True)


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(where=_filter(), order=_orders, page_size=st.sampled_from([3, 50]))
def test_random_filters_match_the_reference(searched: tuple[ResultsDB, list[RunFacts]], where: str,
                                            order: list[str], page_size: int) -> None:
    db, facts = searched
    _check(db, facts, where, order, page_size)


def test_experiments_scope_by_name_or_id(searched: tuple[ResultsDB, list[RunFacts]]) -> None:
    db, facts = searched
    beta = db.get_experiment("beta")
    want = {r.id for r in matching("experiment in ('alpha', 'beta')", facts)}
    got = {r.id for r in db.search_runs(experiments=["alpha", beta.id], limit=1000)}
    assert got == want
    assert {r.id for r in db.search_runs(experiments="gamma", limit=1000)} == \
        {r.id for r in matching("experiment = 'gamma'", facts)}
    with pytest.raises(NotFound, match="no live experiment named 'delta'"):
        db.search_runs(experiments=["delta"])


def test_a_cursor_belongs_to_its_search(searched: tuple[ResultsDB, list[RunFacts]]) -> None:
    db, _ = searched
    page = db.search_runs("status = 'completed'", order_by="metrics.sharpe desc", limit=2)
    assert page.next_cursor is not None
    for other in [dict(where="status = 'failed'", order_by="metrics.sharpe desc"),
                  dict(where="status = 'completed'", order_by="metrics.sharpe"),
                  dict(where="status = 'completed'", order_by="metrics.sharpe desc",
                       experiments=["alpha"])]:
        with pytest.raises(InvalidInput, match="cursor: not a valid cursor"):
            db.search_runs(**other, limit=2, cursor=page.next_cursor)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="cursor"):
        db.search_runs("status = 'completed'", order_by="metrics.sharpe desc", cursor="garbage")


@pytest.mark.parametrize(("where", "message"), [
    ("metrics.sharpe >", "syntax error at the end"),
    ("metrics.sharpe > 1 and and", "column 24"),
    ("status = completed", "a text value is quoted: 'completed'"),
    ("sharpe > 1", "unknown key 'sharpe' at column 1; known: metrics.<name>"),
    ("attributes.sharpe > 1", "unknown key 'attributes.sharpe'"),
    ("metrics.sharpe > 'high'", r"metrics.sharpe \(column 1\) is a number"),
    ("metrics.sharpe like 'x%'", "like compares text"),
    ("status = 'complete'", "'complete' is not a run status"),
    ("started > 'yesterday'", "not an ISO date"),
    ("started > 5", "is a time"),
    ("id = 'abc'", "is a run or experiment id"),
    ("trial_count > 1.5", "whole number"),
    ("params.use_ema > true", "compares numbers or strings"),
    ("metrics.sharp > 1", "no run reports the metric 'sharp'.*metrics: max_drawdown, sharpe, val loss"),
])
def test_mistakes_are_invalid_input_naming_where(searched: tuple[ResultsDB, list[RunFacts]],
                                                 where: str, message: str) -> None:
    db, _ = searched
    with pytest.raises(InvalidInput, match=message) as info:
        db.search_runs(where)
    assert info.value.field == "where"


@pytest.mark.parametrize(("order", "message"), [
    ("params.fast", "cannot order by params.fast"),
    ("tags.asset desc", "cannot order by tags.asset"),
    ("experiment", "cannot order by experiment"),
    ("metrics.sharpe down", "column 16"),
    ("bogus", "unknown key 'bogus'"),
    ([], "give 1 to 8 keys"),
])
def test_bad_orders_are_invalid_input(searched: tuple[ResultsDB, list[RunFacts]], order: Any,
                                      message: str) -> None:
    db, _ = searched
    with pytest.raises(InvalidInput, match=message) as info:
        db.search_runs(order_by=order)
    assert info.value.field == "order_by"


def test_hostile_text_is_a_value_not_sql(searched: tuple[ResultsDB, list[RunFacts]]) -> None:
    db, _ = searched
    for where in ["name = 'x''; drop table runs; --'", "tags.`a'); drop table runs; --` = 1",
                  "params.`\"; select pg_sleep(10); --` = 'x'", "metrics.`%(p0)s` > 1 or name = '%s'"]:
        try:
            assert list(db.search_runs(where)) == []
        except InvalidInput as exc:  # an unknown metric: still a caller's error, not SQL's
            assert "no run reports the metric" in str(exc)
    assert len(db.search_runs(limit=1000)) > 70  # runs is still there


def test_the_cli_searches_with_csv_and_refuses_a_bad_filter(
        searched: tuple[ResultsDB, list[RunFacts]]) -> None:
    import csv
    import io
    import subprocess
    import sys

    db, facts = searched
    url = db.db.settings.url
    assert url is not None
    env = {**os.environ, "RESULTSDB_URL": url.get_secret_value()}
    where = "tags.asset = 'btc' and metrics.sharpe >= 0"
    done = subprocess.run([sys.executable, "-m", "resultsdb", "--csv", "ls", "runs", "--where", where,
                           "--order-by", "metrics.sharpe desc", "--order-by", "name", "--limit", "500"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    ids = [row["id"] for row in csv.DictReader(io.StringIO(done.stdout))]
    expected = ordered(matching(where, facts), _order_spec(["metrics.sharpe desc", "name"]))
    assert ids == [str(r.id) for r in expected] and ids
    bad = subprocess.run([sys.executable, "-m", "resultsdb", "ls", "runs", "--where", "metrics.sharpe >"],
                         capture_output=True, text=True, timeout=60, env=env)
    assert bad.returncode == 4 and "syntax error at the end" in bad.stderr, bad.stderr
