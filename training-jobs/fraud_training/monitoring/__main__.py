"""``python -m fraud_training.monitoring``: what the FraudModel's monitoring Job runs.

One pass over the last ``--window`` of the audit trail against the served bundle
(``--model-uri``, normally ``models:/<name>@champion``), recorded as a run of ``--experiment``
in MLflow with the HTML report and the result document as artifacts. The result (the
``status.monitoring`` document) is printed as the last line of stdout and written to
``--result-file`` (the container's termination message, ``/dev/termination-log``, is where the
operator reads it). A drifting model is a successful pass (exit 0): drift is a finding, not a
failure. Bad input exits 2 with one line naming the problem.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from fraud_training.errors import FraudOpsError
from fraud_training.monitoring.drift import DriftBands
from fraud_training.monitoring.durations import parse_duration
from fraud_training.monitoring.monitor import DEFAULT_MIN_ROWS, MonitorOptions
from fraud_training.monitoring.run import (
    DEFAULT_EXPERIMENT,
    log_monitoring_run,
    monitor_database,
    served_reference,
)


def parser() -> argparse.ArgumentParser:
    """The Job's arguments; the database and MLflow default to the usual environment."""
    parse = argparse.ArgumentParser(prog="python -m fraud_training.monitoring")
    parse.add_argument("--model-uri", required=True, help="the served model, models:/NAME@ALIAS")
    parse.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parse.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"))
    parse.add_argument("--window", default="1h", help="how far back to look: 30m, 1h, 24h, 7d")
    parse.add_argument("--min-rows", type=int, default=DEFAULT_MIN_ROWS)
    parse.add_argument("--psi-moderate", type=float, default=0.1)
    parse.add_argument("--psi-major", type=float, default=0.25)
    parse.add_argument("--fdr", type=float, default=0.05)
    parse.add_argument("--experiment", default=DEFAULT_EXPERIMENT)
    parse.add_argument("--fraudmodel", default="", help="namespace/name, tagged on the run")
    parse.add_argument("--result-file", type=Path, default=None)
    return parse


def main(argv: list[str] | None = None) -> int:
    """Run one pass; print and write the result."""
    args = parser().parse_args(argv)
    try:
        if not args.database_url:
            raise FraudOpsError("database-url: not given and DATABASE_URL is not set")
        window = parse_duration(args.window, "window")
        try:
            options = MonitorOptions(
                bands=DriftBands(args.psi_moderate, args.psi_major, args.fdr),
                min_rows=args.min_rows,
            )
        except ValueError as error:
            raise FraudOpsError(str(error)) from None
        reference, model_name = served_reference(args.model_uri, args.tracking_uri)
        report = monitor_database(args.database_url, reference, window, options, model_name)
        tags = {"fraudops.fraudmodel": args.fraudmodel} if args.fraudmodel else {}
        result = log_monitoring_run(report, args.tracking_uri, args.experiment, tags)
    except FraudOpsError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return error.exit_code
    document = json.dumps(result, separators=(",", ":"))
    if args.result_file is not None:
        args.result_file.write_text(document)
    print(
        f"{report.verdict}: {report.traffic.rows:,} rows, drift score {result['driftScore']}, "
        f"drifted {result['driftedFeatures']}, live precision {result['livePrecision']}",
        flush=True,
    )
    print(document, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
