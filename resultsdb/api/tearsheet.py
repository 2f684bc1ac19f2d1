"""The curve part of a tear sheet on ResultsDB, computed in SQL (docs/statistics.md,
"Tear sheet"): benchmark-relative statistics, the distribution of returns, calendar
returns, drawdown episodes and rolling ratios. Needs only the core install."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from resultsdb.api.base import Base, Ref
from resultsdb.errors import InvalidInput
from resultsdb.fields import FiniteFloat, shown
from resultsdb.inputs import ref_id, validate_value
from resultsdb.records import (
    DrawdownEpisode,
    Model,
    PeriodReturn,
    RollingPoint,
    Run,
    TearSheetBenchmark,
    TearSheetDistribution,
)
from resultsdb.repositories import models
from resultsdb.repositories import tearsheet as tearsheet_repo
from resultsdb.repositories.common import Connection

if TYPE_CHECKING:
    from resultsdb.api.tearsheet_frames import TearSheetFrames

MAX_POINTS = 100_000  # rows of a rolling series: a plot, not an export
MAX_TOP = 1_000
MAX_RUNS = 100  # sheets side by side: a comparison, not a batch job


@dataclass(frozen=True)
class TearSheet:
    """Every part of a series' tear sheet, read by one call (each part its own statement)."""

    benchmark: TearSheetBenchmark
    distribution: TearSheetDistribution
    monthly_returns: list[PeriodReturn]
    annual_returns: list[PeriodReturn]
    drawdowns: list[DrawdownEpisode]
    rolling: list[RollingPoint]


@dataclass(frozen=True)
class TearSheets:
    """Several runs' sheets, in the order asked for, read in one call."""

    sheets: list[TearSheet]

    def __iter__(self) -> Iterator[TearSheet]:
        return iter(self.sheets)

    def __len__(self) -> int:
        return len(self.sheets)

    def __getitem__(self, index: int) -> TearSheet:
        return self.sheets[index]

    def frames(self) -> TearSheetFrames:
        """The sheets as pandas DataFrames, side by side (needs the ``series`` extra)."""
        from resultsdb.api.tearsheet_frames import frames

        return frames(self.sheets)


def _rate(value: object, field: str) -> float:
    """A finite annual rate > -1 ((1 + rate) ** (1 / P) must be real)."""
    try:
        rate = float(validate_value(field, value, FiniteFloat))
    except InvalidInput:
        rate = math.nan
    if not rate > -1:
        raise InvalidInput(f"{field}: must be a finite annual rate > -1, got {shown(value)}",
                           field=field)
    return rate


def _periods_per_year(value: object) -> float:
    try:
        ppy = float(validate_value("periods_per_year", value, FiniteFloat))
    except InvalidInput:
        ppy = math.nan
    if not ppy > 0:
        raise InvalidInput(f"periods_per_year: must be a finite number > 0, got {shown(value)}",
                           field="periods_per_year")
    return ppy


def _count(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{field}: must be an integer from {low} to {high}, got {shown(value)}",
                           field=field)
    return value


def _window(value: object) -> int | timedelta:
    """A number of returns (>= 2) or a positive time span of whole microseconds."""
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise InvalidInput(f"rolling_window: a time span must be positive, got {value}",
                               field="rolling_window")
        return value
    return _count(value, "rolling_window", 2, 2**62)


