"""``fraudctl train``: train one model on a data file, log it to MLflow and register it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from fraud_training.choices import (
    ALGORITHM_NAMES,
    DEFAULT_ALGORITHM,
    DEFAULT_DECLINE_PRECISION,
    DEFAULT_ENTITY_WINDOWS,
    DEFAULT_EXPERIMENT,
    DEFAULT_FOLDS,
    DEFAULT_IMBALANCE,
    DEFAULT_LABEL_DELAY_DAYS,
    DEFAULT_MODEL_NAME,
    DEFAULT_PAIR_WINDOWS,
    DEFAULT_REVIEW_FEE,
    DEFAULT_RISK_LABEL_DELAY_DAYS,
    DEFAULT_RISK_SMOOTHING,
    DEFAULT_RISK_WINDOWS,
    DEFAULT_TEST_FRACTION,
    DEFAULT_VALIDATION_FRACTION,
    FORMATS,
)
from fraud_training.commands.column_options import EntityColumns, FeatureColumns

if TYPE_CHECKING:
    from fraud_training.train import TrainingResult

console = Console()

TrackingUri = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else .fraudops/mlflow/).",
    ),
]
ModelName = Annotated[str, typer.Option("--name", "--model-name", help="Registered model name.")]


def train(
    data: Annotated[
        str,
        typer.Argument(
            help="CSV or Parquet (a path or s3://bucket/key): our schema, the ULB file, mapped."
        ),
    ],
    algorithm: Annotated[
        str, typer.Option(help=f"One of {', '.join(ALGORITHM_NAMES)}.")
    ] = DEFAULT_ALGORITHM,
    imbalance: Annotated[
        str, typer.Option(help="Class imbalance handling: weights, smote or none.")
    ] = DEFAULT_IMBALANCE,
    split: Annotated[
        str, typer.Option(help="time (train on the past, test on the future) or kfold.")
    ] = "time",
    folds: Annotated[int, typer.Option(help="Folds for --split kfold.")] = DEFAULT_FOLDS,
    test_fraction: Annotated[
        float, typer.Option(help="Latest share of rows held out by --split time.")
    ] = DEFAULT_TEST_FRACTION,
    validation_fraction: Annotated[
        float,
        typer.Option(
            help="Share of rows, from the end of the training period, that early stopping and "
            "the thresholds are chosen on (--split time)."
        ),
    ] = DEFAULT_VALIDATION_FRACTION,
    label_delay_days: Annotated[
        float,
        typer.Option(
            help="Split gap: days before the test period whose rows are left out of training, "
            "as production would not have their labels yet (--split time). Not the risk "
            "features' delay (--risk-label-delay-days)."
        ),
    ] = DEFAULT_LABEL_DELAY_DAYS,
    risk_label_delay_days: Annotated[
        float,
        typer.Option(
            help="Risk features: days a transaction must be old before its label counts in "
            "a merchant's fraud rate or flags its card (> 0), as production learns of frauds "
            "that late; online, labels come from POST /feedback. Not the split gap "
            "(--label-delay-days), which only decides the rows a model trains on."
        ),
    ] = DEFAULT_RISK_LABEL_DELAY_DAYS,
    risk_window: Annotated[
        list[str] | None,
        typer.Option(
            "--risk-window",
            help="Risk features: a window of the delayed period (repeat; whole m, h or d; "
            f"default {', '.join(DEFAULT_RISK_WINDOWS)}).",
        ),
    ] = None,
    risk_smoothing: Annotated[
        float,
        typer.Option(
            help="Risk features: pseudo-transactions at the training fraud rate added to each "
            "merchant's delayed count, so a merchant with few transactions is not rated on "
            "one or two labels (>= 0)."
        ),
    ] = DEFAULT_RISK_SMOOTHING,
    entity_window: Annotated[
        list[str] | None,
        typer.Option(
            "--entity-window",
            help="A window of the merchant's, the card's and each --entity column's history "
            f"(repeat; whole m, h or d; default {', '.join(DEFAULT_ENTITY_WINDOWS)}).",
        ),
    ] = None,
    pair_window: Annotated[
        list[str] | None,
        typer.Option(
            "--pair-window",
            help="A window of the card x merchant pair's history (repeat; whole m, h or d; "
            f"default {', '.join(DEFAULT_PAIR_WINDOWS)}).",
        ),
    ] = None,
    risk_entity: Annotated[
        list[str] | None,
        typer.Option(
            "--risk-entity",
            help="Risk features: a further column whose delayed fraud rate is a feature, beside "
            "the merchant's (repeat): one of our fields (device_id, merchant_country, ...) or a "
            "mapped --entity or --feature column.",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="Hyperparameter key=value (repeatable), e.g. max_depth=4."),
    ] = None,
    model_name: ModelName = DEFAULT_MODEL_NAME,
    tracking_uri: TrackingUri = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment.")] = DEFAULT_EXPERIMENT,
    review_fee: Annotated[
        float,
        typer.Option(help="Cost of reviewing a false alarm; a missed fraud costs its amount."),
    ] = DEFAULT_REVIEW_FEE,
    decline_precision: Annotated[
        float, typer.Option(help="Precision the decline threshold must reach.")
    ] = DEFAULT_DECLINE_PRECISION,
    data_format: Annotated[
        str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")
    ] = "auto",
    map_column: Annotated[
        list[str] | None,
        typer.Option("--map", help="Column mapping field=column (repeatable) for other CSVs."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="YAML column mapping file (see fraudctl check-data).")
    ] = None,
    timestamp_unit: Annotated[
        str | None, typer.Option(help="Mapped timestamps are epoch numbers in s, ms, us or ns.")
    ] = None,
    feature: FeatureColumns = None,
    entity: EntityColumns = None,
    seed: Annotated[int, typer.Option(help="Random seed for the learner, SMOTE and folds.")] = 0,
    summary_out: Annotated[
        Path | None, typer.Option(help="Also write the run summary as JSON to this file.")
    ] = None,
) -> None:
    """Train a model, evaluate it on a hold-out, log it to MLflow and register a new version."""
    # Imported here, not at the top: scikit-learn, MLflow and pandas would make every
    # `fraudctl --help` wait for them.
    from fraud_training.commands.data import mapping_from_options
    from fraud_training.commands.progress import step_progress
    from fraud_training.config import TrainingConfig, parse_hyperparameters
    from fraud_training.risk_features import risk_entities
    from fraud_training.train import run_training

    config = TrainingConfig(
        data=data,
        algorithm=algorithm,
        imbalance=imbalance,
        split=split,
        folds=folds,
        test_fraction=test_fraction,
        validation_fraction=validation_fraction,
        label_delay_days=label_delay_days,
        hyperparameters=parse_hyperparameters(param or []),
        model_name=model_name,
        experiment=experiment,
        tracking_uri=tracking_uri,
        review_fee=review_fee,
        decline_precision=decline_precision,
        mapping=mapping_from_options(
            map_column or [], mapping, timestamp_unit, feature or [], entity or []
        ),
        data_format=data_format,
        seed=seed,
        summary_out=summary_out,
        risk_label_delay_days=risk_label_delay_days,
        risk_windows=tuple(risk_window) if risk_window else DEFAULT_RISK_WINDOWS,
        risk_smoothing=risk_smoothing,
        risk_entities=risk_entities(risk_entity or []),
        entity_windows=tuple(entity_window) if entity_window else DEFAULT_ENTITY_WINDOWS,
        pair_windows=tuple(pair_window) if pair_window else DEFAULT_PAIR_WINDOWS,
    )
    with step_progress() as progress:
        result = run_training(config, progress)
    console.print(metrics_table(result))
    console.print(
        f"registered [bold]{result.model_name}[/] version [bold]{result.version}[/] "
        f"(run {result.run_id}) at {result.tracking_uri}\n"
        f"next: fraudctl validate --version {result.version} --name {result.model_name}"
    )


def metrics_table(result: TrainingResult) -> Table:
    """The test-period metrics a fraud team looks at first (thresholds chosen on validation)."""
    m = result.metrics
    table = Table(
        title=f"{result.algorithm} on {result.feature_set} data "
        f"({result.split} split: {result.train_rows:,} train / {result.test_rows:,} test rows, "
        f"{int(m['test_frauds']):,} test frauds)"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    recall_key = next(key for key in m if key.startswith("recall_at_precision_"))
    rows = [
        ("ROC-AUC", f"{m['roc_auc']:.4f}"),
        ("PR-AUC (average precision)", f"{m['pr_auc']:.4f}"),
        (f"recall at precision {recall_key.rsplit('_', 1)[1]} %", f"{m[recall_key]:.4f}"),
        ("review threshold (cost-optimal)", f"{result.thresholds.review:.4f}"),
        ("decline threshold", f"{result.thresholds.decline:.4f}"),
        (
            "precision / recall / F1 at review",
            f"{m['precision']:.3f} / {m['recall']:.3f} / {m['f1']:.3f}",
        ),
        ("TP / FP / FN / TN", f"{m['tp']:,.0f} / {m['fp']:,.0f} / {m['fn']:,.0f} / {m['tn']:,.0f}"),
        ("cost: approve everything", f"{m['baseline_cost']:,.2f}"),
        ("cost: with the model", f"{m['expected_cost']:,.2f}"),
        ("cost saved", f"{m['cost_saved']:,.2f} ({m['cost_saved_fraction']:.1%})"),
        ("fit time", f"{result.fit_seconds:.1f} s"),
    ]
    card_key = next((key for key in m if key.startswith("card_precision_at_")), None)
    if card_key is not None:
        k = card_key.rsplit("_", 1)[1]
        rows.insert(3, (f"card precision@{k} per day", f"{m[card_key]:.4f}"))
    if "pr_auc_fold_std" in m:
        rows.insert(2, ("PR-AUC std across folds", f"{m['pr_auc_fold_std']:.4f}"))
    for name, value in rows:
        table.add_row(name, value)
    return table
