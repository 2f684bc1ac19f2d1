"""A small, realistic dataset for demos and manual testing: the "seed-momentum" experiment.

Everything is written in one transaction through the repositories, so the
seed exercises the same validation and numbering as real callers; the series go
through ``write_equity``/``write_trades`` inside it, and the production version's
weights through the artifact store, as ``save_model``'s do, so ``resultsdb verify``
passes on a seeded database. The data is deterministic (fixed clock, seeded random
numbers). Seeding an already seeded database inserts nothing: the experiment name is
the marker, checked under an advisory lock so two concurrent seeders cannot both insert.
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from resultsdb.artifacts import ArtifactStore, BlobRef, record_artifact, store_blob
from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.records import Configuration
from resultsdb.repositories import (
    catalog,
    configurations,
    data_snapshots,
    experiments,
    models,
    runs,
    trials,
)
from resultsdb.series import write_equity, write_trades

SEED_EXPERIMENT = "seed-momentum"
TABLES: tuple[catalog.ResultsTable, ...] = (
    "experiments", "runs", "configurations", "models", "model_versions",
    "model_version_transitions", "model_artifacts", "data_snapshots",
    "hyperparameter_results", "equity_curves", "trade_logs",
)
EQUITY_POINTS = 300
TRADES = 120

# Market time of the backtest: fixed, so two seeded databases hold the same series.
_MARKET_START = datetime(2024, 1, 1, tzinfo=UTC)
_RUN_DAY = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
_COMMIT = "3f9c2b7e1d4a5c6b8e0f1a2b3c4d5e6f7a8b9c0d"
# Stand-in bytes for the production version's weights, stored in the artifact store.
WEIGHTS = b"".join(f"seed-momentum-dqn v2 layer {i}\n".encode() for i in range(64))


class SeedSummary(BaseModel):
    """What :func:`seed` did: rows inserted per table (all zero when already seeded)."""

    model_config = ConfigDict(frozen=True)

    inserted: bool
    experiment_id: UUID
    counts: dict[str, int]

    def describe(self) -> str:
        """One line for people."""
        if not self.inserted:
            return f"{SEED_EXPERIMENT} already present ({self.experiment_id}); nothing inserted"
        rows = ", ".join(f"{table}={n}" for table, n in self.counts.items())
        return f"seeded {SEED_EXPERIMENT} ({self.experiment_id}): {rows}"

    def as_dict(self) -> dict[str, Any]:
        """A flat mapping for tables and JSON: inserted, experiment_id, then rows per table."""
        return {"inserted": self.inserted, "experiment_id": str(self.experiment_id),
                **self.counts}

    def __str__(self) -> str:
        return self.describe()


def seed(db: Database, store: ArtifactStore | None = None) -> SeedSummary:
    """Insert the seed dataset unless it is there already; one transaction either way.

    The weights are stored first (``store``, else the settings' artifact store), before
    the transaction that references them, as ``save_model`` does. Storing is idempotent,
    so a rerun stores nothing new, and a database seeded before the seed stored its
    bytes gets them now.
    """
    weights = store_blob(db, store or ArtifactStore.from_settings(db.settings), WEIGHTS)
    return db.write(lambda conn: _seed(db, conn, weights))


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows in each results table (exact counts: fine for a seed-sized database)."""
    return {t: catalog.row_count(conn, t) for t in TABLES}


def _seed(db: Database, conn: Connection, weights: BlobRef) -> SeedSummary:
    experiments.lock_name(conn, SEED_EXPERIMENT)
    # Archived ones count too: the seed's model names would collide otherwise.
    existing = experiments.all_named(conn, SEED_EXPERIMENT)
    if existing:
        return SeedSummary(inserted=False, experiment_id=existing[0].id,
                           counts=dict.fromkeys(TABLES, 0))
    counts = dict.fromkeys(TABLES, 0)
    equity, trades, backtest_metrics = _backtest()

    exp = experiments.create(conn, {
        "name": SEED_EXPERIMENT,
        "description": "Momentum DQN on BTC/USDT hourly bars: train, search, backtest.",
        "tags": {"strategy": "momentum", "asset_class": "crypto", "venue": "binance",
                 "seed": True},
    })
    counts["experiments"] += 1

    training = runs.create(conn, {
        "experiment_id": exp.id, "name": "train dqn v3", "run_type": "training",
        "status": "completed", "start_time": _RUN_DAY,
        "end_time": _RUN_DAY + timedelta(hours=2, minutes=30),
        "summary_metrics": {"sharpe": 1.42, "max_drawdown": 0.118, "total_return": 0.274,
                            "episodes": 500},
        "tags": ["gpu"],
    })
    tuning = runs.create(conn, {
        "experiment_id": exp.id, "name": "search lr/gamma", "run_type": "hyperparameter_tuning",
        "status": "running", "start_time": _RUN_DAY + timedelta(hours=3),
        "summary_metrics": {"best_sharpe": 1.51},
    })
    backtest = runs.create(conn, {
        "experiment_id": exp.id, "name": "backtest 2024-01", "run_type": "backtest",
        "status": "completed", "start_time": _RUN_DAY + timedelta(hours=6),
        "end_time": _RUN_DAY + timedelta(hours=6, minutes=4),
        "summary_metrics": backtest_metrics,
    })
    counts["runs"] += 3

    parent: UUID | None = None
    chain: list[Configuration] = []
    for params in ({"learning_rate": 1e-3, "gamma": 0.99, "batch_size": 64},
                   {"learning_rate": 5e-4, "gamma": 0.99, "batch_size": 64},
                   {"learning_rate": 5e-4, "gamma": 0.995, "batch_size": 128}):
        config = configurations.create(conn, {
            "run_id": training.id, "name": "seed-momentum-dqn", "config_type": "model",
            "parameters": params, "parent_id": parent,
        })
        chain.append(config)
        parent = config.id
    configurations.create(conn, {
        "run_id": backtest.id, "name": "seed-momentum-data", "config_type": "data",
        "parameters": {"symbol": "BTCUSDT", "interval": "1h", "fee_bps": 7.5},
    })
    counts["configurations"] += 4

    model = models.create(conn, {
        "run_id": training.id, "config_id": chain[-1].id, "model_type": "dqn",
        "name": "seed-momentum-dqn", "metadata": {"framework": "torch", "obs_window": 64},
    })
    counts["models"] += 1
    first = models.create_version(conn, {
        "model_id": model.id, "run_id": training.id, "config_id": chain[1].id,
        "metrics": {"sharpe": 1.18, "max_drawdown": 0.153}, "description": "baseline",
    })
    second = models.create_version(conn, {
        "model_id": model.id, "run_id": training.id, "config_id": chain[2].id,
        "commit_hash": _COMMIT, "metrics": {"sharpe": 1.42, "max_drawdown": 0.118},
    })
    counts["model_versions"] += 2
    models.set_version_status(conn, first.id, "archived", reason="seed: superseded by v2",
                              actor="seed")
    models.set_version_status(conn, second.id, "production", reason="seed: best backtest sharpe",
                              actor="seed")
    counts["model_version_transitions"] += sum(
        len(models.transitions(conn, v.id)) for v in (first, second))

    record_artifact(conn, second.id, weights, artifact_type="weights", file_format="pt")
    counts["model_artifacts"] += 1

    features = "close,log_return,rsi_14,macd,volume_z"
    data_snapshots.create(conn, {
        "run_id": training.id, "data_source": "binance:BTCUSDT:1h",
        "start_date": datetime(2023, 1, 1, tzinfo=UTC),
        "end_date": datetime(2023, 12, 31, 23, tzinfo=UTC),
        "features_hash": hashlib.sha256(features.encode()).hexdigest(),
        "storage_path": "snapshots/binance/BTCUSDT/1h/2023.parquet",
    })
    counts["data_snapshots"] += 1

    counts["hyperparameter_results"] += _trials(conn, tuning.id)
    # The series take the path every caller's do, binary COPY: inside this transaction,
    # as savepoints of it.
    counts["equity_curves"] += write_equity(db, backtest.id, None, equity).row_count
    counts["trade_logs"] += write_trades(db, backtest.id, None, trades).row_count
    return SeedSummary(inserted=True, experiment_id=exp.id, counts=counts)


def _trials(conn: Connection, run_id: UUID) -> int:
    rng = random.Random(11)  # noqa: S311 - deterministic demo data, not secrets
    for i in range(10):
        lr = [1e-4, 3e-4, 5e-4, 1e-3, 3e-3][i % 5]
        gamma = [0.98, 0.99, 0.995][i % 3]
        sharpe = round(1.5 - abs(math.log10(lr) + 3.3) * 0.6 + rng.gauss(0, 0.05), 4)
        pruned = i in (3, 7)
        trials.create(conn, {
            "run_id": run_id, "parameters": {"learning_rate": lr, "gamma": gamma},
            "status": "pruned" if pruned else "completed",
            "objective_value": None if pruned else sharpe,
            "metrics": {} if pruned else {"sharpe": sharpe,
                                          "max_drawdown": round(0.1 + rng.random() * 0.1, 4)},
        })
    return 10


def _backtest() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, float]]:
    """An hourly equity curve, the trades behind it and its summary metrics."""
    rng = random.Random(7)  # noqa: S311 - deterministic demo data, not secrets
    value, bench, price = 100_000.0, 100_000.0, 42_000.0
    equity: list[dict[str, Any]] = []
    returns: list[float] = []
    peak, max_dd = 0.0, 0.0
    for i in range(EQUITY_POINTS):
        step = rng.gauss(0.0004, 0.006)
        market = rng.gauss(0.0002, 0.007)
        value *= 1 + step
        bench *= 1 + market
        price *= 1 + market
        stored = round(value, 2)
        # The drawdown the series path computes from the stored curve's running peak.
        peak = max(peak, stored)
        max_dd = max(max_dd, 1 - stored / peak)
        returns.append(step)
        equity.append({"ts": _MARKET_START + timedelta(hours=i), "portfolio_value": stored,
                       "benchmark_value": round(bench, 2)})
    trades: list[dict[str, Any]] = []
    entry = 0.0
    for seq in range(TRADES):
        price_now = 42_000.0 * (1 + rng.gauss(0, 0.02))
        buy = seq % 2 == 0
        if buy:
            entry = price_now
        trades.append({
            "seq": seq, "ts": _MARKET_START + timedelta(hours=seq * 2, minutes=5),
            "asset": "BTCUSDT", "action": "buy" if buy else "sell",
            "price": round(price_now, 2), "quantity": 0.25,
            "pnl": None if buy else round((price_now - entry) * 0.25, 2),
            "metadata": {"signal": "momentum_cross", "fee_bps": 7.5},
        })
    mean = sum(returns) / len(returns)
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
    metrics = {
        "sharpe": round(mean / std * math.sqrt(24 * 365), 4),
        "max_drawdown": round(max_dd, 4),
        "total_return": round(value / 100_000.0 - 1, 4),
        "trades": TRADES,
    }
    return equity, trades, metrics
