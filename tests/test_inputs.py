from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import numpy as np
import pytest

from resultsdb.errors import InvalidInput
from resultsdb.inputs import (
    ConfigurationCreate,
    ExperimentCreate,
    ExperimentUpdate,
    RunCreate,
    as_id,
    as_labels,
    as_limit,
    as_tags,
    validate,
    validate_changes,
)

EXP = "01900000-0000-7000-8000-000000000001"


def test_ids_may_be_strings_or_uuids() -> None:
    assert as_id(EXP) == UUID(EXP)
    assert as_id(UUID(EXP)) == UUID(EXP)
    with pytest.raises(InvalidInput) as err:
        as_id("nope", field="run_id", table="runs")
    assert (err.value.field, err.value.table) == ("run_id", "runs")
    assert str(err.value).startswith("runs.run_id: must be a UUID")


def test_tags_from_labels_or_mapping() -> None:
    assert as_tags(["a", "b"], field="tags") == {"a": True, "b": True}
    assert as_tags(("a",), field="tags") == {"a": True}
    assert as_tags({"a": {"b": [1, None, "x"]}}, field="tags") == {"a": {"b": [1, None, "x"]}}
    for bad in ("a", 3, [""], [1], {1: "x"}, {"a": {1, 2}}, {"a": float("nan")}):
        with pytest.raises(InvalidInput) as err:
            as_tags(bad, field="tags", table="experiments")
        assert err.value.field == "tags"


def test_labels() -> None:
    assert as_labels("gpu", field="any_of") == ["gpu"]
    assert as_labels(["a", "b"], field="any_of") == ["a", "b"]
    with pytest.raises(InvalidInput, match="any_of"):
        as_labels(None, field="any_of")


@pytest.mark.parametrize("limit", [1, 100, 1000])
def test_limit_ok(limit: int) -> None:
    assert as_limit(limit) == limit


def test_aware_datetimes_only_and_kept_as_given() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    run = validate(RunCreate, {"experiment_id": EXP, "start_time": datetime(2024, 1, 1, tzinfo=ist)},
                   table="runs")
    assert run.start_time == datetime(2023, 12, 31, 18, 30, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="timezone"):
        validate(RunCreate, {"experiment_id": EXP, "start_time": datetime(2024, 1, 1)},
                 table="runs")


def test_numpy_numbers_are_plain_numbers() -> None:
    run = validate(RunCreate, {"experiment_id": EXP, "summary_metrics": {
        "sharpe": np.float64(1.5), "trades": np.int64(12)}}, table="runs")
    assert run.summary_metrics == {"sharpe": 1.5, "trades": 12}
    assert type(run.summary_metrics["trades"]) is int
    with pytest.raises(InvalidInput, match="finite"):
        validate(RunCreate, {"experiment_id": EXP, "summary_metrics": {"x": np.float64("nan")}},
                 table="runs")


def test_every_problem_is_reported_and_the_first_field_is_named() -> None:
    with pytest.raises(InvalidInput) as err:
        validate(ExperimentCreate, {"name": "", "status": "x", "extra": 1}, table="experiments")
    text = str(err.value)
    assert err.value.field == "name"
    for part in ("experiments.name:", "experiments.status:", "experiments.extra: unknown field"):
        assert part in text


def test_nested_locations_are_named() -> None:
    with pytest.raises(InvalidInput) as err:
        validate(ConfigurationCreate, {"run_id": uuid4(), "name": "n", "config_type": "model",
                                       "parameters": {"a": [1, float("inf")]}},
                 table="configurations", at=("configs", 4))
    assert err.value.field == "configs"
    assert "configurations.configs[4].parameters: at 'a[1]'" in str(err.value)


def test_validate_passes_a_model_through() -> None:
    model = ExperimentCreate(name="x")
    assert validate(ExperimentCreate, model, table="experiments") is model


def test_validate_changes_keeps_only_given_keys_as_json() -> None:
    updatable = frozenset(ExperimentUpdate.model_fields)
    assert validate_changes(ExperimentUpdate, {"description": None}, table="experiments",
                            updatable=updatable) == {"description": None}
    assert validate_changes(ExperimentUpdate, {"tags": ["a"]}, table="experiments",
                            updatable=updatable) == {"tags": {"a": True}}
    assert validate_changes(ExperimentUpdate, {}, table="experiments", updatable=updatable) == {}
    with pytest.raises(InvalidInput) as err:
        validate_changes(ExperimentUpdate, {"name": "ok", "created_at": 1}, table="experiments",
                         updatable=updatable)
    assert err.value.field == "created_at"
    assert "not an updatable field" in str(err.value)
