"""Runs, trials and series out to CSV, JSON or Parquet files, as ``resultsdb export`` writes.

Every export is a pandas DataFrame first (:func:`frame`), then a file
(:func:`write_frame`). Values that have no column type in CSV or Parquet - tags,
trade metadata - are written as JSON text, UUIDs as strings.
"""

from __future__ import annotations

from resultsdb.extras import require

require("series", "resultsdb.export")

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import pandas as pd

from resultsdb import series
from resultsdb.api import ResultsDB
from resultsdb.errors import InvalidInput, NotFound
from resultsdb.records import Progress

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


def runs_frame(rdb: ResultsDB, experiment: Any = None, *,
               progress: Progress | None = None) -> pd.DataFrame:
    """Every run (of ``experiment`` if given), oldest first: one row per run, summary
    metrics as ``metric_<key>`` columns. ``progress(rows, None)`` after each page."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = rdb.runs(experiment, limit=1000, cursor=cursor)
        for r in page:
            row = r.model_dump(exclude={"summary_metrics"})
            row.update({f"metric_{k}": v for k, v in r.summary_metrics.items()})
            rows.append(row)
        if progress is not None:
            progress(len(rows), None)
        cursor = page.next_cursor
        if cursor is None:
            return pd.DataFrame(rows)


# What a run's trials, equity or trades export finds missing, and where it is stored.
_NONE = {"trials": ("hyperparameter_results", "no trials"),
         "equity": ("equity_curves", "no equity curve"), "trades": ("trade_logs", "no trades")}


def frame(rdb: ResultsDB, what: str, *, experiment: Any = None, run: Any = None,
          progress: Progress | None = None) -> pd.DataFrame:
    """The DataFrame an export of ``what`` writes; trials, equity and trades need ``run``.

    A run with none of ``what`` is NotFound saying so (for a trial's backtest run, naming
    the search run whose trials they are), not an empty file."""
    if what not in WHATS:
        raise InvalidInput(f"what: must be one of {', '.join(WHATS)}, got {what!r}", field="what")
    if what == "runs":
        return runs_frame(rdb, experiment, progress=progress)
    if run is None:
        raise InvalidInput(f"run: exporting {what} needs a run (--run)", field="run")
    if progress is not None:
        progress(0, None)
    record = rdb.get_run(run)  # NotFound for a missing run, not an empty file
    if what == "trials":
        data = rdb.trials_frame(record.id)
    elif what == "equity":
        data = series.read_equity(rdb.db, record.id)
    else:
        data = series.read_trades(rdb.db, record.id)
    if data.empty:
        table, none = _NONE[what]
        hint = ""
        if what == "trials":
            hint = (f"; trials are stored with the search run, here {record.parent_run_id}"
                    if record.parent_run_id else
                    "; trials are stored with a search run (run_type hyperparameter_tuning)")
        raise NotFound(f"{table}: run {record.id} ({record.name or 'unnamed'}) has {none}{hint}",
                       table=table, key={"run_id": record.id})
    return data


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
           experiment: Any = None, run: Any = None,
           progress: Progress | None = None) -> ExportResult:
    """Write runs, a run's trials, equity curve or trades to a file. ``progress(rows,
    total)`` hears of rows read (total None until known) and, at the end, of all written.

    Example: ``export(rdb, "equity", "curve.parquet", "parquet", run=run_id)``
    """
    if fmt not in FORMATS:  # before reading anything
        raise InvalidInput(f"format: must be one of {', '.join(FORMATS)}, got {fmt!r}",
                           field="format")
    data = frame(rdb, what, experiment=experiment, run=run, progress=progress)
    target = write_frame(data, path, fmt)
    if progress is not None:
        progress(len(data), len(data))
    return ExportResult(what, fmt, target, len(data), len(data.columns))
