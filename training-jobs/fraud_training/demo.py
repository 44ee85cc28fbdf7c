"""``python -m fraud_training.demo`` (``make demo``): the whole local pipeline, once.

generate ~200k synthetic transactions → validate → train the default model → register it as
``challenger`` → validation gate → ``champion`` only if the gate passes. Each run generates a
fresh month of data (the seed is the next version number), as a scheduled retraining would see,
so a second run trains version 2 on new data and the gate compares it with version 1 on version
2's hold-out. Everything lives under ``.fraudops/`` (data in ``demo/``, MLflow in ``mlflow/``)
unless ``MLFLOW_TRACKING_URI`` points elsewhere. Nothing here needs a cluster; the cluster path
is the operator's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fraud_training.choices import CHALLENGER, CHAMPION, DEFAULT_MODEL_NAME
from fraud_training.commands.progress import step_progress
from fraud_training.commands.registry import gate_table
from fraud_training.commands.train import metrics_table
from fraud_training.config import TrainingConfig
from fraud_training.errors import FraudOpsError
from fraud_training.gate import record_gate_result, validate_version
from fraud_training.generator import GeneratorConfig, generate_transactions, write_transactions
from fraud_training.registry import promote
from fraud_training.tracking import TrackingTarget, mlflow_errors, tracking_target
from fraud_training.train import TrainingResult, run_training

DEFAULT_HOME = Path(".fraudops")
DEFAULT_ROWS = 200_000
DEFAULT_FRAUD_RATE = 0.01

console = Console()


def run_demo(home: Path, rows: int, model_name: str = DEFAULT_MODEL_NAME) -> bool:
    """Run the pipeline once; True if the new version became champion."""
    started = time.perf_counter()
    target = tracking_target(home=home / "mlflow")
    seed = _next_version(target, model_name)
    data = home / "demo" / f"transactions-{seed}.parquet"
    with step_progress() as step:
        step(f"generating {rows:,} transactions (seed {seed})")
        frame = generate_transactions(
            GeneratorConfig(rows=rows, fraud_rate=DEFAULT_FRAUD_RATE, seed=seed)
        )
        write_transactions(frame, data)
        config = TrainingConfig(data=data, model_name=model_name, tracking_uri=target.tracking_uri)
        result = run_training(config, step)
        step(f"validation gate for version {result.version}")
        client = target.client()
        with mlflow_errors(target.tracking_uri):
            promote(client, model_name, result.version, CHALLENGER)
            report = validate_version(client, model_name, result.version)
            record_gate_result(client, report)
            if report.passed:
                promote(client, model_name, result.version, CHAMPION)
    console.print(metrics_table(result))
    console.print(gate_table(report))
    console.print(_outcome(result, report.passed))
    console.print(_where_to_look(target, data, model_name, time.perf_counter() - started))
    return report.passed


def _next_version(target: TrackingTarget, model_name: str) -> int:
    """The version number the next registration will get (1 for a new model)."""
    versions = target.client().search_model_versions(f"name = '{model_name}'")
    return 1 + max((int(v.version) for v in versions), default=0)


def _outcome(result: TrainingResult, passed: bool) -> str:
    if passed:
        return (
            f"[bold green]gate passed[/]: {result.model_name} version {result.version} is now "
            f"[bold]{CHAMPION}[/]"
        )
    return (
        f"[bold red]gate failed[/]: version {result.version} stays {CHALLENGER}; "
        f"the {CHAMPION} is unchanged"
    )


def _where_to_look(target: TrackingTarget, data: Path, model_name: str, seconds: float) -> Table:
    table = Table(title=f"done in {seconds:.0f} s (local pipeline, no cluster)", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", overflow="fold")
    if target.tracking_uri.startswith("http"):
        table.add_row("MLflow UI", target.tracking_uri)
    else:
        ui = f".venv/bin/mlflow ui --backend-store-uri {target.tracking_uri}"
        if target.artifact_location:
            ui += f" --default-artifact-root {target.artifact_location}"
        table.add_row("MLflow UI", f"{ui}  (then open http://127.0.0.1:5000)")
    table.add_row("registry", f".venv/bin/fraudctl models list --name {model_name}")
    table.add_row("data", str(data))
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fraud_training.demo", description=__doc__)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="transactions to generate")
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="work folder")
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    args = parser.parse_args(argv)
    try:
        run_demo(args.home, args.rows, args.model_name)
    except FraudOpsError as error:
        Console(stderr=True).print(f"[bold red]error:[/] {error}")
        sys.exit(error.exit_code)


if __name__ == "__main__":
    main()
