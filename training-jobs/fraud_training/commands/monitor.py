"""``fraudctl monitor``: the production-monitor report of the last hours, in the terminal.

The same pass the FraudModel's monitoring Job runs (:mod:`fraud_training.monitoring`), read
straight from the audit database; nothing is written to MLflow. ``--report`` also writes the
HTML page, ``--json`` prints the ``status.monitoring`` document instead of the tables.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fraud_training.choices import CHAMPION, DEFAULT_MODEL_NAME
from fraud_training.commands.train import ModelName, TrackingUri
from fraud_training.errors import FraudOpsError

console = Console()


def monitor(
    hours: Annotated[
        float, typer.Option(help="Window: the last HOURS hours of the audit trail.", min=0.01)
    ] = 24.0,
    database_url: Annotated[
        str | None,
        typer.Option(help="The scoring service's audit database (default: $DATABASE_URL)."),
    ] = None,
    model_uri: Annotated[
        str | None,
        typer.Option(
            help="The served model whose training profile is the reference "
            "(default: models:/NAME@champion)."
        ),
    ] = None,
    model_name: ModelName = DEFAULT_MODEL_NAME,
    tracking_uri: TrackingUri = None,
    min_rows: Annotated[
        int, typer.Option(help="Fewer audited rows: 'not enough data', no drift verdict.", min=1)
    ] = 1000,
    psi_moderate: Annotated[float, typer.Option(help="PSI where the moderate band starts.")] = 0.1,
    psi_major: Annotated[float, typer.Option(help="PSI where the major band starts.")] = 0.25,
    report: Annotated[
        Path | None, typer.Option(help="Also write the HTML report to this file.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the status.monitoring document only.")
    ] = False,
) -> None:
    """Drift, live precision/recall and traffic of the served model over the last hours."""
    from fraud_training.monitoring.drift import DriftBands
    from fraud_training.monitoring.monitor import MonitorOptions
    from fraud_training.monitoring.report import print_report, render_html
    from fraud_training.monitoring.run import monitor_database, served_reference

    url = database_url or os.environ.get("DATABASE_URL")
    if not url:
        raise FraudOpsError("database-url: give --database-url or set DATABASE_URL")
    try:
        options = MonitorOptions(bands=DriftBands(psi_moderate, psi_major), min_rows=min_rows)
    except ValueError as error:
        raise FraudOpsError(str(error)) from None
    reference, served_name = served_reference(
        model_uri or f"models:/{model_name}@{CHAMPION}", tracking_uri
    )
    result = monitor_database(url, reference, timedelta(hours=hours), options, served_name)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(render_html(result), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(result.result(str(report.resolve()) if report else ""), indent=2))
        return
    print_report(result, console)
    if report is not None:
        console.print(f"report written to {report}")
