"""Rules stated on both sides - a Python literal type and a SQL CHECK - are the same rule.

The database's CHECK is the final word; the records' Literal types are what callers and
mypy see and what validation checks before a statement is sent. Each pair is compared here,
so changing one side without the other fails.
"""

from __future__ import annotations

import re
import typing
from typing import Any

import pytest

from resultsdb import records
from resultsdb.connection import Connection
from resultsdb.series import validate
from tests.conftest import TEST_QUERIES

PAIRS = [
    ("experiments_status_valid", records.ExperimentStatus),
    ("runs_status_valid", records.RunStatus),
    ("model_versions_status_valid", records.ModelVersionStatus),
    ("hyperparameter_results_status_valid", records.TrialStatus),
    ("trade_logs_action_valid", records.TradeAction),
    ("series_batches_kind_valid", records.SeriesKind),
]


@pytest.mark.parametrize(("constraint", "literal"), PAIRS, ids=[p[0] for p in PAIRS])
def test_a_literal_type_allows_what_its_check_constraint_allows(
        conn: Connection, constraint: str, literal: Any) -> None:
    definition = TEST_QUERIES.run(conn, "check_constraint_definition", name=constraint)
    assert definition is not None, f"no CHECK constraint {constraint}"
    allowed = set(re.findall(r"'([^']*)'::text", definition))
    assert allowed == set(typing.get_args(literal)), (constraint, definition)


def test_bulk_trade_validation_allows_the_records_actions() -> None:
    assert validate.ACTIONS == set(typing.get_args(records.TradeAction))
