"""Every ```sql block of docs/psql.md runs, through psql, on a seeded database.

The recipes use psql variables (``:'run_id'``); psql itself fills them in from ``-v``
options set to the seed's experiment, runs and model, as docs/psql.md says at the top.
Each block must succeed and print at least one row.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from resultsdb import embedded
from resultsdb.api import ResultsDB
from resultsdb.db import Database
from resultsdb.seed import SEED_EXPERIMENT, seed

DOC = Path(__file__).resolve().parent.parent / "docs" / "psql.md"
BLOCKS = re.findall(r"^```sql\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


def variables(conn: Any) -> dict[str, str]:
    def run(name: str) -> str:
        return str(conn.execute("select id from runs where name = %s", [name]).fetchone()[0])

    return {
        "experiment": SEED_EXPERIMENT,
        "metric": "sharpe",
        "run_id": run("backtest 2024-01"),       # has an equity curve and trades
        "other_run_id": run("train dqn v3"),    # has a configuration chain
        "search_run_id": run("search lr/gamma"),
        "model": "seed-momentum-dqn",
        "tag": "gpu",
    }


def test_the_doc_has_the_recipes_the_issue_asks_for() -> None:
    text = "\n".join(BLOCKS)
    assert len(BLOCKS) >= 10
    for needle in ("leaderboard", "tags ?", "jsonb_each", "model_registry", "from trials",
                   "date_bin", "pg_total_relation_size", "model_version_transitions"):
        assert needle in text, needle


def test_every_variable_the_recipes_use_is_documented_at_the_top() -> None:
    used = set(re.findall(r":'([a-z_]+)'", "\n".join(BLOCKS)))
    head = DOC.read_text(encoding="utf-8").split("## ", 1)[0]
    assert used and all(f"\\set {name} " in head for name in used), used


@pytest.fixture(scope="module")
def seeded_url(pg_server: Any, template_db: str) -> Iterator[tuple[str, dict[str, str]]]:
    """One seeded database for the module (only the last recipe writes)."""
    name = f"rdb_cookbook_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name, template=template_db)
    with Database(url=url) as db:
        seed(db)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("analyze")
        yield url, variables(conn)
    pg_server.drop_database(name)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"recipe{i + 1}" for i in range(len(BLOCKS))])
def test_recipe_runs_in_psql_and_returns_rows(block: str, seeded_url: tuple[str, dict[str, str]]
                                              ) -> None:
    url, values = seeded_url
    args = [str(embedded.bin_dir() / "psql"), "-X", "--no-psqlrc", "-v", "ON_ERROR_STOP=1",
            "-q", "-A", "-t", "-d", url]
    for name, value in values.items():
        args += ["-v", f"{name}={value}"]
    done = subprocess.run(args, input=block, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{done.stderr}\n--- recipe ---\n{block}"
    assert done.stderr == "", done.stderr
    assert done.stdout.strip(), f"no rows from:\n{block}"


# The searching recipes: a `-- db.search_runs(...)` line and a `-- resultsdb ls runs ...`
# line above the SQL they stand for.
SEARCHES = [b for b in BLOCKS if "-- db.search_runs(" in b]


def _search_call(block: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The documented call's arguments, as literals (never evaluated as code)."""
    line = next(x for x in block.splitlines() if x.startswith("-- db.search_runs("))
    call = ast.parse(line.removeprefix("-- db."), mode="eval").body
    assert isinstance(call, ast.Call)
    return (tuple(ast.literal_eval(a) for a in call.args),
            {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg})


def test_the_doc_has_search_recipes() -> None:
    assert len(SEARCHES) >= 4


@pytest.mark.parametrize("block", SEARCHES, ids=[f"search{i + 1}" for i in range(len(SEARCHES))])
def test_each_documented_search_gives_what_its_sql_gives(
        block: str, seeded_url: tuple[str, dict[str, str]]) -> None:
    url, _ = seeded_url
    args, kwargs = _search_call(block)
    with psycopg.connect(url, autocommit=True) as conn:
        by_sql = [row[0] for row in conn.execute(block.encode()).fetchall()]
    with ResultsDB(url=url) as db:
        by_api = [r.id for r in db.search_runs(*args, limit=20, **kwargs)]
    assert by_api and by_api == by_sql
    cli = next(x for x in block.splitlines() if x.startswith("-- resultsdb ls runs "))
    done = subprocess.run(
        [sys.executable, "-m", "resultsdb", "--json", *shlex.split(cli.removeprefix("-- resultsdb "))],
        capture_output=True, text=True, timeout=60, env={**os.environ, "RESULTSDB_URL": url})
    assert done.returncode == 0, done.stderr
    assert [uuid.UUID(r["id"]) for r in json.loads(done.stdout)["items"]] == by_sql
