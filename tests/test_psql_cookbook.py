"""Every ```sql block of docs/psql.md runs, through psql, on a seeded database.

The recipes use psql variables (``:'run_id'``); psql itself fills them in from ``-v``
options set to the seed's experiment, runs and model, as docs/psql.md says at the top.
Each block must succeed and print at least one row.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from resultsdb import embedded
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
