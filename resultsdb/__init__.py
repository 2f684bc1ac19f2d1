"""resultsdb: the results database of a trading-model optimization pipeline.

    import resultsdb
    with resultsdb.connect() as db:
        exp = db.start_experiment("momentum", tags={"asset": "BTC"}, exist_ok=True)
        with db.run(exp, "train", run_type="training") as run:
            db.log_summary_metrics(run, {"sharpe": 1.4})
"""

from resultsdb.api import ConfigDiff, ModelLineage, Page, ResultsDB, SavedModel, connect
from resultsdb.config import Settings

__all__ = ["ConfigDiff", "ModelLineage", "Page", "ResultsDB", "SavedModel", "Settings", "connect"]
__version__ = "0.1.0"