class TearSheetAPI(Base):
    def tear_sheet(self, run: Ref, *, model: Ref | None = None, periods_per_year: float = 252,
                   risk_free: float = 0.0, omega_threshold: float = 0.0, top_drawdowns: int = 5,
                   rolling_window: int | timedelta = 126, points: int = 500) -> TearSheet:
        """The curve part of a tear sheet of ``run``'s series for ``model`` (None: the run's
        own series), every number computed in SQL (each part one statement).

        ``periods_per_year`` (P) annualises; ``risk_free`` and ``omega_threshold`` are
        annual rates, converted to one period as (1 + rate) ** (1 / P) - 1.
        ``rolling_window`` is a number of returns or a ``timedelta``; the rolling series is
        downsampled to at most ``points`` rows. Undefined numbers are None. NotFound when
        the run (or the model) does not exist.
        """
        sheet, = _sheets([run], "run_id", model, periods_per_year, risk_free, omega_threshold,
                         top_drawdowns, rolling_window, points)
        return self.db.read(sheet.read)

    def tear_sheets(self, runs: Sequence[Ref], *, model: Ref | None = None,
                    periods_per_year: float = 252, risk_free: float = 0.0,
                    omega_threshold: float = 0.0, top_drawdowns: int = 5,
                    rolling_window: int | timedelta = 126, points: int = 500) -> TearSheets:
        """``tear_sheet`` of each of ``runs`` (a list or tuple of 1 to 100 runs, in that
        order), with the same arguments, in one call. ``.frames()`` of the result gives
        them side by side as pandas DataFrames. NotFound when any run does not exist."""
        if isinstance(runs, (str, bytes)) or not isinstance(runs, Sequence):
            raise InvalidInput(f"runs: must be a list of runs, got {shown(runs)}", field="runs")
        if not 1 <= len(runs) <= MAX_RUNS:
            raise InvalidInput(f"runs: must hold 1 to {MAX_RUNS} runs, got {len(runs)}",
                               field="runs")
        sheets = _sheets(runs, "runs", model, periods_per_year, risk_free, omega_threshold,
                         top_drawdowns, rolling_window, points)
        return TearSheets(self.db.read(lambda conn: [s.read(conn) for s in sheets]))


@dataclass(frozen=True)
class _Sheet:
    """One sheet's checked arguments, and how it is read."""

    run_id: UUID
    model_id: UUID | None
    ppy: float
    rf: float
    tau: float
    top: int
    window: int | timedelta
    n: int

    def read(self, conn: Connection) -> TearSheet:
        run_id, model_id = self.run_id, self.model_id
        bench = tearsheet_repo.benchmark(conn, run_id, model_id, periods_per_year=self.ppy,
                                         risk_free=self.rf)
        if model_id is not None and bench.points == 0:
            models.get(conn, model_id)  # no series: NotFound when there is no such model
        return TearSheet(
            benchmark=bench,
            distribution=tearsheet_repo.distribution(conn, run_id, model_id,
                                                     periods_per_year=self.ppy,
                                                     omega_threshold=self.tau),
            monthly_returns=tearsheet_repo.monthly_returns(conn, run_id, model_id),
            annual_returns=tearsheet_repo.annual_returns(conn, run_id, model_id),
            drawdowns=tearsheet_repo.drawdowns(conn, run_id, model_id, top=self.top),
            rolling=tearsheet_repo.rolling(conn, run_id, model_id, window=self.window,
                                           points=self.n, periods_per_year=self.ppy,
                                           risk_free=self.rf),
        )


def _sheets(runs: Sequence[Ref], field: str, model: Ref | None, periods_per_year: object, risk_free: object,
            omega_threshold: object, top_drawdowns: object, rolling_window: object,
            points: object) -> list[_Sheet]:
    """Every argument checked (InvalidInput naming it, ``field`` for a run), one _Sheet per
    run."""
    ppy = _periods_per_year(periods_per_year)
    rf = _rate(risk_free, "risk_free")
    tau = _rate(omega_threshold, "omega_threshold")
    top = _count(top_drawdowns, "top_drawdowns", 1, MAX_TOP)
    window = _window(rolling_window)
    n = _count(points, "points", 1, MAX_POINTS)
    run_ids = [ref_id(run, field=field, table="runs", kind=Run) for run in runs]
    model_id = (None if model is None
                else ref_id(model, field="model_id", table="equity_curves", kind=Model))
    return [_Sheet(run_id, model_id, ppy, rf, tau, top, window, n) for run_id in run_ids]
