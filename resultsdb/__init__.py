"""resultsdb: the results database of a trading-model optimization pipeline.

    import resultsdb
    with resultsdb.connect() as db:
        exp = db.start_experiment("momentum", tags={"asset": "BTC"}, exist_ok=True)
        with db.run(exp, "train", run_type="training") as run:
            db.log_summary_metrics(run, {"sharpe": 1.4})

The names below are imported when first used (PEP 562), so that ``import resultsdb`` and
the modules that need none of them (``resultsdb.errors``, the CLI's ``--help``) do not pay
for psycopg and pydantic.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resultsdb.api import ConfigDiff, ModelLineage, Page, ResultsDB, SavedModel, connect
    from resultsdb.config import Settings

__all__ = ["ConfigDiff", "ModelLineage", "Page", "ResultsDB", "SavedModel", "Settings", "connect"]
__version__ = "0.1.0"

_HOMES = {name: "resultsdb.api" for name in __all__} | {"Settings": "resultsdb.config"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")  # resultsdb.errors and the like
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
