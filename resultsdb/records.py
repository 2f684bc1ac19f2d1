"""Pydantic records: one per table, as rows come out of the registry.

Records are plain data. They are strict (no coercion, no unknown fields),
frozen, and every datetime is timezone-aware and normalised to UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict


def _to_utc(value: datetime) -> datetime:
    # Sessions run with TimeZone=UTC: values already in UTC are the common case.
    return value if value.tzinfo is UTC else value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
JsonObject = dict[str, Any]
NumberMap = dict[str, float | int]

ExperimentStatus = Literal["active", "completed", "failed", "archived"]
RunStatus = Literal["scheduled", "running", "completed", "failed", "killed"]
ModelVersionStatus = Literal["draft", "staging", "production", "archived"]
TrialStatus = Literal["running", "completed", "pruned", "failed"]
TradeAction = Literal["buy", "sell", "short", "cover"]
SeriesKind = Literal["equity", "trades"]
SeriesTable = Literal["equity_curves", "trade_logs"]
# What a long call (archive, restore, export, report) tells its caller as it goes:
# ``progress(done, total)``, total None while unknown. The library draws nothing itself.
Progress = Callable[[int, int | None], None]


class Record(BaseModel):
    # defer_build: a record's validator is built when first used, not at import (most never are:
    # rows of our queries are built without one, resultsdb.registry.record_row).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)


class Experiment(Record):
    id: UUID
    name: str
    description: str | None
    tags: JsonObject
    status: ExperimentStatus
    created_at: UtcDatetime
    updated_at: UtcDatetime


class Run(Record):
    id: UUID
    experiment_id: UUID
    parent_run_id: UUID | None
    name: str | None
    run_type: str
    status: RunStatus
    start_time: UtcDatetime | None
    end_time: UtcDatetime | None
    summary_metrics: NumberMap
    tags: JsonObject
    user_id: UUID | None
    error_type: str | None
    error_message: str | None
    trial_count: int
    created_at: UtcDatetime
    updated_at: UtcDatetime
    # Derived by trigger: the parameters of its configurations, then of the trial it ran.
    parameters: list[JsonObject]


class Configuration(Record):
    id: UUID
    run_id: UUID
    name: str
    config_type: str
    parameters: JsonObject
    version: int
    parent_id: UUID | None
    created_at: UtcDatetime


class Model(Record):
    id: UUID
    run_id: UUID
    config_id: UUID | None
    model_type: str
    name: str
    metadata: JsonObject
    version_count: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ModelVersion(Record):
    id: UUID
    model_id: UUID
    version: int
    run_id: UUID
    config_id: UUID | None
    commit_hash: str | None
    status: ModelVersionStatus
    metrics: NumberMap
    description: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ModelVersionTransition(Record):
    id: UUID
    model_version_id: UUID
    from_status: ModelVersionStatus | None
    to_status: ModelVersionStatus
    reason: str | None
    changed_by: str
    changed_at: UtcDatetime


class ModelArtifact(Record):
    id: UUID
    model_version_id: UUID
    artifact_type: str
    storage_path: str
    size_bytes: int
    file_format: str | None
    content_hash: str
    created_at: UtcDatetime


class DataSnapshot(Record):
    id: UUID
    run_id: UUID
    data_source: str
    start_date: UtcDatetime
    end_date: UtcDatetime
    features_hash: str
    storage_path: str | None
    content_hash: str | None
    size_bytes: int | None
    created_at: UtcDatetime


class Trial(Record):
    """A row of hyperparameter_results."""

    id: UUID
    run_id: UUID
    trial_number: int
    trial_run_id: UUID | None
    parameters: JsonObject
    objective_value: float | None
    metrics: NumberMap
    status: TrialStatus
    created_at: UtcDatetime
    updated_at: UtcDatetime
    finished_at: UtcDatetime | None


class StatusTransition(Record):
    entity: str
    from_status: str
    to_status: str


class AppliedMigration(Record):
    migration_hash: str
    migration_id: str
    applied_at: UtcDatetime


class MigrationLogEntry(Record):
    migration_id: str
    operation: str
    username: str | None
    hostname: str | None
    created_at: UtcDatetime


class PartitionInfo(Record):
    parent: str
    name: str
    bounds: str
    row_estimate: int
    total_bytes: int


class PartitionName(Record):
    name: str


class ConstraintInfo(Record):
    """A constraint as the catalog describes it (for error messages).

    A foreign key also names the table and columns it references; an index that backs no
    constraint lists only its variable-width columns, the ones that can outgrow a row.
    """

    name: str
    table_name: str
    columns: list[str]
    description: str | None
    referenced_table: str | None = None
    referenced_columns: list[str] = []



class Blob(Record):
    """A row of blobs: an object in the artifact store and when it was last claimed."""

    content_hash: str
    size_bytes: int
    created_at: UtcDatetime
    last_claimed_at: UtcDatetime


class ReferencedBlob(Record):
    """A content hash that rows reference, with how many rows and the size they record."""

    content_hash: str
    size_bytes: int | None
    reference_count: int


class BlobReference(Record):
    """One row that references a blob: a model artifact (owner: its version) or a snapshot (its run)."""

    table_name: str
    row_id: UUID
    owner_id: UUID
    content_hash: str
    size_bytes: int | None
    storage_path: str | None


class BlobTotals(Record):
    blob_count: int
    total_bytes: int

RECORD_TYPES: dict[str, type[Record]] = {
    cls.__name__: cls
    for cls in (
        Experiment, Run, Configuration, Model, ModelVersion, ModelVersionTransition,
        ModelArtifact, DataSnapshot, Trial, StatusTransition,
        ConstraintInfo, PartitionName, PartitionInfo, AppliedMigration, MigrationLogEntry,
        Blob, ReferencedBlob, BlobReference, BlobTotals,
    )
}


# -- analytics rows ---------------------------------------------------------------------


class LeaderboardRow(Record):
    rank: int
    run_id: UUID
    name: str | None
    run_type: str
    status: RunStatus
    metric: str
    value: float
    summary_metrics: NumberMap
    start_time: UtcDatetime | None
    end_time: UtcDatetime | None


class RunComparison(Record):
    run_id: UUID
    name: str | None
    run_type: str
    status: RunStatus
    summary_metrics: NumberMap
    parameters: dict[str, JsonObject]
    start_time: UtcDatetime | None
    end_time: UtcDatetime | None


class ExperimentSummary(Record):
    experiment_id: UUID
    name: str
    status: ExperimentStatus
    run_count: int
    runs_by_status: dict[str, int]
    mean_duration_s: float | None
    max_duration_s: float | None
    best_run_id: UUID | None
    best_value: float | None


class ModelSummary(Record):
    model_id: UUID
    name: str
    model_type: str
    version_count: int
    latest_version: int | None
    production_version: int | None
    production_since: UtcDatetime | None
    artifact_bytes: int


class ModelAttention(Record):
    model_id: UUID
    name: str
    production_version: int | None
    better_version: int | None
    reason: str


class LineageRow(Record):
    """model_version_lineage as it comes from SQL: JSON documents, typed by the API."""

    version: JsonObject
    model: JsonObject
    run: JsonObject
    experiment: JsonObject
    configurations: list[JsonObject]
    snapshots: list[JsonObject]
    artifacts: list[JsonObject]


RECORD_TYPES.update({
    cls.__name__: cls
    for cls in (LeaderboardRow, RunComparison, ExperimentSummary, ModelSummary, ModelAttention,
                LineageRow)
})


# -- trading statistics (sql/queries/stats_trading.sql; definitions in docs/statistics.md) --


class RunStats(Record):
    """run_trading_stats: one series' statistics; null where a statistic is undefined."""

    run_id: UUID
    model_id: UUID | None
    stats_version: int
    periods_per_year: float
    risk_free: float
    points: int
    periods: int
    start_ts: UtcDatetime | None
    end_ts: UtcDatetime | None
    total_return: float | None
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: float | None
    max_drawdown_days: float | None
    longest_drawdown_days: float | None
    calmar: float | None
    exposure: float | None
    period_win_rate: float | None
    trade_count: int
    winning_trades: int
    losing_trades: int
    win_rate: float | None
    profit_factor: float | None
    avg_win: float | None
    avg_loss: float | None


