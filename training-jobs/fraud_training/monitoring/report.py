"""The production-monitor report, for a person: a self-contained HTML page and terminal tables.

The HTML has no script and no external resource (styles inline, the PSI chart as inline SVG),
so it opens the same from an MLflow artifact view, a file or a mail attachment. Every value
that comes from the data (feature names, model versions) is escaped.
"""

from __future__ import annotations

from html import escape

from rich.console import Console
from rich.table import Table

from fraud_training.monitoring.drift import ColumnDrift
from fraud_training.monitoring.monitor import DRIFTING, NOT_ENOUGH_DATA, MonitorReport

_VERDICT_COLOURS = {DRIFTING: "#b42318", NOT_ENOUGH_DATA: "#8a6d00"}
_BAND_COLOURS = {"major": "#d92d20", "moderate": "#f79009", "stable": "#12b76a"}
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#101828;
background:#f9fafb}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#475467;margin-bottom:16px}
.verdict{display:inline-block;padding:6px 14px;border-radius:6px;color:#fff;font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
.card{background:#fff;border:1px solid #eaecf0;border-radius:8px;padding:12px 16px;min-width:130px}
.card .k{color:#475467;font-size:12px;text-transform:uppercase}
.card .v{font-size:22px;font-weight:600}
table{border-collapse:collapse;background:#fff;border:1px solid #eaecf0;font-size:13px}
th,td{padding:5px 10px;border-bottom:1px solid #eaecf0;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f2f4f7}
.drifted td{background:#fef3f2;font-weight:600}
.note{color:#475467;font-size:12px;margin-top:6px}
"""


def render_html(report: MonitorReport) -> str:
    """The whole report as one HTML document."""
    result = report.result()
    verdict = report.verdict
    colour = _VERDICT_COLOURS.get(verdict, "#067647")
    cards = [
        ("rows", f"{report.traffic.rows:,}"),
        ("drift score (max PSI)", _number(result["driftScore"])),
        ("drifted features", str(len(result["driftedFeatures"]))),  # type: ignore[arg-type]
        ("live precision", _percent(report.live.precision)),
        ("live recall", _percent(report.live.recall)),
        ("labelled rows", f"{report.live.labelled_rows:,}"),
    ]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>FraudOps monitor: {escape(report.model)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Production monitor: {escape(report.model)}</h1>",
        f"<div class='sub'>window {_when(report.start)} to {_when(report.end)} "
        f"&middot; generated {_when(report.generated_at)}</div>",
        f"<span class='verdict' style='background:{colour}'>{escape(verdict.upper())}</span>",
        "<div class='cards'>",
        *(
            f"<div class='card'><div class='k'>{escape(k)}</div><div class='v'>{v}</div></div>"
            for k, v in cards
        ),
        "</div>",
        _drift_section(report),
        _live_section(report),
        _traffic_section(report),
        "</body></html>",
    ]
    return "\n".join(parts)


def _drift_section(report: MonitorReport) -> str:
    if report.drift is None:
        return (
            "<h2>Drift</h2><p>Not enough data: "
            f"{report.traffic.healthy_rows:,} audited predictions with online history in the "
            f"window, at least {report.options.min_rows:,} are needed for a drift verdict.</p>"
        )
    bands = report.options.bands
    columns = report.feature_drift
    score = report.score_drift
    rows = [_drift_row(column) for column in ([score] if score else []) + columns]
    skipped = "".join(
        f"<li>{escape(name)}: {escape(reason)}</li>"
        for name, reason in report.drift.skipped.items()
    )
    return (
        "<h2>Drift against the training profile</h2>"
        + _psi_chart(([score] if score else []) + columns, bands.moderate, bands.major)
        + "<table><tr><th>column</th><th>PSI</th><th>band</th><th>chi-square</th>"
        "<th>q (BH)</th><th>training mean</th><th>window mean</th><th>verdict</th></tr>"
        + "".join(rows)
        + "</table>"
        + f"<div class='note'>PSI bands {bands.moderate} / {bands.major}; drifted = major band "
        f"and chi-square test rejected at a false-discovery rate of {bands.fdr:.0%} "
        "(Benjamini-Hochberg over all columns).</div>"
        + (f"<p>Not judged:</p><ul>{skipped}</ul>" if skipped else "")
    )


def _drift_row(column: ColumnDrift) -> str:
    marker = " class='drifted'" if column.drifted else ""
    colour = _BAND_COLOURS[column.band]
    return (
        f"<tr{marker}><td>{escape(column.name)}</td><td>{column.psi:.3f}</td>"
        f"<td style='color:{colour}'>{column.band}</td><td>{column.chi2:,.1f}</td>"
        f"<td>{column.q_value:.2g}</td><td>{column.reference_mean:.4g}</td>"
        f"<td>{column.window_mean:.4g}</td><td>{'DRIFTED' if column.drifted else 'ok'}</td></tr>"
    )


def _psi_chart(columns: list[ColumnDrift], moderate: float, major: float) -> str:
    """Horizontal PSI bars, one per column, with the two band lines."""
    if not columns:
        return ""
    label_w, bar_w, row_h = 190, 460, 18
    top = max(max(c.psi for c in columns), major * 1.2)
    height = row_h * len(columns) + 24
    scale = bar_w / top
    bars = []
    for i, column in enumerate(columns):
        y = i * row_h + 4
        width = max(column.psi * scale, 1.0)
        bars.append(
            f"<text x='{label_w - 6}' y='{y + 12}' text-anchor='end' font-size='12'>"
            f"{escape(column.name)}</text>"
            f"<rect x='{label_w}' y='{y}' width='{width:.1f}' height='{row_h - 5}' "
            f"fill='{_BAND_COLOURS[column.band]}'/>"
            f"<text x='{label_w + width + 4:.1f}' y='{y + 12}' font-size='11'>"
            f"{column.psi:.3f}</text>"
        )
    lines = "".join(
        f"<line x1='{label_w + value * scale:.1f}' x2='{label_w + value * scale:.1f}' y1='0' "
        f"y2='{height - 16}' stroke='#667085' stroke-dasharray='4 3'/>"
        f"<text x='{label_w + value * scale:.1f}' y='{height - 4}' font-size='11' "
        f"text-anchor='middle'>{value}</text>"
        for value in (moderate, major)
    )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{label_w + bar_w + 60}' "
        f"height='{height}' role='img' aria-label='PSI per column'>{''.join(bars)}{lines}</svg>"
    )


def _live_section(report: MonitorReport) -> str:
    rows = [("all versions", report.live), *report.live_by_version.items()]
    body = "".join(
        f"<tr><td>{escape(name)}</td><td>{live.labelled_rows:,}</td><td>{live.frauds:,}</td>"
        f"<td>{_percent(live.precision)}</td><td>{_percent(live.recall)}</td>"
        f"<td>{_percent(live.decline_precision)}</td><td>{_number(live.pr_auc)}</td>"
        f"<td>{_money(live.cost)}</td><td>{_number(live.label_lag_p50_hours, 1)}</td>"
        f"<td>{_number(live.label_lag_p90_hours, 1)}</td></tr>"
        for name, live in rows
    )
    return (
        "<h2>Live performance (labelled rows, served decisions)</h2>"
        "<table><tr><th>model version</th><th>labelled</th><th>frauds</th><th>precision</th>"
        "<th>recall</th><th>decline precision</th><th>PR-AUC</th><th>cost</th>"
        "<th>label lag p50 (h)</th><th>p90 (h)</th></tr>" + body + "</table>"
        "<div class='note'>Flagged = reviewed or declined. Labels are chargebacks and review "
        "outcomes, not a random sample: compare windows and versions, not absolute levels."
        "</div>"
    )


def _traffic_section(report: MonitorReport) -> str:
    traffic = report.traffic
    mix = "".join(
        f"<tr><td>{escape(decision)}</td><td>{share:.1%}</td></tr>"
        for decision, share in traffic.decision_mix.items()
    )
    versions = "".join(
        f"<tr><td>{escape(version)}</td><td>{rows:,}</td></tr>"
        for version, rows in traffic.versions.items()
    )
    latency = "".join(
        f"<tr><td>{escape(name)}</td><td>{value:.2f} ms</td></tr>"
        for name, value in traffic.latency_ms.items()
    )
    return (
        "<h2>Traffic</h2>"
        f"<p>{traffic.rows:,} predictions ({traffic.rows_per_hour:,.0f} per hour); labelled "
        f"fraud rate {_percent(traffic.labelled_fraud_rate)}; scored without online history "
        f"(left out of drift) {_percent(traffic.degraded_share)}.</p>"
        "<div class='cards'>"
        f"<table><tr><th>decision</th><th>share</th></tr>{mix}</table>"
        f"<table><tr><th>latency</th><th>ms</th></tr>{latency}</table>"
        f"<table><tr><th>model version</th><th>rows</th></tr>{versions}</table>"
        "</div>"
    )


def print_report(report: MonitorReport, console: Console) -> None:
    """The same report as terminal text: verdict, drift and live-metric lines."""
    result = report.result()
    console.print(
        f"[bold]Production monitor: {report.model}[/bold]  "
        f"{_when(report.start)} to {_when(report.end)}"
    )
    console.print(
        f"verdict: [bold]{report.verdict.upper()}[/bold]  rows {report.traffic.rows:,}  "
        f"drift score {_number(result['driftScore'])}  "
        f"drifted {', '.join(result['driftedFeatures']) or 'none'}"  # type: ignore[arg-type]
    )
    live = report.live
    console.print(
        f"live: precision {_percent(live.precision)}  recall {_percent(live.recall)}  "
        f"PR-AUC {_number(live.pr_auc)}  labelled {live.labelled_rows:,}  "
        f"cost {_money(live.cost)}  label lag p50 {_number(live.label_lag_p50_hours, 1)} h"
    )
    if report.drift is None:
        console.print(
            f"drift: not enough data ({report.traffic.healthy_rows:,} rows with online history, "
            f"at least {report.options.min_rows:,} needed)"
        )
        return
    table = Table(title="Drift against the training profile")
    for heading in ("column", "PSI", "band", "q (BH)", "train mean", "window mean", ""):
        table.add_column(heading, justify="left" if heading in ("column", "band") else "right")
    score = report.score_drift
    for column in ([score] if score else []) + report.feature_drift:
        table.add_row(
            column.name,
            f"{column.psi:.3f}",
            column.band,
            f"{column.q_value:.2g}",
            f"{column.reference_mean:.4g}",
            f"{column.window_mean:.4g}",
            "[red]DRIFTED[/red]" if column.drifted else "",
        )
    console.print(table)
    traffic = report.traffic
    mix = "  ".join(f"{k} {v:.1%}" for k, v in traffic.decision_mix.items())
    latency = "  ".join(f"{k} {v:.1f} ms" for k, v in traffic.latency_ms.items())
    console.print(f"decisions: {mix}")
    console.print(f"latency: {latency}")
    console.print("versions: " + "  ".join(f"{k} {v:,}" for k, v in traffic.versions.items()))


def _when(moment: object) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")  # type: ignore[attr-defined]


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _number(value: object, digits: int = 3) -> str:
    return "n/a" if value is None else f"{float(value):.{digits}f}"  # type: ignore[arg-type]


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"
