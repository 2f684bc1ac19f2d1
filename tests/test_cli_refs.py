"""References as people type them: an id, a unique id prefix, a name, experiment/run-name,
model@stage, model:number. One resolver (resultsdb.browse.resolve), and every CLI command
that takes an id takes all of them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from resultsdb import browse
from resultsdb.api import ResultsDB
from resultsdb.cli import app
from resultsdb.db import Database
from resultsdb.demo import backtest, synthetic_prices
from resultsdb.errors import Ambiguous, InvalidInput, NotFound
from resultsdb.series import write_equity, write_trades
from resultsdb.stats import trading

runner = CliRunner()
EXPERIMENT = "refs: ma"


@dataclass
class World:
    url: str
    experiment: uuid.UUID
    search: uuid.UUID
    slashed: uuid.UUID  # the run named "a/b"
    twins: tuple[uuid.UUID, uuid.UUID]  # two runs named "twin"
    model: uuid.UUID
    versions: list[uuid.UUID]  # v1 archived, v2 production, v3 draft

    def ids(self) -> list[uuid.UUID]:
        return [self.experiment, self.search, self.slashed, *self.twins, self.model, *self.versions]


@pytest.fixture
def world(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("RESULTSDB_ARTIFACTS_URL", (tmp_path / "artifacts").as_uri())
    curve, trades = backtest(synthetic_prices(bars=120), 5, 20)
    with ResultsDB(url=db_url) as rdb:
        exp = rdb.start_experiment(EXPERIMENT)
        search = rdb.start_run(exp, "search", run_type="hyperparameter_tuning")
        with rdb.run(exp, "a/b", run_type="backtest", parent=search) as slashed:
            rdb.start_trial(search, {"fast": 5}, trial_run=slashed)
            write_equity(rdb.db, slashed, None, curve)
            write_trades(rdb.db, slashed, None, trades)
            trading.compute_stats(rdb.db, slashed.id)
        twins = (rdb.start_run(exp, "twin"), rdb.start_run(exp, "twin"))
        saved = [rdb.save_model(slashed, b"w%d" % i, "ma_crossover", name="refs-model")
                 for i in range(3)]
        rdb.promote(saved[0].version, "production")
        rdb.promote(saved[1].version, "production")  # archives v1
    return World(db_url, exp.id, search.id, slashed.id, (twins[0].id, twins[1].id),
                 saved[0].model.id, [s.version.id for s in saved])


def shortest_unique(target: uuid.UUID, others: list[uuid.UUID]) -> str:
    """The shortest prefix (4 hex digits at least) of ``target`` no other id starts with."""
    digits = target.hex
    for n in range(4, 33):
        if not any(o != target and o.hex.startswith(digits[:n]) for o in others):
            return digits[:n]
    raise AssertionError("ids are equal")


def common_prefix(a: uuid.UUID, b: uuid.UUID) -> str:
    n = next(i for i, (x, y) in enumerate(zip(a.hex, b.hex, strict=True)) if x != y)
    return a.hex[:n]


def invoke(w: World, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--url", w.url, *args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


# -- the resolver ---------------------------------------------------------------------------


def test_every_form_resolves_to_its_row(db: Database, world: World) -> None:
    ids = world.ids()
    short = shortest_unique(world.slashed, ids)
    dashed = str(world.slashed)[:13]  # "01a24216-4efc": a prefix as ids print, dash and all
    cases = [
        (str(world.slashed), None, world.slashed),
        (short, None, world.slashed),
        (short.upper(), "run", world.slashed),
        (EXPERIMENT, None, world.experiment),
        ("refs-model", None, world.model),
        (f"{EXPERIMENT}/a/b", "run", world.slashed),  # a "/" in the run's name too
        (f"{world.experiment}/a/b", "run", world.slashed),  # the experiment by id
        ("refs-model@production", None, world.versions[1]),
        ("refs-model@latest", None, world.versions[2]),
        ("refs-model@draft", None, world.versions[2]),
        ("refs-model:1", None, world.versions[0]),
        ("refs-model", "version", world.versions[1]),  # a model, where a version is wanted
        (str(world.model), "version", world.versions[1]),
    ]
    if len(dashed.replace("-", "")) > len(short):
        cases.append((dashed, "run", world.slashed))
    for ref, kind, expected in cases:
        assert browse.resolve(db, ref, kind).id == expected, (ref, kind)
    match = browse.resolve(db, "refs-model:2")
    assert (match.kind, match.label) == ("version", "refs-model:2 (production)")


def test_a_model_without_production_stands_for_its_latest_version(db: Database,
                                                                  world: World) -> None:
    with ResultsDB(url=world.url) as rdb:
        saved = rdb.save_model(world.slashed, b"x", "ma_crossover", name="drafts-only")
        rdb.save_model(world.slashed, b"y", "ma_crossover", name="drafts-only")
    latest = browse.resolve(db, "drafts-only", "version")
    assert latest.label == "drafts-only:2 (draft)" and latest.id != saved.version.id


def test_an_ambiguous_reference_lists_every_candidate(db: Database, world: World) -> None:
    prefix = common_prefix(*world.twins)
    assert len(prefix) >= 4  # made within a millisecond or so of each other
    with pytest.raises(Ambiguous) as info:
        browse.resolve(db, prefix, "run")
    message = str(info.value)
    assert f"'{prefix}' is ambiguous" in message
    assert all(str(t) in message for t in world.twins)
    assert set(world.twins) <= {c.id for c in info.value.candidates}  # type: ignore[attr-defined]

    with pytest.raises(Ambiguous) as info:
        browse.resolve(db, f"{EXPERIMENT}/twin")
    assert {c.id for c in info.value.candidates} == set(world.twins)  # type: ignore[attr-defined]
    assert f"{EXPERIMENT}/twin" in str(info.value)


def test_an_unknown_reference_is_not_found_naming_what_was_tried(db: Database,
                                                                 world: World) -> None:
    missing = uuid.uuid4()
    with pytest.raises(NotFound, match=f"runs: no run matches '{missing}' .tried id"):
        browse.resolve(db, str(missing), "run")
    with pytest.raises(NotFound, match="tried experiment name and model name") as info:
        browse.resolve(db, "nobody", ("experiment", "model"))
    assert info.value.key == {"ref": "nobody"}
    with pytest.raises(NotFound, match=r"tried experiment/run-name\)"):
        browse.resolve(db, f"{EXPERIMENT}/nothing", "run")


def test_a_reference_no_form_fits_is_invalid_input(db: Database, world: World) -> None:
    with pytest.raises(InvalidInput, match=r"'abc' is not an id, a unique id prefix or "
                                           r"experiment/run-name \(an id prefix needs 4 or more"):
        browse.resolve(db, "abc", "run")
    with pytest.raises(InvalidInput, match="runs: 'not-an-id' is not an id"):
        browse.resolve(db, "not-an-id", "run")
    with pytest.raises(InvalidInput, match="kinds: must be some of"):
        browse.resolve(db, EXPERIMENT, "table")  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="model@stage, model:number"):
        browse.resolve(db, "refs-model@staging", "version")  # no version is in staging
    with pytest.raises(NotFound):
        browse.resolve(db, str(world.slashed), "model")  # an id of another kind


def test_a_prefix_is_a_range_scan_of_each_primary_key(db: Database, world: World) -> None:
    query = db.registry["refs_in_id_range"]
    prefix = world.slashed.hex[:6]
    params = {"low": uuid.UUID(prefix.ljust(32, "0")), "high": uuid.UUID(prefix.ljust(32, "f")),
              "kinds": ["experiment", "run", "model", "version"]}
    with db.connection() as conn:
        conn.execute("set enable_seqscan = off")  # tiny tables: the planner would scan them
        statement = query.compose({}, literals={"limit": 11})
        text = statement if isinstance(statement, str) else statement.as_string(conn)
        plan = "\n".join(row[0] for row in conn.execute("explain " + text, params).fetchall())
    assert "Seq Scan" not in plan, plan
    for index in ("experiments_pkey", "runs_pkey", "models_pkey", "model_versions_pkey"):
        assert index in plan, plan
    assert plan.count("Index Cond: ((id >= ") >= 4, plan


# -- every command that takes an id ----------------------------------------------------------

# The parameters of CLI commands that name a row (checked against the commands below).
REF_PARAMS = {"experiment", "run_ref", "parent", "model", "version", "runs", "search_run", "ident"}


def test_every_command_that_takes_an_id_takes_a_name_or_prefix(world: World,
                                                               tmp_path: Path) -> None:
    short_search = shortest_unique(world.search, world.ids())
    short_exp = shortest_unique(world.experiment, world.ids())
    path = f"{EXPERIMENT}/a/b"
    calls = {
        ("ls", "runs"): ["--experiment", EXPERIMENT, "--parent", short_search],
        ("ls", "models"): ["--experiment", short_exp],
        ("ls", "trials"): ["--run", f"{EXPERIMENT}/search"],
        ("show",): ["refs-model@production"],
        ("leaderboard",): [short_exp, "--metric", "sharpe"],
        ("compare",): [path, str(world.slashed)[:13]],
        ("lineage",): ["refs-model"],
        ("export",): ["trades", "--run", path, "--out", str(tmp_path / "t.csv")],
        ("report",): [path, "--out", str(tmp_path / "r")],
        ("stats-run",): [path, "--model", "refs-model"],
        ("cleanup-versions",): ["refs-model", "--keep", "1", "--dry-run"],
        ("overfitting",): [f"{EXPERIMENT}/search", "--blocks", "2"],
    }
    # Guard: every command with a parameter naming a row is called here.
    from typer.main import get_command

    def walk(group: object, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], set[str]]:
        found = {}
        for name, command in getattr(group, "commands", {}).items():
            found |= walk(command, (*path, name))
            names = {p.name for p in command.params} & REF_PARAMS
            if names:
                found[(*path, name)] = names
        return found

    assert set(walk(get_command(app))) == set(calls)

    outputs = {}
    for command, args in calls.items():
        code, out, err = invoke(world, "--json", *command, *args)
        if command == ("overfitting",):  # one trial with a curve is too few to judge,
            assert code == 4 and "trial" in err, err  # but the search run was found
            continue
        assert code == 0, (command, err)
        outputs[command] = json.loads(out)
    assert [r["id"] for r in outputs[("ls", "runs")]["items"]] == [str(world.slashed)]
    assert outputs[("show",)]["record"]["id"] == str(world.versions[1])
    assert outputs[("lineage",)]["version"]["id"] == str(world.versions[1])
    assert [r["run_id"] for r in outputs[("compare",)]] == [str(world.slashed)] * 2
    assert outputs[("stats-run",)]["run_id"] == str(world.slashed)


def test_the_cli_reports_an_ambiguous_prefix_on_one_line(world: World) -> None:
    prefix = common_prefix(*world.twins)
    code, _, err = invoke(world, "show", prefix)
    assert code == 4, err
    assert len(err.strip().splitlines()) == 1 and "(Ambiguous)" in err
    assert all(str(t) in err for t in world.twins)

