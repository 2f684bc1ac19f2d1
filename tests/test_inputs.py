from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import numpy as np
import pytest

from resultsdb.errors import InvalidInput
from resultsdb.fields import DOUBLE_MAX, MAX_JSON_DEPTH, FiniteFloat, JsonObject, NumberMap
from resultsdb.inputs import (
    ConfigurationCreate,
    ExperimentCreate,
    ExperimentUpdate,
    RunCreate,
    as_id,
    as_labels,
    as_limit,
    as_tags,
    ref_id,
    validate,
    validate_changes,
    validate_value,
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


# -- the rules every value follows (resultsdb.fields) ------------------------------------------

def _nested(levels: int) -> dict:
    doc: dict = {}
    inner = doc
    for _ in range(levels - 1):
        inner["a"] = {}
        inner = inner["a"]
    return doc


def test_json_nests_at_most_max_json_depth_levels() -> None:
    assert as_tags(_nested(MAX_JSON_DEPTH), field="tags") == _nested(MAX_JSON_DEPTH)
    for doc in (_nested(MAX_JSON_DEPTH + 1), _nested(10_000), {"a": [[[]] * 2] * 2} | _nested(70)):
        with pytest.raises(InvalidInput, match=f"more than {MAX_JSON_DEPTH} levels deep") as err:
            as_tags(doc, field="tags", table="runs")
        assert err.value.field == "tags"
    looped: dict = {"x": []}
    looped["x"].append(looped)  # contains itself: refused at the limit, not by RecursionError
    with pytest.raises(InvalidInput, match="levels deep"):
        as_tags(looped, field="tags")


def test_numbers_are_within_double_precision_integers_included() -> None:
    # Maps keep integers exact, so one past the bound is refused; a float argument is
    # converted, and only an integer no float rounds to is.
    for kind, wrap, beyonds in (
            (NumberMap, lambda v: {"m": v}, (DOUBLE_MAX + 1, -DOUBLE_MAX - 1, 10**400)),
            (JsonObject, lambda v: {"m": [v]}, (DOUBLE_MAX + 1, -DOUBLE_MAX - 1, 10**400)),
            (FiniteFloat, lambda v: v, (2**1024, -(10**400)))):
        assert validate_value("x", wrap(DOUBLE_MAX), kind) is not None
        assert validate_value("x", wrap(-DOUBLE_MAX), kind) is not None
        for beyond in beyonds:
            with pytest.raises(InvalidInput, match="beyond the range of double precision") as err:
                validate_value("x", wrap(beyond), kind, table="runs")
            assert err.value.field == "x"
    assert validate_value("x", {"m": 2**64}, NumberMap) == {"m": 2**64}  # kept exact


def test_summary_metrics_read_as_integers_are_within_their_integer() -> None:
    ok = {"trade_count": 2**63 - 1, "stats_version": 2**31 - 1, "other": 1e300}
    assert validate(RunCreate, {"experiment_id": EXP, "summary_metrics": ok}, table="runs") \
        .summary_metrics == ok
    for key, value in (("trade_count", 2**63), ("trade_count", -1e19), ("stats_version", 2**31)):
        with pytest.raises(InvalidInput, match=f"at '{key}'") as err:
            validate(RunCreate, {"experiment_id": EXP, "summary_metrics": {key: value}}, table="runs")
        assert err.value.field == "summary_metrics"


@pytest.mark.parametrize("bad", ["a\x00b", "a\udc80b", "\ud800"])
def test_text_holds_no_nul_and_no_lone_surrogate_anywhere(bad: str) -> None:
    word = "NUL" if "\x00" in bad else "lone surrogates"
    cases = [
        (ExperimentCreate, {"name": bad}, "experiments.name: must not contain"),
        (ExperimentCreate, {"name": "n", "tags": {bad: 1}}, "experiments.tags: at"),
        (ExperimentCreate, {"name": "n", "tags": {"k": {"deeper": [bad]}}},
         "experiments.tags: at 'k.deeper[0]': strings must not contain"),
        (ExperimentCreate, {"name": "n", "tags": [bad]}, "experiments.tags: labels must not contain"),
        (RunCreate, {"experiment_id": EXP, "summary_metrics": {bad: 1}},
         "runs.summary_metrics: keys must not contain"),
        (RunCreate, {"experiment_id": EXP, "run_type": bad}, "runs.run_type: must not contain"),
    ]
    for model, data, start in cases:
        with pytest.raises(InvalidInput, match=word) as err:
            validate(model, data, table="runs" if model is RunCreate else "experiments")
        assert str(err.value).startswith(start), str(err.value)
        assert "\x00" not in str(err.value) and str(err.value).encode("utf-8")


def test_a_reference_is_a_record_of_its_kind_a_uuid_or_its_string() -> None:
    exp = ExperimentCreate(name="x")  # any record without an id
    run_id = UUID(EXP)
    assert ref_id(run_id, kind=ExperimentCreate) == run_id
    assert ref_id(EXP, field="run", kind=RunCreate) == run_id
    with pytest.raises(InvalidInput, match=r"run: expected a RunCreate, .* not an ExperimentCreate"):
        ref_id(exp, field="run", kind=RunCreate)
    with pytest.raises(InvalidInput, match="has no id"):
        ref_id(exp, field="experiment", kind=ExperimentCreate)
    for bad in (b"0123456789abcdef", 12345, None, 1.5):
        with pytest.raises(InvalidInput, match="must be a UUID"):
            ref_id(bad, field="run", kind=RunCreate)
    with pytest.raises(InvalidInput, match="must be a UUID or its string, not bytes"):
        validate(RunCreate, {"experiment_id": b"0123456789abcdef"}, table="runs")
