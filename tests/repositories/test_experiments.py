from __future__ import annotations

import uuid

import pytest

from resultsdb.db import Database
from resultsdb.errors import AlreadyExists, InvalidInput, InvalidTransition, NotFound
from resultsdb.records import Experiment
from resultsdb.repositories import experiments
from tests.repositories.conftest import MISSING_ID


def make(db: Database, name: str, **data: object) -> Experiment:
    return db.write(lambda c: experiments.create(c, {"name": name, **data}))


def test_create_and_get(db: Database) -> None:
    created = make(db, "momentum", description="btc", tags=["gpu", "v2"])
    assert created.status == "active"
    assert created.tags == {"gpu": True, "v2": True}
    assert db.read(lambda c: experiments.get(c, created.id)) == created
    assert db.read(lambda c: experiments.get(c, str(created.id))) == created
    assert created.id.version == 7


def test_create_accepts_a_tag_mapping(db: Database) -> None:
    created = make(db, "m", tags={"strategy": "momentum", "window": 64, "nested": {"a": [1, 2]}})
    assert created.tags == {"strategy": "momentum", "window": 64, "nested": {"a": [1, 2]}}


@pytest.mark.parametrize(("data", "field", "fragment"), [
    ({"name": ""}, "name", "at least 1 character"),
    ({"name": "x" * 256}, "name", "at most 255 characters"),
    ({"name": "a\x00b"}, "name", "NUL"),
    ({"name": "ok", "description": "d" * 10001}, "description", "at most 10000"),
    ({"name": "ok", "tags": "gpu"}, "tags", "JSON object"),
    ({"name": "ok", "tags": {"x": float("nan")}}, "tags", "finite"),
    ({"name": "ok", "tags": [""]}, "tags", "non-empty"),
    ({"name": "ok", "status": "done"}, "status", "'active'"),
    ({"name": "ok", "colour": "red"}, "colour", "unknown field"),
    ({"description": "no name"}, "name", "is required"),
    ({"name": 42}, "name", "valid string"),
])
def test_create_rejects_bad_input_before_the_database(
        db: Database, unchanged, data: dict[str, object], field: str, fragment: str) -> None:
    with unchanged(), pytest.raises(InvalidInput) as err:
        db.write(lambda c: experiments.create(c, data))
    assert err.value.field == field
    assert err.value.table == "experiments"
    assert f"experiments.{field}" in str(err.value)
    assert fragment in str(err.value)


def test_create_rejects_a_non_mapping(db: Database, unchanged) -> None:
    with unchanged(), pytest.raises(InvalidInput, match="expected a mapping"):
        db.write(lambda c: experiments.create(c, ["name", "x"]))  # type: ignore[arg-type]


def test_live_names_are_unique_and_archiving_frees_them(db: Database, unchanged) -> None:
    first = make(db, "dup")
    with unchanged(), pytest.raises(AlreadyExists) as err:
        make(db, "dup")
    assert err.value.field == "name"
    db.write(lambda c: experiments.update(c, first.id, status="archived"))
    second = make(db, "dup")
    assert db.read(lambda c: experiments.get_by_name(c, "dup")) == second
    assert [e.id for e in db.read(lambda c: experiments.all_named(c, "dup"))] == [first.id, second.id]
    assert db.read(lambda c: experiments.get_by_name(c, "nobody")) is None


def test_get_missing_raises_not_found(db: Database) -> None:
    with pytest.raises(NotFound) as err:
        db.read(lambda c: experiments.get(c, MISSING_ID))
    assert err.value.table == "experiments"
    assert err.value.key == {"id": uuid.UUID(MISSING_ID)}
    assert MISSING_ID in str(err.value)


def test_get_with_a_malformed_id_is_invalid_input(db: Database) -> None:
    with pytest.raises(InvalidInput) as err:
        db.read(lambda c: experiments.get(c, "not-a-uuid"))
    assert err.value.field == "id"


def test_keyset_pages_cover_every_row_once(db: Database) -> None:
    made = {make(db, f"exp-{i:02d}").id for i in range(23)}
    seen: list[uuid.UUID] = []
    after = None
    sizes = []
    while True:
        page = db.read(lambda c, a=after: experiments.list_page(c, limit=10, after=a))
        if not page:
            break
        sizes.append(len(page))
        seen.extend(e.id for e in page)
        after = page[-1].id
    assert sizes == [10, 10, 3]
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == made
    assert seen == sorted(seen)


@pytest.mark.parametrize("limit", [0, -1, 1001, True, "10"])
def test_page_limit_is_checked(db: Database, limit: object) -> None:
    with pytest.raises(InvalidInput) as err:
        db.read(lambda c: experiments.list_page(c, limit=limit))  # type: ignore[arg-type]
    assert err.value.field == "limit"


def test_page_after_must_be_an_id(db: Database) -> None:
    with pytest.raises(InvalidInput) as err:
        db.read(lambda c: experiments.list_page(c, after="yesterday"))
    assert err.value.field == "after"


