"""Reports a person can open: equity curve, benchmark and drawdown as PNG, and a
self-contained HTML page (the PNG embedded) with the run's statistics.

:func:`run_report` writes one run's page, :func:`comparison_report` one page for
several runs side by side, :func:`write_reports` both as ``resultsdb report``
does. Statistics come from :func:`resultsdb.stats.trading.run_stats` (SQL); the
drawdown panel is recomputed from the curve, so curves stored without a drawdown
column plot too.
"""

from __future__ import annotations

from resultsdb.extras import require

require("series", "resultsdb.report")
require("report", "resultsdb.report")

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter, StrMethodFormatter

from resultsdb import series
from resultsdb.api import ResultsDB
from resultsdb.errors import InvalidInput
from resultsdb.records import Progress, Run, RunStats
from resultsdb.stats import trading

# (key, label, how to show it) for the statistics table, in reading order.
STAT_ROWS: tuple[tuple[str, str, str], ...] = (
    ("total_return", "Total return", "pct"), ("cagr", "CAGR", "pct"),
    ("volatility", "Volatility (ann.)", "pct"), ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"), ("calmar", "Calmar", "num"),
    ("max_drawdown", "Max drawdown", "pct"), ("max_drawdown_days", "Max drawdown (days)", "int"),
    ("longest_drawdown_days", "Longest drawdown (days)", "int"),
    ("exposure", "Exposure", "pct"), ("period_win_rate", "Winning periods", "pct"),
    ("trade_count", "Trades", "int"), ("win_rate", "Winning trades", "pct"),
    ("profit_factor", "Profit factor", "num"), ("avg_win", "Average win", "num"),
    ("avg_loss", "Average loss", "num"), ("points", "Curve points", "int"),
)
DPI = 110
MAX_PLOT_POINTS = 20_000  # beyond this, a plot shows no more than a downsampled curve does

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; }
h1 { font-size: 1.4em; margin-bottom: .2em; } .meta { color: #666; margin-top: 0; }
img { max-width: 100%; border: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1em 0; font-size: .92em; }
th, td { border-bottom: 1px solid #e4e4e4; padding: .3em .8em; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f4f4f4; }
a { color: #1f5fa8; }
"""


@dataclass
class ReportResult:
    """The files a report wrote: one page per run, and the comparison page when several."""

    out_dir: Path
    pages: list[Path] = field(default_factory=list)
    images: list[Path] = field(default_factory=list)
    comparison: Path | None = None


# -- data -------------------------------------------------------------------------------


def _curve(rdb: ResultsDB, run_id: Any) -> pd.DataFrame:
    """The run's curve indexed by ts, with drawdown recomputed from portfolio_value."""
    data = series.read_equity(rdb.db, run_id).set_index("ts")
    if len(data) > MAX_PLOT_POINTS:
        span = data.index[-1] - data.index[0]
        data = series.read_equity(rdb.db, run_id, every=span / (MAX_PLOT_POINTS // 4)).set_index("ts")
    data["drawdown"] = data["portfolio_value"] / data["portfolio_value"].cummax() - 1
    return data


def _label(run: Run) -> str:
    return run.name or str(run.id)


# -- plots ------------------------------------------------------------------------------


def _axes() -> tuple[Any, Any, Any]:
    # A Figure of its own, not pyplot's: no global backend or figure registry is touched
    # (the caller's matplotlib set-up stays as it was), and it is safe in threads.
    fig = Figure(figsize=(11, 6.5))
    top, bottom = fig.subplots(2, 1, sharex=True,
                               gridspec_kw={"height_ratios": [3, 1], "hspace": 0.08})
    return fig, top, bottom


def _finish(fig: Any, top: Any, bottom: Any, path: Path) -> Path:
    top.grid(alpha=0.3)
    bottom.grid(alpha=0.3)
    bottom.set_ylabel("Drawdown")
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    locator = mdates.AutoDateLocator()
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    fig.align_ylabels([top, bottom])
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return path


def plot_run(curve: pd.DataFrame, title: str, path: str | Path, subtitle: str = "") -> Path:
    """Equity with benchmark above, drawdown below, shared date axis; a PNG at ``path``."""
    if curve.empty:
        raise InvalidInput(f"report: {title} has no equity curve to plot", field="run")
    fig, top, bottom = _axes()
    top.plot(curve.index, curve["portfolio_value"], color="#1f77b4", lw=1.4, label="Strategy")
    if curve["benchmark_value"].notna().any():
        top.plot(curve.index, curve["benchmark_value"], color="#7f7f7f", lw=1.1, alpha=0.9,
                 label="Benchmark (buy & hold)")
    top.set_title(title, fontsize=12, loc="left")
    if subtitle:
        top.set_title(subtitle, fontsize=9, loc="right", color="#555")
    top.set_ylabel("Portfolio value")
    top.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    top.legend(loc="upper left", frameon=False)
    bottom.fill_between(curve.index, curve["drawdown"], 0, color="#d62728", alpha=0.35, lw=0)
    bottom.plot(curve.index, curve["drawdown"], color="#d62728", lw=0.8)
    return _finish(fig, top, bottom, Path(path))


def plot_comparison(curves: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """Several runs rebased to 100 at their first point, and their drawdowns; a PNG."""
    fig, top, bottom = _axes()
    benchmark_drawn = False
    for i, (label, curve) in enumerate(curves.items()):
        if curve.empty:
            continue
        color = f"C{i % 10}"
        top.plot(curve.index, 100 * curve["portfolio_value"] / curve["portfolio_value"].iloc[0],
                 color=color, lw=1.3, label=label)
        bottom.plot(curve.index, curve["drawdown"], color=color, lw=0.9)
        bench = curve["benchmark_value"].dropna()
        if not benchmark_drawn and not bench.empty:
            top.plot(bench.index, 100 * bench / bench.iloc[0], color="#7f7f7f", lw=1.0,
                     ls="--", label="Benchmark (buy & hold)")
            benchmark_drawn = True
    top.set_title("Equity, rebased to 100", fontsize=12, loc="left")
    top.set_ylabel("Value (start = 100)")
    top.legend(loc="upper left", frameon=False, fontsize=9)
    return _finish(fig, top, bottom, Path(path))


# -- pages ------------------------------------------------------------------------------


def _fmt(value: Any, how: str) -> str:
    if value is None:
        return "n/a"
    if how == "pct":
        return f"{value:.2%}"
    if how == "int":
        return f"{value:,.0f}"
    return f"{value:,.3f}"


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="equity curve and drawdown" src="data:image/png;base64,{data}">'


def _page(title: str, meta: str, body: str) -> str:
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n"
            f"<h1>{html.escape(title)}</h1><p class=\"meta\">{meta}</p>\n{body}\n</body></html>\n")


def _stats_table(columns: list[str], stats: list[RunStats]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = "".join(
        f"<tr><td>{label}</td>"
        + "".join(f"<td>{_fmt(getattr(s, key), how)}</td>" for s in stats) + "</tr>"
        for key, label, how in STAT_ROWS)
    return f"<table><thead><tr><th>Statistic</th>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _meta(run: Run, stats: RunStats) -> str:
    span = (f"{stats.start_ts:%Y-%m-%d} &ndash; {stats.end_ts:%Y-%m-%d}" if stats.start_ts and stats.end_ts
            else "no curve")
    return (f"run {run.id} · {html.escape(run.run_type)} · {run.status} · {span} · "
            f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


def run_report(rdb: ResultsDB, run: Any, out_dir: str | Path, *,
               periods_per_year: float = 252) -> tuple[Path, Path]:
    """Write ``run-<id>.png`` and ``run-<id>.html`` into ``out_dir``; (page, image)."""
    out = Path(out_dir)
    record = rdb.get_run(run)
    stats = trading.run_stats(rdb.db, record.id, periods_per_year=periods_per_year)
    subtitle = " · ".join(f"{label} {_fmt(getattr(stats, key), how)}" for key, label, how in (
        ("total_return", "return", "pct"), ("sharpe", "Sharpe", "num"),
        ("max_drawdown", "max drawdown", "pct")))
    image = plot_run(_curve(rdb, record.id), _label(record), out / f"run-{record.id}.png",
                     subtitle)
    configs = rdb.compare_runs([record.id])[0].parameters
    params = ""
    if configs:
        rows = "".join(f"<tr><td>{html.escape(f'{name}.{k}')}</td><td>{html.escape(str(v))}</td></tr>"
                       for name, p in configs.items() for k, v in p.items())
        params = ("<h2>Parameters</h2><table><thead><tr><th>Parameter</th><th>Value</th></tr>"
                  f"</thead><tbody>{rows}</tbody></table>")
    body = _img(image) + "<h2>Statistics</h2>" + _stats_table([_label(record)], [stats]) + params
    page = out / f"run-{record.id}.html"
    page.write_text(_page(_label(record), _meta(record, stats), body), encoding="utf-8")
    return page, image


def comparison_report(rdb: ResultsDB, runs: Sequence[Any], out_dir: str | Path, *,
                      periods_per_year: float = 252, links: dict[Any, str] | None = None) -> Path:
    """Write ``compare.png`` and ``compare.html``: the runs' curves and statistics side by side."""
    out = Path(out_dir)
    records = [rdb.get_run(r) for r in runs]
    labels = [_label(r) for r in records]
    if len(set(labels)) != len(labels):
        labels = [f"{label} ({str(r.id)[-6:]})" for label, r in zip(labels, records, strict=True)]
    stats = [trading.run_stats(rdb.db, r.id, periods_per_year=periods_per_year) for r in records]
    image = plot_comparison({lab: _curve(rdb, r.id) for lab, r in zip(labels, records, strict=True)},
                            out / "compare.png")
    compared = rdb.compare_runs([r.id for r in records])
    names = sorted({f"{cfg}.{k}" for c in compared for cfg, p in c.parameters.items() for k in p})
    params = ""
    if names:
        def cell(c: Any, name: str) -> str:
            config, key = name.split(".", 1)
            return html.escape(str(c.parameters.get(config, {}).get(key, "n/a")))

        rows = "".join(f"<tr><td>{html.escape(n)}</td>"
                       + "".join(f"<td>{cell(c, n)}</td>" for c in compared) + "</tr>"
                       for n in names)
        head = "".join(f"<th>{html.escape(lab)}</th>" for lab in labels)
        params = (f"<h2>Parameters</h2><table><thead><tr><th>Parameter</th>{head}</tr></thead>"
                  f"<tbody>{rows}</tbody></table>")
    pages = ""
    if links:
        pages = "<h2>Runs</h2><ul>" + "".join(
            f'<li><a href="{html.escape(links[r.id])}">{html.escape(lab)}</a></li>'
            for lab, r in zip(labels, records, strict=True) if r.id in links) + "</ul>"
    body = (_img(image) + "<h2>Statistics</h2>" + _stats_table(labels, stats) + params + pages)
    page = out / "compare.html"
    meta = f"{len(records)} runs · generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    page.write_text(_page("Run comparison", meta, body), encoding="utf-8")
    return page


def write_reports(rdb: ResultsDB, runs: Sequence[Any], out_dir: str | Path, *,
                  periods_per_year: float = 252, progress: Progress | None = None
                  ) -> ReportResult:
    """A page per run into ``out_dir`` (created), and a comparison page for two or more runs.
    ``progress(pages, total)``, if given, hears of each page written.

    Example: ``write_reports(rdb, [best.trial_run_id], "reports/")``
    """
    if not runs:
        raise InvalidInput("runs: name at least one run to report on", field="runs")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = ReportResult(out)
    links: dict[Any, str] = {}
    total = len(runs) + (1 if len(runs) > 1 else 0)
    for run in runs:
        if progress is not None:
            progress(len(result.pages), total)
        page, image = run_report(rdb, run, out, periods_per_year=periods_per_year)
        result.pages.append(page)
        result.images.append(image)
        links[rdb.get_run(run).id] = page.name
    if len(runs) > 1:
        if progress is not None:
            progress(len(result.pages), total)
        result.comparison = comparison_report(rdb, runs, out, periods_per_year=periods_per_year,
                                              links=links)
        result.pages.append(result.comparison)
        result.images.append(out / "compare.png")
    if progress is not None:
        progress(len(result.pages), total)
    return result
