"""Repositories: plain functions over named queries, one module per subject.

Every function takes a psycopg connection first (as aiosql does) and returns
records from :mod:`resultsdb.records`. Input is validated by
:mod:`resultsdb.inputs` before any SQL runs. Run writes inside
``Database.write`` (or ``Database.transaction``) so that database errors
arrive as :mod:`resultsdb.errors` and several calls commit together::

    from resultsdb.repositories import experiments, runs

    exp = db.write(lambda conn: experiments.create(conn, {"name": "momentum", "tags": ["btc"]}))
    run = db.write(lambda conn: runs.create(conn, {"experiment_id": exp.id, "run_type": "backtest"}))
    recent = db.read(lambda conn: runs.most_recent(conn, limit=5))

A missing row is :class:`resultsdb.errors.NotFound`; rejected input is
:class:`resultsdb.errors.InvalidInput`, naming the field.
"""

from resultsdb.repositories import (
    configurations,
    data_snapshots,
    experiments,
    models,
    runs,
    series,
    trials,
)

__all__ = ["configurations", "data_snapshots", "experiments", "models", "runs", "series", "trials"]
