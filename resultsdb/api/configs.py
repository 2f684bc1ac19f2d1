"""Configurations (versioned, with lineage) and data snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from resultsdb.api.base import Base, Ref
from resultsdb.errors import NotFound
from resultsdb.inputs import ref_id
from resultsdb.records import Configuration, DataSnapshot, Run
from resultsdb.repositories import configurations as configs_repo
from resultsdb.repositories import data_snapshots as snapshots_repo


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    old: Any
    new: Any


class ConfigDiff(BaseModel):
    """Keys (nested ones as dotted paths) added, removed and changed from ``a`` to ``b``."""

    model_config = ConfigDict(frozen=True)

    added: dict[str, Any]
    removed: dict[str, Any]
    changed: list[Change]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys: {"opt": {"lr": 1}} -> {"opt.lr": 1}. Lists are values."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _same(x: Any, y: Any) -> bool:
    """Equal as parameters: 1 and 1.0 are the same number; True is not 1 (at any depth,
    so [True] is not [1] either)."""
    if isinstance(x, bool) or isinstance(y, bool):
        return type(x) is type(y) and x == y
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, Mapping) and isinstance(y, Mapping):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    return bool(x == y)


def diff_parameters(a: Mapping[str, Any], b: Mapping[str, Any]) -> ConfigDiff:
    fa, fb = flatten(a), flatten(b)
    return ConfigDiff(
        added={k: fb[k] for k in sorted(fb.keys() - fa.keys())},
        removed={k: fa[k] for k in sorted(fa.keys() - fb.keys())},
        changed=[Change(key=k, old=fa[k], new=fb[k])
                 for k in sorted(fa.keys() & fb.keys()) if not _same(fa[k], fb[k])],
    )


class ConfigsAPI(Base):
    def save_config(self, run: Ref, name: str, config_type: str, parameters: Mapping[str, Any],
                    parent: Ref | None = None) -> Configuration:
        """Store a parameter set; its version is the next for ``name`` (1, 2, 3 ...).

        ``parent`` is the configuration this one was derived from (a real foreign key).
        """
        data = {
            "run_id": ref_id(run, field="run", table="configurations", kind=Run), "name": name,
            "config_type": config_type, "parameters": parameters,
            "parent_id": (None if parent is None else
                          ref_id(parent, field="parent", table="configurations", kind=Configuration)),
        }
        return self.db.write(lambda c: configs_repo.create(c, data))

    def get_config(self, config: Ref) -> Configuration:
        config_id = ref_id(config, field="config", table="configurations", kind=Configuration)
        return self.db.read(lambda c: configs_repo.get(c, config_id))

    def config_lineage(self, config: Ref) -> list[Configuration]:
        """The chain of parents, root first, ending with ``config`` (one recursive query).
        NotFound when there is no such configuration."""
        config_id = ref_id(config, field="config", table="configurations", kind=Configuration)
        chain = self.db.read(lambda c: configs_repo.lineage(c, config_id))
        if not chain:
            raise NotFound(f"configurations: no row with id={config_id}", table="configurations",
                           key={"id": config_id})
        return chain

    def diff(self, a: Ref | Configuration, b: Ref | Configuration) -> ConfigDiff:
        """What changed from configuration ``a`` to ``b``."""
        ids = {field: ref_id(value, field=field, table="configurations", kind=Configuration)
               for field, value in (("a", a), ("b", b)) if not isinstance(value, Configuration)}
        ca = a if isinstance(a, Configuration) else self.get_config(ids["a"])
        cb = b if isinstance(b, Configuration) else self.get_config(ids["b"])
        return diff_parameters(ca.parameters, cb.parameters)

    # -- data snapshots ------------------------------------------------------------

    def register_snapshot(self, run: Ref, data_source: str, start_date: datetime,
                          end_date: datetime, features_hash: str,
                          storage_path: str | None = None) -> DataSnapshot:
        """Record the data a run used. Dates must be timezone-aware and in order;
        features_hash is a sha256 hex digest."""
        data = {
            "run_id": ref_id(run, field="run", table="data_snapshots", kind=Run),
            "data_source": data_source,
            "start_date": start_date, "end_date": end_date, "features_hash": features_hash,
            "storage_path": storage_path,
        }
        return self.db.write(lambda c: snapshots_repo.create(c, data))

    def runs_using_snapshot(self, snapshot: Ref) -> list[Run]:
        """Runs that registered the same data (source, range and features_hash)."""
        snapshot_id = ref_id(snapshot, field="snapshot", table="data_snapshots", kind=DataSnapshot)

        def go(conn: Any) -> list[Run]:
            snapshots_repo.get(conn, snapshot_id)  # NotFound for an unknown snapshot
            return snapshots_repo.runs_using(conn, snapshot_id)
        return self.db.read(go)
