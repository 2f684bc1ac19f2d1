"""Runs through the ResultsDB API: start/end, the run context manager, metric merges, search."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from resultsdb.api import ResultsDB
from resultsdb.api.experiments import RUN_SORT_KEYS
from resultsdb.errors import InvalidInput, InvalidTransition, NotFound, ReferenceNotFound
from resultsdb.records import Experiment, Run
from tests.api.conftest import MISSING_ID, raw_one

USER = "01900000-0000-7000-8000-0000000000aa"


# -- start_run ---------------------------------------------------------------------------

def test_start_run_by_record_id_and_name(rdb: ResultsDB, exp: Experiment) -> None:
    by_record = rdb.start_run(exp, "a")
    by_id = rdb.start_run(exp.id, "b", run_type="backtest", user_id=USER, tags=["gpu"])
    by_str = rdb.start_run(str(exp.id), "c")
    by_name = rdb.start_run("momentum", "d")
    for r in (by_record, by_id, by_str, by_name):
        assert r.experiment_id == exp.id
        assert r.status == "running"
        assert r.start_time is not None and r.end_time is None
    assert by_id.run_type == "backtest"
    assert str(by_id.user_id) == USER
    assert by_id.tags == {"gpu": True}
    assert rdb.get_run(by_id.id) == by_id


def test_start_child_run(rdb: ResultsDB, run: Run) -> None:
    child = rdb.start_run(run.experiment_id, "trial-1", parent=run)
    assert child.parent_run_id == run.id
    assert [r.id for r in rdb.runs(parent=run)] == [child.id]


def test_start_run_failures(rdb: ResultsDB, exp: Experiment, unchanged) -> None:
    with unchanged():
        with pytest.raises(NotFound):
            rdb.start_run("no such experiment")
        with pytest.raises(ReferenceNotFound):
            rdb.start_run(MISSING_ID)
        with pytest.raises(ReferenceNotFound):
            rdb.start_run(exp, parent=MISSING_ID)
        with pytest.raises(InvalidInput) as err:
            rdb.start_run(exp, run_type="Back Test")
        assert err.value.field == "run_type"
        with pytest.raises(InvalidInput) as err:
            rdb.start_run(exp, status="completed")  # type: ignore[arg-type]
        assert err.value.field == "status"
        with pytest.raises(InvalidInput):
            rdb.start_run(exp, tags="gpu,fast")  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            rdb.start_run(exp, user_id="bob")


def test_start_run_in_an_archived_experiment_by_name(rdb: ResultsDB, exp: Experiment) -> None:
    rdb.archive_experiment(exp)
    with pytest.raises(NotFound):
        rdb.start_run("momentum")


def test_scheduled_run_then_start(rdb: ResultsDB, exp: Experiment) -> None:
    scheduled = rdb.start_run(exp, "later", status="scheduled")
    assert scheduled.status == "scheduled"
    assert scheduled.start_time is None
    started = rdb.start(scheduled)
    assert started.status == "running"
    assert started.start_time is not None
    assert started.start_time >= scheduled.created_at
    ended = rdb.end_run(started)
    assert ended.end_time >= ended.start_time


def test_start_twice_or_after_end(rdb: ResultsDB, exp: Experiment, conn: psycopg.Connection) -> None:
    scheduled = rdb.start_run(exp, status="scheduled")
    rdb.start(scheduled)
    assert rdb.start(scheduled).status == "running"  # running -> running: nothing to change
    done = rdb.end_run(scheduled)
    with pytest.raises(InvalidTransition) as err:
        rdb.start(done)
    assert (err.value.from_status, err.value.to_status) == ("completed", "running")
    assert raw_one(conn, "select status from runs where id = %s", done.id) == "completed"
    with pytest.raises(NotFound):
        rdb.start(MISSING_ID)


def test_a_scheduled_run_can_be_killed_not_completed(rdb: ResultsDB, exp: Experiment) -> None:
    scheduled = rdb.start_run(exp, status="scheduled")
    with pytest.raises(InvalidTransition):
        rdb.end_run(scheduled, "completed")
    killed = rdb.end_run(scheduled, "killed")
    assert killed.status == "killed"
    assert killed.end_time is not None
    assert killed.start_time is None or killed.end_time >= killed.start_time


# -- end_run and the run context manager ----------------------------------------------------

def test_end_run(rdb: ResultsDB, run: Run) -> None:
    ended = rdb.end_run(run)
    assert ended.status == "completed"
    assert ended.end_time is not None and ended.end_time >= ended.start_time
    assert ended.error_type is None and ended.error_message is None


def test_end_run_twice(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    first = rdb.end_run(run, "failed", error=RuntimeError("boom"))
    with pytest.raises(InvalidTransition) as err:
        rdb.end_run(run, "completed")
    assert (err.value.from_status, err.value.to_status) == ("failed", "completed")
    row = conn.execute("select status, end_time, error_type from runs where id = %s", (run.id,)).fetchone()
    assert row == ("failed", first.end_time, "RuntimeError")


@pytest.mark.parametrize("status", ["completed", "failed", "killed"])
def test_end_run_twice_with_the_same_status(rdb: ResultsDB, run: Run, conn: psycopg.Connection,
                                            status: str) -> None:
    first = rdb.end_run(run, status, error=None if status == "completed" else OSError("disk"))
    with pytest.raises(InvalidTransition) as err:
        rdb.end_run(run, status)
    assert (err.value.from_status, err.value.to_status) == (status, status)
    row = conn.execute("select status, end_time, error_type, error_message from runs where id = %s",
                       (run.id,)).fetchone()
    assert row == (status, first.end_time, first.error_type, first.error_message)


def test_end_run_rejects(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    with pytest.raises(InvalidInput) as err:
        rdb.end_run(run, "running")  # type: ignore[arg-type]
    assert err.value.field == "status"
    with pytest.raises(NotFound):
        rdb.end_run(MISSING_ID)
    assert raw_one(conn, "select status from runs where id = %s", run.id) == "running"


def test_run_context_completes(rdb: ResultsDB, exp: Experiment, conn: psycopg.Connection) -> None:
    with rdb.run(exp, "train", tags={"k": "v"}) as run:
        assert run.status == "running"
        assert raw_one(conn, "select status from runs where id = %s", run.id) == "running"
        rdb.log_summary_metrics(run, {"sharpe": 1.5})
    done = rdb.get_run(run)
    assert done.status == "completed"
    assert done.end_time >= done.start_time
    assert done.summary_metrics == {"sharpe": 1.5}


def test_run_context_exception_fails_the_run(rdb: ResultsDB, exp: Experiment,
                                             conn: psycopg.Connection) -> None:
    with pytest.raises(ValueError, match="bad data at row 7"), rdb.run(exp, "boom") as run:
        raise ValueError("bad data at row 7")
    row = conn.execute("select status, error_type, error_message, start_time, end_time "
                       "from runs where id = %s", (run.id,)).fetchone()
    status, error_type, message, start, end = row
    assert (status, error_type, message) == ("failed", "ValueError", "bad data at row 7")
    assert end is not None and end >= start


def test_run_context_keyboard_interrupt_kills_the_run(rdb: ResultsDB, exp: Experiment) -> None:
    with pytest.raises(KeyboardInterrupt), rdb.run(exp) as run:
        raise KeyboardInterrupt
    killed = rdb.get_run(run)
    assert killed.status == "killed"
    assert killed.error_type == "KeyboardInterrupt"
    assert killed.end_time is not None


def test_run_context_long_error_message_is_cut(rdb: ResultsDB, exp: Experiment) -> None:
    with pytest.raises(RuntimeError), rdb.run(exp) as run:
        raise RuntimeError("x" * 20_000)
    assert len(rdb.get_run(run).error_message) == 10_000


@pytest.mark.parametrize(("message", "stored"), [
    ("bad\udc80byte", "bad\\udc80byte"),  # a byte os.fsdecode could not decode
    ("nul\x00byte", "nul\\x00byte"),
    ("both \x00 and \ud800", "both \\x00 and \\ud800"),
], ids=["lone surrogate", "NUL", "both"])
def test_run_context_stores_an_unstorable_message_and_raises_the_same_exception(
        rdb: ResultsDB, exp: Experiment, conn: psycopg.Connection, message: str, stored: str) -> None:
    raised = RuntimeError(message)
    with pytest.raises(RuntimeError) as info, rdb.run(exp, "boom") as run:
        raise raised
    assert info.value is raised  # the caller's own exception, not one of ours ...
    assert str(info.value) == message and not getattr(info.value, "__notes__", None)  # ... unchanged
    row = conn.execute("select status, error_type, error_message from runs where id = %s",
                       (run.id,)).fetchone()
    assert row == ("failed", "RuntimeError", stored)


def test_end_run_stores_an_unstorable_error_message(rdb: ResultsDB, run: Run) -> None:
    ended = rdb.end_run(run, "failed", error=OSError("file caf\udce9.csv\x00"))
    assert (ended.status, ended.error_type) == ("failed", "OSError")
    assert ended.error_message == "file caf\\udce9.csv\\x00"


def test_run_context_keeps_the_block_exception_when_ending_fails_unexpectedly(
        rdb: ResultsDB, exp: Experiment, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise UnicodeEncodeError("utf-8", "x", 0, 1, "a failure that is not a ResultsDBError")

    raised = ValueError("the block's own failure")
    with pytest.raises(ValueError) as info, rdb.run(exp) as run:
        monkeypatch.setattr(rdb, "end_run", broken)
        raise raised
    assert info.value is raised
    assert any(f"could not mark run {run.id} failed" in note for note in info.value.__notes__)


def test_run_context_ended_inside_the_block(rdb: ResultsDB, exp: Experiment) -> None:
    # Ending the run yourself inside the block is respected, not an error at exit.
    with rdb.run(exp) as run:
        rdb.end_run(run, "killed")
    assert rdb.get_run(run).status == "killed"


def test_run_context_error_is_not_masked_when_the_run_already_ended(rdb: ResultsDB,
                                                                    exp: Experiment) -> None:
    with pytest.raises(ZeroDivisionError), rdb.run(exp) as run:
        rdb.end_run(run)
        1 / 0  # noqa: B018
    assert rdb.get_run(run).status == "completed"


def test_run_context_start_failure(rdb: ResultsDB, unchanged) -> None:
    entered = False
    with unchanged(), pytest.raises(NotFound):
        with rdb.run("no such experiment"):
            entered = True
    assert not entered


# -- summary metrics ---------------------------------------------------------------------

def test_log_summary_metrics_merges(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    rdb.log_summary_metrics(run, {"sharpe": 1.2, "trades": 40})
    merged = rdb.log_summary_metrics(run, {"sharpe": 1.4, "max_drawdown": 0.2})
    assert merged.summary_metrics == {"sharpe": 1.4, "trades": 40, "max_drawdown": 0.2}
    assert isinstance(merged.summary_metrics["trades"], int)
    # The leaderboard index table follows the merge.
    rows = conn.execute("select key, value from run_metrics where run_id = %s order by key",
                        (run.id,)).fetchall()
    assert rows == [("max_drawdown", 0.2), ("sharpe", 1.4), ("trades", 40.0)]


@pytest.mark.parametrize(("metrics", "key"), [
    ({"sharpe": float("nan")}, "sharpe"),
    ({"ok": 1.0, "sortino": float("inf")}, "sortino"),
    ({"calmar": float("-inf")}, "calmar"),
    ({"sharpe": "1.2"}, "sharpe"),
    ({"profitable": True}, "profitable"),
    ({"nested": {"a": 1}}, "nested"),
    ({"none": None}, "none"),
])
def test_log_summary_metrics_rejects(rdb: ResultsDB, run: Run, conn: psycopg.Connection,
                                     metrics: dict, key: str) -> None:
    rdb.log_summary_metrics(run, {"sharpe": 1.0})
    with pytest.raises(InvalidInput) as err:
        rdb.log_summary_metrics(run, metrics)
    assert err.value.field == "metrics"
    assert repr(key) in str(err.value)
    assert raw_one(conn, "select summary_metrics from runs where id = %s", run.id) == {"sharpe": 1.0}


def test_log_summary_metrics_failures(rdb: ResultsDB, unchanged) -> None:
    with unchanged():
        with pytest.raises(NotFound):
            rdb.log_summary_metrics(MISSING_ID, {"sharpe": 1.0})
        with pytest.raises(InvalidInput):
            rdb.log_summary_metrics(MISSING_ID, [("sharpe", 1.0)])  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            rdb.log_summary_metrics("not-an-id", {"sharpe": 1.0})


def test_concurrent_metric_merges_lose_nothing(rdb: ResultsDB, run: Run,
                                               conn: psycopg.Connection) -> None:
    threads, merges = 8, 50
    barrier = threading.Barrier(threads)

    def merge(t: int) -> None:
        barrier.wait()
        for i in range(merges):
            rdb.log_summary_metrics(run, {f"t{t}_m{i}": t * 1000 + i})

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(merge, range(threads)))
    metrics = rdb.get_run(run).summary_metrics
    assert len(metrics) == threads * merges
    assert metrics == {f"t{t}_m{i}": t * 1000 + i for t in range(threads) for i in range(merges)}
    assert raw_one(conn, "select count(*) from run_metrics where run_id = %s", run.id) == 400


# -- runs(): filters, sorting, cursors ------------------------------------------------------

@pytest.fixture
def varied(rdb: ResultsDB, exp: Experiment, conn: psycopg.Connection) -> dict[str, Run]:
    """Runs in several states and types, with start times a day apart from T0."""
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    made = {
        "train": rdb.start_run(exp, "train", tags={"asset": "btc", "gpu": True}),
        "bt1": rdb.start_run(exp, "bt1", run_type="backtest", tags={"asset": "btc"}),
        "bt2": rdb.start_run(exp, "bt2", run_type="backtest", tags={"asset": "eth"}),
        "later": rdb.start_run(exp, "later", status="scheduled"),
    }
    for i, name in enumerate(("train", "bt1", "bt2")):
        conn.execute("update runs set start_time = %s where id = %s",
                     (t0 + timedelta(days=i), made[name].id))
    rdb.end_run(made["bt1"])
    rdb.end_run(made["bt2"], "failed", error=ValueError("x"))
    other = rdb.start_experiment("other")
    made["elsewhere"] = rdb.start_run(other, "elsewhere", run_type="backtest")
    return {k: rdb.get_run(v) for k, v in made.items()}


def names(page) -> list[str]:
    return [r.name for r in page]


def test_runs_filters(rdb: ResultsDB, exp: Experiment, varied: dict[str, Run]) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    assert names(rdb.runs(exp)) == ["train", "bt1", "bt2", "later"]
    assert names(rdb.runs()) == ["train", "bt1", "bt2", "later", "elsewhere"]
    assert names(rdb.runs("momentum", status="running")) == ["train"]
    assert names(rdb.runs(exp, status="scheduled")) == ["later"]
    assert names(rdb.runs(exp, run_type="backtest")) == ["bt1", "bt2"]
    assert names(rdb.runs(run_type="backtest")) == ["bt1", "bt2", "elsewhere"]
    assert names(rdb.runs(exp, tags={"asset": "btc"})) == ["train", "bt1"]
    assert names(rdb.runs(exp, tags=["gpu"])) == ["train"]
    assert names(rdb.runs(exp, tags={"asset": "btc", "gpu": False})) == []
    assert names(rdb.runs(exp, started_after=t0 + timedelta(hours=12))) == ["bt1", "bt2"]
    assert names(rdb.runs(exp, started_before=t0 + timedelta(hours=12))) == ["train"]
    assert names(rdb.runs(exp, started_after=t0 + timedelta(days=1),
                          started_before=t0 + timedelta(days=2))) == ["bt1"]
    assert names(rdb.runs(exp, run_type="backtest", status="failed", tags={"asset": "eth"})) == ["bt2"]


@pytest.mark.parametrize("kwargs", [
    {"started_after": datetime(2024, 1, 1)},
    {"started_before": datetime(2024, 1, 1)},
    {"started_after": "2024-01-01T00:00:00+00:00"},
    {"tags": "gpu"},
    {"limit": 0},
    {"limit": True},
    {"order_by": "id; drop table runs"},
    {"order_by": "name"},
    {"order_by": "summary_metrics"},
    {"cursor": "not a cursor"},
])
def test_runs_rejects_bad_arguments(rdb: ResultsDB, varied: dict[str, Run], kwargs: dict,
                                    conn: psycopg.Connection) -> None:
    with pytest.raises(InvalidInput) as err:
        rdb.runs(**kwargs)
    assert err.value.field == next(iter(kwargs))
    assert raw_one(conn, "select count(*) from runs") == 5  # and the table is still there


def test_runs_unknown_experiment(rdb: ResultsDB) -> None:
    with pytest.raises(NotFound):
        rdb.runs("no such experiment")
    with pytest.raises(NotFound, match="experiments"):
        rdb.runs(MISSING_ID)
    with pytest.raises(NotFound, match="runs"):
        rdb.runs(parent=MISSING_ID)


def test_runs_of_an_experiment_without_runs_is_an_empty_page(rdb: ResultsDB) -> None:
    empty = rdb.start_experiment("empty")
    assert rdb.runs(empty).items == []


@pytest.mark.parametrize("order_by", RUN_SORT_KEYS)
@pytest.mark.parametrize("descending", [False, True])
def test_runs_every_sort_key(rdb: ResultsDB, exp: Experiment, varied: dict[str, Run],
                             order_by: str, descending: bool) -> None:
    mine = [r for k, r in varied.items() if k != "elsewhere"]
    keyed = [r for r in mine if getattr(r, order_by) is not None]  # null sort values are left out
    expected = sorted(keyed, key=lambda r: (getattr(r, order_by), r.id), reverse=descending)
    got = rdb.runs(exp, order_by=order_by, descending=descending)
    assert [r.id for r in got] == [r.id for r in expected]
    # One row at a time through cursors gives the same order.
    paged, cursor = [], None
    while True:
        page = rdb.runs(exp, order_by=order_by, descending=descending, limit=1, cursor=cursor)
        paged += [r.id for r in page]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert paged == [r.id for r in expected]


@pytest.mark.parametrize(("order_by", "descending"), [
    ("created_at", False), ("start_time", True), ("status", False), ("run_type", True)])
def test_runs_cursor_pagination_57(rdb: ResultsDB, exp: Experiment, conn: psycopg.Connection,
                                   order_by: str, descending: bool) -> None:
    made = [rdb.start_run(exp, f"r{i:02d}", run_type=("backtest", "training")[i % 2]) for i in range(57)]
    for i, r in enumerate(made):
        if i % 3 == 0:
            rdb.end_run(r)
        # Ties on start_time too, so the id tiebreak is exercised.
        conn.execute("update runs set start_time = %s where id = %s",
                     (datetime(2024, 1, 1 + i // 4, tzinfo=UTC), r.id))
    fresh = {r.id: rdb.get_run(r) for r in made}
    expected = [r.id for r in sorted(fresh.values(), key=lambda r: (getattr(r, order_by), r.id),
                                     reverse=descending)]
    seen, cursor, sizes = [], None, []
    while True:
        page = rdb.runs(exp, order_by=order_by, descending=descending, limit=10, cursor=cursor)
        sizes.append(len(page))
        seen += [r.id for r in page]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected
    assert len(set(seen)) == 57
    assert sizes == [10, 10, 10, 10, 10, 7]


def test_runs_cursor_is_stable_under_inserts(rdb: ResultsDB, exp: Experiment) -> None:
    made = [rdb.start_run(exp, f"r{i}").id for i in range(6)]
    first = rdb.runs(exp, limit=3)
    rdb.start_run(exp, "newer")
    rest = rdb.runs(exp, limit=3, cursor=first.next_cursor)
    assert [r.id for r in first] + [r.id for r in rest] == made


def test_runs_cursor_from_another_sort_is_rejected(rdb: ResultsDB, varied: dict[str, Run]) -> None:
    cursor = rdb.runs(order_by="created_at", limit=1).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidInput) as err:
        rdb.runs(order_by="start_time", limit=1, cursor=cursor)
    assert err.value.field == "cursor"
    with pytest.raises(InvalidInput):
        rdb.runs(order_by="created_at", descending=True, limit=1, cursor=cursor)
    exp_cursor = rdb.experiments(limit=1).next_cursor
    with pytest.raises(InvalidInput):
        rdb.runs(cursor=exp_cursor)


@pytest.mark.parametrize(("order_by", "value"), [("status", "completed"), ("run_type", "backtest")])
@pytest.mark.parametrize("descending", [False, True])
def test_runs_sorted_by_the_column_a_filter_pins_page_by_id(
        rdb: ResultsDB, exp: Experiment, order_by: str, value: str, descending: bool) -> None:
    made = [rdb.start_run(exp, f"r{i:02d}", run_type=("backtest", "training")[i % 2]) for i in range(13)]
    for r in made[::2]:
        rdb.end_run(r)
    fresh = [rdb.get_run(r) for r in made]
    expected = sorted((r.id for r in fresh if getattr(r, order_by) == value), reverse=descending)
    seen, cursor = [], None
    while True:
        page = rdb.runs(exp, order_by=order_by, descending=descending, limit=2, cursor=cursor,
                        **{order_by: value})
        seen += [r.id for r in page]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected and len(seen) == 7


def test_runs_sorted_by_end_time_that_have_not_ended_is_an_empty_list(
        rdb: ResultsDB, exp: Experiment, varied: dict[str, Run]) -> None:
    for status in ("running", "scheduled"):
        page = rdb.runs(exp, status=status, order_by="end_time")
        assert page.items == [] and page.next_cursor is None
    assert names(rdb.runs(exp, status="failed", order_by="end_time")) == ["bt2"]
