"""Time series of runs at COPY speed: equity curves and trade logs in and out.

Write: :func:`write_equity`, :func:`write_trades` (a DataFrame, an Arrow table, a
mapping of arrays or records; atomic, idempotent by batch key).
Read: :func:`read_equity`, :func:`read_trades` (pandas), their ``_arrow`` twins, and
:func:`compare_equity` (several runs side by side).
Retention: :func:`archive`, :func:`restore`, :func:`archivable`, :func:`manifests`.
"""

from resultsdb.extras import require

require("series", "resultsdb.series (equity curves and trade logs)")

from resultsdb.series.ingest import WriteResult, batches, write_equity, write_trades
from resultsdb.series.partitions import (
    ArchivedPartition,
    archivable,
    archive,
    ensure_for_run,
    manifests,
    restore,
)
from resultsdb.series.read import (
    compare_equity,
    read_equity,
    read_equity_arrow,
    read_trades,
    read_trades_arrow,
)

__all__ = [
    "ArchivedPartition",
    "WriteResult",
    "archivable",
    "archive",
    "batches",
    "compare_equity",
    "ensure_for_run",
    "manifests",
    "read_equity",
    "read_equity_arrow",
    "read_trades",
    "read_trades_arrow",
    "restore",
    "write_equity",
    "write_trades",
]
