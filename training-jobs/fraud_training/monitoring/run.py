"""A monitoring pass end to end: the served bundle, the audit window, the pass, the record.

:func:`monitor_database` is shared by the monitoring Job and ``fraudctl monitor``;
:func:`log_monitoring_run` records a pass as an MLflow run (metrics, tags, the HTML report and
the result document as artifacts) so every pass can be found again from the model's experiment.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import mlflow

from fraud_training.monitoring.monitor import (
    MonitorOptions,
    MonitorReport,
    Reference,
    run_monitor_pass,
)
from fraud_training.monitoring.report import render_html
from fraud_training.monitoring.window import read_window
from fraud_training.registry import download_bundle
from fraud_training.tracking import experiment_id, mlflow_errors, tracking_target

ARTIFACT_DIR = "monitoring"
REPORT_FILE = "report.html"
RESULT_FILE = "result.json"
DEFAULT_EXPERIMENT = "fraudops-monitoring"


def served_reference(model_uri: str, tracking_uri: str | None) -> tuple[Reference, str | None]:
    """The reference profiles of the bundle at ``model_uri`` and its registered name (the
    ``model_name`` its predictions carry in the audit trail), if it has one."""
    loaded = download_bundle(model_uri, tracking_uri)
    label = f"{loaded.name}/{loaded.version}" if loaded.name and loaded.version else model_uri
    return Reference.of_bundle(loaded.bundle, label), loaded.name


def monitor_database(
    database_url: str,
    reference: Reference,
    window: timedelta,
    options: MonitorOptions | None = None,
    model_name: str | None = None,
    now: datetime | None = None,
) -> MonitorReport:
    """Read the last ``window`` of the audit trail (of ``model_name``) and judge it."""
    end = now or datetime.now(UTC)
    audit = read_window(
        database_url,
        end - window,
        end,
        feature_names=list(reference.features) or None,
        model_name=model_name,
    )
    return run_monitor_pass(audit, reference, options, now=end)


def log_monitoring_run(
    report: MonitorReport,
    tracking_uri: str | None,
    experiment: str = DEFAULT_EXPERIMENT,
    tags: dict[str, str] | None = None,
) -> dict[str, object]:
    """Record the pass as an MLflow run and return its result, ``report`` pointing at the HTML."""
    target = tracking_target(tracking_uri)
    with mlflow_errors(target.tracking_uri):
        mlflow.set_tracking_uri(target.tracking_uri)
        exp_id = experiment_id(target, experiment)
        name = f"monitor {report.model} {report.end:%Y-%m-%d %H:%M}"
        with (
            mlflow.start_run(experiment_id=exp_id, run_name=name) as run,
            tempfile.TemporaryDirectory(prefix="fraudops-monitor-") as scratch,
        ):
            result = report.result(f"runs:/{run.info.run_id}/{ARTIFACT_DIR}/{REPORT_FILE}")
            mlflow.set_tags(
                {
                    "fraudops.monitor.verdict": report.verdict,
                    "fraudops.monitor.model": report.model,
                    "fraudops.monitor.drifted": ",".join(result["driftedFeatures"]),  # type: ignore[arg-type]
                    **(tags or {}),
                }
            )
            mlflow.log_metrics(_run_metrics(report))
            folder = Path(scratch)
            (folder / REPORT_FILE).write_text(render_html(report), encoding="utf-8")
            (folder / RESULT_FILE).write_text(json.dumps(result, indent=2), encoding="utf-8")
            mlflow.log_artifacts(str(folder), artifact_path=ARTIFACT_DIR)
    return result


def _run_metrics(report: MonitorReport) -> dict[str, float]:
    """Numbers of the pass as MLflow metrics (absent values are left out, not zeroed)."""
    result = report.result()
    metrics: dict[str, float] = {
        "rows": float(report.traffic.rows),
        "labelled_rows": float(report.live.labelled_rows),
    }
    for key, name in (
        ("driftScore", "drift_score"),
        ("scorePsi", "score_psi"),
        ("livePrecision", "live_precision"),
        ("liveRecall", "live_recall"),
    ):
        if result[key] is not None:
            metrics[name] = float(result[key])  # type: ignore[arg-type]
    if report.live.pr_auc is not None:
        metrics["live_pr_auc"] = report.live.pr_auc
    for column in report.feature_drift:
        metrics[f"psi.{column.name}"] = column.psi
    return metrics