class TrialReturn(Record):
    """search_trial_returns: one period's return of one trial curve, aligned across trials."""

    run_id: UUID
    model_id: UUID | None
    ts: UtcDatetime
    ret: float | None


RECORD_TYPES.update({cls.__name__: cls for cls in (RunStats, TrialReturn)})


# -- round trips (sql/queries/trades.sql; docs/statistics.md, "Round trips") -------------

RoundTripSide = Literal["long", "short"]
RoundTripStatus = Literal["closed", "open", "unmatched"]


class RoundTrip(Record):
    """run_round_trips: quantity opened and closed by one pair of legs (``closed``), still
    open at the end of the log (``open``: exit fields None), or closed with nothing open
    (``unmatched``, a data error: entry fields None). Money in the log's currency."""

    asset: str
    side: RoundTripSide
    status: RoundTripStatus
    entry_seq: int | None
    exit_seq: int | None
    entry_ts: UtcDatetime | None
    exit_ts: UtcDatetime | None
    duration_s: float | None
    quantity: float | None
    entry_price: float | None
    exit_price: float | None
    gross_pnl: float | None
    fee: float | None
    slippage: float | None
    net_pnl: float | None
    net_return: float | None


class TradeStats(Record):
    """run_trade_stats: statistics of a series' closed round trips; None where undefined."""

    run_id: UUID
    model_id: UUID | None
    round_trips: int
    winning: int
    losing: int
    open_lots: int
    unmatched_closes: int
    win_rate: float | None
    expectancy: float | None
    avg_holding_s: float | None
    median_holding_s: float | None
    longest_win_streak: int
    longest_loss_streak: int
    best_trade: float | None
    worst_trade: float | None
    gross_pnl: float | None
    net_pnl: float | None
    fees: float | None
    slippage: float | None
    traded_notional: float | None
    mean_portfolio_value: float | None
    turnover: float | None


