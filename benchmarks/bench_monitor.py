"""Monitor-pass benchmark: one pass over 1,000,000 audited predictions of 30 features.

A throw-away PostgreSQL (the test harness's) gets an audit trail written in the service's own
format: 1,000,000 predictions in the last hour, 30 features with a planted shift in five
(:mod:`drift.planted`) and 50,000 labels. Timed, each the median of three runs:

- reading the window: one ``COPY`` of the window joined with its labels, features taken apart by
  PostgreSQL's ``json_to_record``, parsed by pandas (the monitor's reader), against the obvious
  reader (``SELECT`` the rows, ``fetchall``, one ``orjson.loads`` per feature document);
- the pass itself (traffic, drift of 30 features and the score, live metrics);
- rendering the HTML report.

Not part of ``make test``:

    .venv/bin/python benchmarks/bench_monitor.py            # about five minutes
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "hack"), str(REPO / "benchmarks")]

from audittrail import (  # noqa: E402
    fresh_audit_database,
    synthetic_traffic,
    write_feedback,
    write_predictions,
)
from drift import planted  # noqa: E402
from fraud_training.monitoring.monitor import Reference, run_monitor_pass  # noqa: E402
from fraud_training.monitoring.report import render_html  # noqa: E402
from fraud_training.monitoring.window import read_window  # noqa: E402
from fraud_training.profile import feature_profile, reference_profile  # noqa: E402
from localservices.postgres import started_postgres  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

LABELLED = 50_000


def median_seconds(work: Callable[[], Any], runs: int = 3) -> tuple[float, Any]:
    """Median wall time of ``runs`` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def naive_window(dsn: str, start: datetime, end: datetime, names: list[str]) -> pd.DataFrame:
    """The obvious reader: rows as tuples, each feature document parsed in Python."""
    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            "SELECT p.scored_at, p.fraud_probability, p.decision, p.model_version, "
            "p.latency_ms, b.is_fraud, p.features::text FROM predictions p "
            "LEFT JOIN feedback b ON b.transaction_id = p.transaction_id "
            "WHERE p.scored_at >= %s AND p.scored_at < %s",
            (start, end),
        ).fetchall()
    frame = pd.DataFrame([row[:6] for row in rows])
    documents = [orjson.loads(row[6]) for row in rows]
    for name in names:
        frame[name] = [document.get(name) for document in documents]
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    console = Console(width=120)
    names = planted.column_names()
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(hours=1)
    reference_values = planted.sample(200_000, seed=1, shifted=False)
    reference = Reference(
        model="bench/1",
        features=reference_profile(reference_values, names),
        score=feature_profile(np.random.default_rng(1).beta(0.5, 8.0, 200_000)),
    )
    server = started_postgres()
    try:
        with fresh_audit_database(server.dsn) as dsn:
            console.print(f"writing {args.rows:,} audited predictions x {len(names)} features...")
            window_values = planted.sample(args.rows, seed=2, shifted=True)
            traffic = synthetic_traffic(
                {name: window_values[:, i] for i, name in enumerate(names)},
                end - timedelta(seconds=1),
                timedelta(minutes=58),
            )
            write_predictions(dsn, traffic)
            labels = traffic.probabilities[:LABELLED] >= 0.2
            write_feedback(dsn, traffic.transaction_ids[:LABELLED], labels.tolist(), end)
            with psycopg.connect(dsn, autocommit=True) as connection:
                connection.execute("VACUUM ANALYZE predictions")
                connection.execute("VACUUM ANALYZE feedback")

            read_s, window = median_seconds(lambda: read_window(dsn, start, end, names))
            naive_s, _ = median_seconds(lambda: naive_window(dsn, start, end, names), runs=1)
            pass_s, report = median_seconds(lambda: run_monitor_pass(window, reference))
            html_s, page = median_seconds(lambda: render_html(report))
    finally:
        server.close()

    table = Table(title=f"Monitor pass over {window.rows:,} audited rows x {len(names)} features")
    for heading in ("step", "seconds", "obvious / this"):
        table.add_column(heading, justify="left" if heading == "step" else "right")
    table.add_row("obvious reader (fetchall + orjson per row), one run", f"{naive_s:.2f}", "1.0x")
    table.add_row(
        "read the window (COPY + json_to_record + pandas)",
        f"{read_s:.2f}",
        f"{naive_s / read_s:.1f}x",
    )
    table.add_row("the pass (traffic, drift x31, live metrics)", f"{pass_s:.2f}", "")
    table.add_row("render the HTML report", f"{html_s:.3f}", "")
    table.add_row("whole pass: read + judge + render", f"{read_s + pass_s + html_s:.2f}", "")
    console.print(table)
    result = report.result()
    console.print(
        f"verdict {result['verdict']}; drifted {result['driftedFeatures']}; labelled "
        f"{result['labelledRows']:,}; live precision {result['livePrecision']}; "
        f"report {len(page) / 1024:.0f} KiB"
    )


if __name__ == "__main__":
    main()
