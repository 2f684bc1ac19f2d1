"""The repositories' named queries against the real schema, without running them.

Each query is prepared on the server (so a typo in a query no test happens to
run still fails here), its result columns are compared with its record's
fields, and each update query's SET list with the Python allowlist.
"""

from __future__ import annotations

import re

import psycopg
import pytest
from psycopg import pq

from resultsdb import inputs
from resultsdb.registry import Query, default_registry
from resultsdb.repositories import (
    configurations,
    data_snapshots,
    experiments,
    models,
    runs,
    trials,
)

FILES = {"experiments.sql", "runs.sql", "configurations.sql", "models.sql",
         "data_snapshots.sql", "trials.sql", "counts.sql"}
QUERIES = [q for q in default_registry() if q.source.split(":")[0] in FILES]

# update query -> (allowlist in Python, the Update input model)
UPDATES = {
    "update_experiment": (experiments.UPDATABLE, inputs.ExperimentUpdate),
    "update_run": (runs.UPDATABLE, inputs.RunUpdate),
    "update_configuration": (configurations.UPDATABLE, inputs.ConfigurationUpdate),
    "update_model": (models.UPDATABLE, inputs.ModelUpdate),
    "update_model_version": (models.VERSION_UPDATABLE, inputs.ModelVersionUpdate),
    "update_model_artifact": (models.ARTIFACT_UPDATABLE, inputs.ModelArtifactUpdate),
    "update_data_snapshot": (data_snapshots.UPDATABLE, inputs.DataSnapshotUpdate),
    "update_trial": (trials.UPDATABLE, inputs.TrialUpdate),
}


def test_every_subject_file_is_loaded() -> None:
    assert {q.source.split(":")[0] for q in QUERIES} == FILES


@pytest.mark.parametrize("query", [q for q in QUERIES if not q.identifiers], ids=lambda q: q.name)
def test_query_prepares_and_matches_its_record(conn: psycopg.Connection, query: Query) -> None:
    assert query.doc, f"{query.name} needs a comment saying what it returns"
    pgconn = conn.pgconn
    name = query.name.encode()
    result = pgconn.prepare(name, query.positional_text.encode())
    assert result.status == pq.ExecStatus.COMMAND_OK, result.error_message.decode()
    described = pgconn.describe_prepared(name)
    columns = [described.fname(i).decode() for i in range(described.nfields)]
    if query.record is not None:
        assert columns == list(query.record.model_fields), query.name
    if query.returns.value == "scalar":
        assert len(columns) == 1


@pytest.mark.parametrize("name", sorted(UPDATES))
def test_update_allowlists_agree(name: str) -> None:
    allowlist, model = UPDATES[name]
    text = default_registry()[name].text
    match = re.search(r"set \(([^)]*)\)", text)
    assert match is not None
    assert {c.strip() for c in match.group(1).split(",")} == allowlist
    assert set(model.model_fields) == allowlist
