"""``fraudctl models list``, ``fraudctl promote`` and ``fraudctl validate``: the registry and the
validation gate from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from fraud_training import version_tags
from fraud_training.choices import (
    ALIASES,
    CHALLENGER,
    CHAMPION,
    DEFAULT_MAX_REGRESSION,
    DEFAULT_MIN_PR_AUC,
    DEFAULT_MIN_ROC_AUC,
    DEFAULT_MODEL_NAME,
    KEY_METRICS,
)
from fraud_training.commands.train import ModelName, TrackingUri
from fraud_training.errors import GateFailed

if TYPE_CHECKING:
    from fraud_training.gate import GateReport

# MLflow and the gate's scoring stack are imported inside the commands, so that
# `fraudctl --help` does not wait for them.

console = Console()
#: Short column headers, so the table fits an 80-column terminal.
METRIC_HEADERS = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "recall_at_precision_90": "recall@P90",
    "cost_saved": "cost saved",
}


def models_list(name: ModelName = DEFAULT_MODEL_NAME, tracking_uri: TrackingUri = None) -> None:
    """Show every version of a registered model: aliases, key metrics, gate result, and who
    promoted it and why."""
    from fraud_training.registry import list_versions
    from fraud_training.tracking import mlflow_errors, tracking_target

    target = tracking_target(tracking_uri)
    with mlflow_errors(target.tracking_uri):
        versions = list_versions(target.client(), name)
    table = Table(
        title=f"registered model {name}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("version")
    table.add_column("aliases", min_width=len(CHALLENGER))
    table.add_column("algorithm")
    for metric in KEY_METRICS:
        table.add_column(METRIC_HEADERS[metric], justify="right")
    table.add_column("gate")
    table.add_column("promoted by", overflow="fold")
    for version in versions:
        table.add_row(
            str(version.version),
            ", ".join(version.aliases) or "-",
            version.algorithm,
            *(_metric(version.metrics.get(key), key) for key in KEY_METRICS),
            version.gate,
            version.promoted or "-",
        )
    console.print(table)


def promote_command(
    version: Annotated[int, typer.Option("--version", help="Model version to promote.")],
    alias: Annotated[str, typer.Option(help=f"One of {', '.join(ALIASES)}.")] = CHAMPION,
    reason: Annotated[
        str, typer.Option(help="Why, recorded on the version (fraudctl models list shows it).")
    ] = version_tags.REASON_MANUAL,
    name: ModelName = DEFAULT_MODEL_NAME,
    tracking_uri: TrackingUri = None,
) -> None:
    """Point an alias (champion or challenger) at a version, without running the gate.

    The operator respects a champion moved this way (status shows ExternalPromotion) instead of
    reverting it; to make it permanent, pin it with the FraudModel's spec.serving.version.
    """
    from fraud_training.registry import promote
    from fraud_training.tracking import mlflow_errors, tracking_target

    target = tracking_target(tracking_uri)
    with mlflow_errors(target.tracking_uri):
        previous = promote(target.client(), name, version, alias, reason=reason)
    moved = f" (was version {previous})" if previous is not None else ""
    console.print(f"{name}@{alias} -> version {version}{moved}")


def validate_command(
    version: Annotated[int, typer.Option("--version", help="Model version to check.")],
    name: ModelName = DEFAULT_MODEL_NAME,
    min_roc_auc: Annotated[float, typer.Option(help="Lowest acceptable ROC-AUC.")] = (
        DEFAULT_MIN_ROC_AUC
    ),
    min_pr_auc: Annotated[float, typer.Option(help="Lowest acceptable PR-AUC.")] = (
        DEFAULT_MIN_PR_AUC
    ),
    max_regression: Annotated[
        float, typer.Option(help="Largest PR-AUC drop allowed against the champion.")
    ] = DEFAULT_MAX_REGRESSION,
    promote_on_pass: Annotated[
        bool, typer.Option("--promote", help="Make the version champion if every check passes.")
    ] = False,
    tracking_uri: TrackingUri = None,
) -> None:
    """Run the validation gate on a version; exits 1 if any check fails."""
    from fraud_training.gate import GatePolicy, record_gate_result, validate_version
    from fraud_training.registry import promote
    from fraud_training.tracking import mlflow_errors, tracking_target

    target = tracking_target(tracking_uri)
    client = target.client()
    with mlflow_errors(target.tracking_uri):
        report = validate_version(
            client, name, version, GatePolicy(min_roc_auc, min_pr_auc, max_regression)
        )
        record_gate_result(client, report)
    console.print(gate_table(report))
    if not report.passed:
        failed = ", ".join(check.name for check in report.checks if not check.passed)
        raise GateFailed(f"{name} version {version} failed the gate: {failed}")
    if promote_on_pass:
        with mlflow_errors(target.tracking_uri):
            previous = promote(
                client, name, version, CHAMPION, reason=version_tags.REASON_GATE_PASSED
            )
        moved = f" (was version {previous})" if previous is not None else ""
        console.print(f"gate passed: {name}@{CHAMPION} -> version {version}{moved}")
    else:
        console.print(f"gate passed: version {version} may be promoted")


def gate_table(report: GateReport) -> Table:
    """One row per check: its outcome and what it observed against what it required."""
    table = Table(title=f"validation gate: {report.model_name} version {report.version}")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for check in report.checks:
        outcome = "[green]PASS[/]" if check.passed else "[bold red]FAIL[/]"
        table.add_row(check.name, outcome, check.message)
    return table


def _metric(value: float | None, name: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if name.startswith("cost") else f"{value:.4f}"