RECORD_TYPES.update({cls.__name__: cls for cls in (RoundTrip, TradeStats)})


# -- tear sheet (sql/queries/tearsheet.sql; docs/statistics.md, "Tear sheet") ------------


class TearSheetBenchmark(Record):
    """tearsheet_benchmark: one series against its benchmark; None where undefined."""

    run_id: UUID
    model_id: UUID | None
    periods_per_year: float
    risk_free: float
    points: int
    periods: int
    benchmark_periods: int
    paired_periods: int
    total_return: float | None
    benchmark_total_return: float | None
    excess_return: float | None
    benchmark_volatility: float | None
    benchmark_sharpe: float | None
    alpha: float | None
    beta: float | None
    r_squared: float | None
    correlation: float | None
    tracking_error: float | None
    information_ratio: float | None
    up_capture: float | None
    down_capture: float | None


class TearSheetDistribution(Record):
    """tearsheet_distribution: the shape and tails of one series' periodic returns and its
    best and worst calendar buckets; None where undefined."""

    run_id: UUID
    model_id: UUID | None
    periods_per_year: float
    omega_threshold: float
    points: int
    periods: int
    skew: float | None
    kurtosis: float | None
    var_95: float | None
    cvar_95: float | None
    var_99: float | None
    cvar_99: float | None
    tail_ratio: float | None
    omega: float | None
    best_period: float | None
    worst_period: float | None
    best_day: float | None
    worst_day: float | None
    best_month: float | None
    worst_month: float | None
    best_year: float | None
    worst_year: float | None


class PeriodReturn(Record):
    """tearsheet_monthly_returns / tearsheet_annual_returns: one UTC calendar month (or
    year: month None), returns compounded within it."""

    year: int
    month: int | None
    strategy_return: float
    benchmark_return: float | None


