"""Runs, trials and series out to CSV, JSON or Parquet files, as ``resultsdb export`` writes.

Every export is a pandas DataFrame first (:func:`frame`), then a file
(:func:`write_frame`). Values that have no column type in CSV or Parquet - tags,
trade metadata - are written as JSON text, UUIDs as strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import pandas as pd

from resultsdb import series
from resultsdb.api import ResultsDB
from resultsdb.errors import InvalidInput

What = Literal["runs", "trials", "equity", "trades"]
Format = Literal["csv", "json", "parquet"]
WHATS: tuple[str, ...] = ("runs", "trials", "equity", "trades")
FORMATS: tuple[str, ...] = ("csv", "json", "parquet")


@dataclass(frozen=True)
class ExportResult:
    what: str
    format: str
    path: Path
    rows: int
    columns: int


def runs_frame(rdb: ResultsDB, experiment: Any = None) -> pd.DataFrame:
    """Every run (of ``experiment`` if given), oldest first: one row per run, summary
    metrics as ``metric_<key>`` columns."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = rdb.runs(experiment, limit=1000, cursor=cursor)
        for r in page:
            row = r.model_dump(exclude={"summary_metrics"})
            row.update({f"metric_{k}": v for k, v in r.summary_metrics.items()})
            rows.append(row)
        cursor = page.next_cursor
        if cursor is None:
            return pd.DataFrame(rows)


def frame(rdb: ResultsDB, what: str, *, experiment: Any = None, run: Any = None) -> pd.DataFrame:
    """The DataFrame an export of ``what`` writes; trials, equity and trades need ``run``."""
    if what not in WHATS:
        raise InvalidInput(f"what: must be one of {', '.join(WHATS)}, got {what!r}", field="what")
    if what == "runs":
        return runs_frame(rdb, experiment)
    if run is None:
        raise InvalidInput(f"run: exporting {what} needs a run (--run)", field="run")
    if what == "trials":
        return rdb.trials_frame(run)
    run_id = rdb.get_run(run).id  # NotFound for a missing run, not an empty file
    if what == "equity":
        return series.read_equity(rdb.db, run_id)
    return series.read_trades(rdb.db, run_id)


def _portable(frame: pd.DataFrame) -> pd.DataFrame:
    """UUIDs as strings, dicts and lists as JSON text: what CSV and Parquet can hold."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype != object:
            continue
        sample = next((v for v in out[col] if v is not None), None)
        if isinstance(sample, UUID):
            out[col] = [None if v is None else str(v) for v in out[col]]
        elif isinstance(sample, dict | list):
            out[col] = [None if v is None else json.dumps(v, default=str) for v in out[col]]
    return out


def write_frame(data: pd.DataFrame, path: str | Path, fmt: str) -> Path:
    """Write ``data`` to ``path`` as csv, json (an array of records, ISO times) or parquet."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format: must be one of {', '.join(FORMATS)}, got {fmt!r}",
                           field="format")
    target = Path(path)
    if not target.parent.is_dir():
        raise InvalidInput(f"out: folder {target.parent} does not exist", field="out")
    portable = _portable(data)
    if fmt == "csv":
        portable.to_csv(target, index=False)
    elif fmt == "json":
        portable.to_json(target, orient="records", date_format="iso", date_unit="us")
    else:
        portable.to_parquet(target, index=False)
    return target


def export(rdb: ResultsDB, what: str, path: str | Path, fmt: str = "csv", *,
           experiment: Any = None, run: Any = None) -> ExportResult:
    """Write runs, a run's trials, equity curve or trades to a file.

    Example: ``export(rdb, "equity", "curve.parquet", "parquet", run=run_id)``
    """
    if fmt not in FORMATS:  # before reading anything
        raise InvalidInput(f"format: must be one of {', '.join(FORMATS)}, got {fmt!r}",
                           field="format")
    data = frame(rdb, what, experiment=experiment, run=run)
    target = write_frame(data, path, fmt)
    return ExportResult(what, fmt, target, len(data), len(data.columns))