def test_update_changes_only_the_given_fields(db: Database) -> None:
    created = make(db, "u", description="before", tags={"a": 1})
    updated = db.write(lambda c: experiments.update(c, created.id, tags=["b"]))
    assert updated.tags == {"b": True}
    assert updated.description == "before"
    assert updated.name == "u"
    assert updated.updated_at >= created.updated_at
    cleared = db.write(lambda c: experiments.update(c, created.id, description=None))
    assert cleared.description is None
    assert db.read(lambda c: experiments.get(c, created.id)) == cleared


def test_update_with_no_changes_returns_the_row(db: Database) -> None:
    created = make(db, "same")
    assert db.write(lambda c: experiments.update(c, created.id)) == created


@pytest.mark.parametrize(("changes", "field"), [
    ({"created_at": "2024-01-01T00:00:00Z"}, "created_at"),
    ({"id": MISSING_ID}, "id"),
    ({"colour": "red"}, "colour"),
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"tags": 5}, "tags"),
    ({"status": "paused"}, "status"),
])
def test_update_rejects_bad_changes(db: Database, changes: dict[str, object], field: str) -> None:
    created = make(db, "bad-update")
    with pytest.raises(InvalidInput) as err:
        db.write(lambda c: experiments.update(c, created.id, **changes))
    assert err.value.field == field
    assert field in str(err.value)
    assert db.read(lambda c: experiments.get(c, created.id)) == created


def test_update_enforces_the_status_machine(db: Database) -> None:
    created = make(db, "machine")
    done = db.write(lambda c: experiments.update(c, created.id, status="completed"))
    assert done.status == "completed"
    archived = db.write(lambda c: experiments.update(c, created.id, status="archived"))
    with pytest.raises(InvalidTransition):
        db.write(lambda c: experiments.update(c, created.id, status="failed"))
    assert db.read(lambda c: experiments.get(c, created.id)) == archived


def test_update_missing_raises_not_found(db: Database, unchanged) -> None:
    with unchanged(), pytest.raises(NotFound) as err:
        db.write(lambda c: experiments.update(c, MISSING_ID, description="x"))
    assert err.value.table == "experiments"


def test_delete(db: Database, counts) -> None:
    created = make(db, "gone")
    kept = make(db, "kept")
    db.write(lambda c: experiments.delete(c, created.id))
    with pytest.raises(NotFound):
        db.read(lambda c: experiments.get(c, created.id))
    assert db.read(lambda c: experiments.get(c, kept.id)) == kept
    assert counts()["experiments"] == 1


def test_delete_missing_raises_not_found(db: Database, unchanged) -> None:
    make(db, "stays")
    with unchanged(), pytest.raises(NotFound) as err:
        db.write(lambda c: experiments.delete(c, MISSING_ID))
    assert err.value.table == "experiments"


def test_find_by_tags(db: Database) -> None:
    gpu = make(db, "gpu", tags={"gpu": True, "team": "alpha"})
    cpu = make(db, "cpu", tags={"cpu": True, "team": "beta"})
    make(db, "none")

    def names(found: list[Experiment]) -> list[str]:
        return sorted(e.name for e in found)

    assert names(db.read(lambda c: experiments.find_by_tags(c, any_of=["gpu"]))) == ["gpu"]
    assert names(db.read(lambda c: experiments.find_by_tags(c, any_of=["gpu", "cpu"]))) == [
        "cpu", "gpu"]
    assert names(db.read(lambda c: experiments.find_by_tags(c, any_of="cpu"))) == ["cpu"]
    # ?| tests keys only: "alpha" is a value, not a key.
    assert db.read(lambda c: experiments.find_by_tags(c, any_of=["alpha"])) == []
    assert db.read(lambda c: experiments.find_by_tags(
        c, contains={"team": "beta"})) == [cpu]
    assert db.read(lambda c: experiments.find_by_tags(c, contains=["gpu"])) == [gpu]
    assert db.read(lambda c: experiments.find_by_tags(
        c, contains={"team": "alpha", "gpu": False})) == []


def test_find_by_tags_pages(db: Database) -> None:
    ids = [make(db, f"t{i}", tags=["x"]).id for i in range(5)]
    first = db.read(lambda c: experiments.find_by_tags(c, any_of=["x"], limit=3))
    rest = db.read(lambda c: experiments.find_by_tags(c, any_of=["x"], limit=3,
                                                      after=first[-1].id))
    assert [e.id for e in first + rest] == sorted(ids)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({}, "any_of"),
    ({"any_of": ["a"], "contains": {"a": True}}, "any_of"),
    ({"any_of": [1]}, "any_of"),
    ({"contains": {"a": float("inf")}}, "contains"),
    ({"contains": 3}, "contains"),
])
def test_find_by_tags_rejects_bad_arguments(db: Database, kwargs: dict[str, object],
                                            field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        db.read(lambda c: experiments.find_by_tags(c, **kwargs))  # type: ignore[arg-type]
    assert err.value.field == field


def test_get_active(db: Database) -> None:
    active = make(db, "a1")
    failed = make(db, "f1")
    db.write(lambda c: experiments.update(c, failed.id, status="failed"))
    also = make(db, "a2")
    assert [e.id for e in db.read(experiments.get_active)] == [active.id, also.id]
    assert [e.id for e in db.read(lambda c: experiments.get_active(c, limit=1, after=active.id))] == [
        also.id]