class DrawdownEpisode(Record):
    """tearsheet_drawdowns: one drawdown episode, ranked by depth (1 = deepest)."""

    rank: int
    peak_ts: UtcDatetime
    valley_ts: UtcDatetime
    recovery_ts: UtcDatetime | None
    depth: float
    days_to_valley: float
    days: float


class RollingPoint(Record):
    """tearsheet_rolling_*: rolling ratios at one kept point, over the window ending there."""

    ts: UtcDatetime
    periods: int
    sharpe: float | None
    volatility: float | None
    beta: float | None


RECORD_TYPES.update({cls.__name__: cls for cls in (
    TearSheetBenchmark, TearSheetDistribution, PeriodReturn, DrawdownEpisode, RollingPoint)})


# -- roles and operations (sql/queries/roles.sql, sql/queries/ops.sql) ------------------


class RoleInfo(Record):
    name: str
    can_login: bool
    member_of: list[str]


class SchemaObject(Record):
    """A relation or routine of the schema, with its owner (for `resultsdb roles`)."""

    name: str
    kind: Literal["table", "view", "materialized_view", "sequence", "foreign_table", "routine"]
    owner: str
    security_definer: bool


class ServerInfo(Record):
    server_version: str
    database: str
    user_name: str
    in_recovery: bool
    started_at: UtcDatetime


class ReplicaStatus(Record):
    in_recovery: bool
    replay_lag_s: float | None


class PartitionCoverage(Record):
    """Whether a month's partition of a run_id-partitioned table is attached."""

    parent: str
    month: UtcDatetime
    partition: str
    present: bool


class TableSize(Record):
    """A table with its partitions summed: row estimate (None until analyzed) and bytes."""

    table_name: str
    partitioned: bool
    partitions: int
    row_estimate: int | None
    total_bytes: int
    table_bytes: int
    index_bytes: int


class ArtifactUsage(Record):
    artifact_count: int
    artifact_bytes: int
    distinct_blobs: int
    distinct_bytes: int


RECORD_TYPES.update({
    cls.__name__: cls
    for cls in (RoleInfo, SchemaObject, ServerInfo, ReplicaStatus, PartitionCoverage, TableSize,
                ArtifactUsage)
})


# -- series bulk writes and partition retention ---------------------------------------


class SeriesBatch(Record):
    """One bulk write of a series (series_batches): its key, size, time span and content hash."""

    run_id: UUID
    model_id: UUID | None
    kind: SeriesKind
    batch_key: str
    row_count: int
    first_ts: UtcDatetime | None
    last_ts: UtcDatetime | None
    checksum: str
    created_at: UtcDatetime


class SeriesPartition(Record):
    """A month partition of equity_curves or trade_logs with its run-id bounds."""

    parent: SeriesTable
    name: str
    lower_bound: UUID
    upper_bound: UUID
    month: UtcDatetime


RECORD_TYPES.update({cls.__name__: cls for cls in (SeriesBatch, SeriesPartition)})


# -- browsing from the command line (sql/queries/browse.sql) ---------------------------


class ModelListing(Record):
    """A model with its latest and production version numbers, as `resultsdb ls models` shows."""

    id: UUID
    name: str
    model_type: str
    version_count: int
    experiment_id: UUID
    latest_version: int | None
    production_version: int | None
    production_version_id: UUID | None
    created_at: UtcDatetime


RECORD_TYPES.update({cls.__name__: cls for cls in (ModelListing,)})


# -- what a name or an id given on the command line refers to (sql/queries/refs.sql) ------

RefKind = Literal["experiment", "run", "model", "version"]


class RefMatch(Record):
    """A row a reference names: its kind, its id, and a label a person recognises
    (``experiment/run-name`` for a run, ``model:3 (production)`` for a version)."""

    kind: RefKind
    id: UUID
    label: str


class MetricKey(Record):
    """A summary metric some run of an experiment has."""

    key: str


RECORD_TYPES.update({cls.__name__: cls for cls in (RefMatch, MetricKey)})
