"""A PNG of a dashboard's panels drawn with matplotlib from a Prometheus's data, by the same
queries Grafana runs: the README's picture, or a quick look at any Prometheus without Grafana.

``PYTHONPATH=hack python -m fraudops_dashboards.snapshot --prometheus http://127.0.0.1:9090
--out serving.png --minutes 15``
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fraudops_dashboards import DASHBOARDS
from fraudops_dashboards.panels import DashboardSpec, PanelSpec
from fraudops_dashboards.promql import as_promql, legend

#: Units as axis labels, with the factor that brings values to them.
UNITS = {
    "s": ("ms", 1000.0),
    "percentunit": ("%", 100.0),
    "reqps": ("requests/s", 1.0),
    "ops": ("transactions/s", 1.0),
    "rowsps": ("rows/s", 1.0),
}
COLUMNS = 2
DPI = 80


@dataclass(frozen=True)
class Series:
    """One series of a panel: its legend, times and values."""

    name: str
    times: list[datetime]
    values: np.ndarray


def fetch(prometheus: str, expr: str, start: float, end: float, step: float) -> list[dict]:
    """``query_range`` of ``expr``; an error answer raises with Prometheus's message."""
    response = httpx.get(
        f"{prometheus}/api/v1/query_range",
        params={"query": as_promql(expr), "start": start, "end": end, "step": step},
        timeout=30.0,
    )
    body = response.json()
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body.get('error')}")
    return body["data"]["result"]


def panel_series(
    prometheus: str, panel: PanelSpec, start: float, end: float, step: float
) -> list[Series]:
    """Every series of the panel's queries, legends filled in."""
    found = []
    for query in panel.queries:
        for result in fetch(prometheus, query.expr, start, end, step):
            times = [datetime.fromtimestamp(float(t), UTC) for t, _ in result["values"]]
            values = np.array([float(v) for _, v in result["values"]])
            found.append(Series(legend(query.legend, result["metric"]), times, values))
    return found


def _scaled(panel: PanelSpec, series: Series) -> np.ndarray:
    return series.values * UNITS.get(panel.unit, ("", 1.0))[1]


def draw_timeseries(axes: Axes, panel: PanelSpec, series: Sequence[Series]) -> None:
    """Lines, or stacked areas for a stacked panel."""
    if panel.stacked and len(series) > 1 and len({len(s.times) for s in series}) == 1:
        values = [np.nan_to_num(_scaled(panel, s)) for s in series]
        axes.stackplot(series[0].times, values, labels=[s.name for s in series], alpha=0.7)
    else:
        for item in series:
            axes.plot(item.times, _scaled(panel, item), label=item.name, linewidth=1.4)
    axes.set_ylabel(UNITS.get(panel.unit, ("", 1.0))[0])
    axes.set_ylim(bottom=0)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    axes.legend(fontsize=7, loc="upper left", ncol=2)
    axes.grid(alpha=0.3)


def draw_heatmap(axes: Axes, series: Sequence[Series]) -> None:
    """Buckets of a cumulative histogram as a heatmap: count per bucket over time."""
    ordered = sorted(series, key=lambda s: float(s.name) if s.name != "+Inf" else math.inf)
    cumulative = np.nan_to_num(np.array([s.values for s in ordered]))
    counts = np.diff(cumulative, axis=0, prepend=0.0)
    image = axes.imshow(
        counts, aspect="auto", origin="lower", cmap="inferno", interpolation="nearest"
    )
    axes.set_yticks(range(len(ordered)), [s.name for s in ordered], fontsize=7)
    axes.set_ylabel("fraud score ≤")
    axes.set_xticks([])
    axes.figure.colorbar(image, ax=axes, label="transactions per minute")


def draw_values(axes: Axes, panel: PanelSpec, series: Sequence[Series]) -> None:
    """A stat or table panel: the last value of each series as text."""
    axes.axis("off")
    lines = []
    for item in series:
        last = item.values[~np.isnan(item.values)]
        value = f"{last[-1]:.4g}" if last.size else "—"
        lines.append(f"{item.name}: {value}")
    axes.text(0.02, 0.95, "\n".join(lines), va="top", fontsize=10, family="monospace")


def render(
    prometheus: str, dashboard: DashboardSpec, out: Path, start: float, end: float
) -> list[str]:
    """Draw every panel of ``dashboard`` into ``out`` (PNG); the titles of those with data."""
    panels = dashboard.panels()
    step = max(1.0, (end - start) / 240)
    slots: list[tuple[PanelSpec, int]] = []
    for panel in panels:
        slots.append((panel, COLUMNS if panel.width >= 24 else 1))
    rows, column = 0, 0
    placed: list[tuple[PanelSpec, int, int, int]] = []
    for panel, span in slots:
        if column + span > COLUMNS:
            rows, column = rows + 1, 0
        placed.append((panel, rows, column, span))
        column += span
    figure = Figure(figsize=(14, 3.2 * (rows + 1)), dpi=DPI)
    grid = figure.add_gridspec(rows + 1, COLUMNS, hspace=0.55, wspace=0.18, top=0.93, bottom=0.03)
    with_data = []
    for panel, row, column, span in placed:
        axes = figure.add_subplot(grid[row, column : column + span])
        axes.set_title(panel.title, fontsize=11, loc="left")
        series = panel_series(prometheus, panel, start, end, step)
        if series:
            with_data.append(panel.title)
        if panel.kind == "heatmap" and series:
            draw_heatmap(axes, series)
        elif panel.kind in ("stat", "table"):
            draw_values(axes, panel, series)
        elif series:
            draw_timeseries(axes, panel, series)
    figure.suptitle(f"{dashboard.title} — from Prometheus data", fontsize=14, x=0.01, ha="left")
    figure.savefig(out, dpi=DPI, bbox_inches="tight")
    return with_data


def main(argv: Sequence[str] | None = None) -> None:
    """Render a dashboard from a running Prometheus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", required=True, help="base URL, e.g. http://127.0.0.1:9090")
    parser.add_argument("--out", type=Path, required=True, help="PNG file to write")
    parser.add_argument("--minutes", type=float, default=15.0, help="time range ending now")
    parser.add_argument(
        "--dashboard", default="fraudops-serving", choices=[d.uid for d in DASHBOARDS]
    )
    args = parser.parse_args(argv)
    (dashboard,) = [d for d in DASHBOARDS if d.uid == args.dashboard]
    end = time.time()
    drawn = render(args.prometheus, dashboard, args.out, end - args.minutes * 60, end)
    print(f"wrote {args.out}: {len(drawn)} of {len(dashboard.panels())} panels with data")


if __name__ == "__main__":
    main()
