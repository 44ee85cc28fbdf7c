"""Model quality benchmark: the default model against a plain XGBoost on the raw columns, and
the default model with each feature family left out.

For each data set (the ULB credit-card file when it is on this machine, a synthetic stream, and
any mapped CSV given with ``--data/--map/--feature``), on the same latest-20 % test rows:

* **default** — what ``fraudctl train`` fits: the feature set plus pass-through inputs, the
  time split with validation, early stopping and the refit on train + validation;
* **plain XGBoost** — ``XGBClassifier()`` with its library defaults (plus the same class weight)
  on the raw columns only: every numeric field and pass-through column as given, the timestamp as
  epoch seconds, every text column as integer codes; trained on every row before the test period;
* **without <family>** — the default pipeline with one family of features removed (every
  family on synthetic data, those named by ``--ablate`` on a mapped file: the families of the
  transactions feature set, the label-aware risk features, and all merchant-side features
  together).

Prints PR-AUC, ROC-AUC, card precision@100 per day (where there are cards) and, on generated data,
the ROC-AUC of the terminal-compromise charges against honest rows. Not part of
``make test``::

    .venv/bin/python benchmarks/bench_quality.py [--rows 200000]
    .venv/bin/python benchmarks/bench_quality.py --data file.csv --map customer_id=card ... \\
        --feature col1 --feature col2 [--entity email_domain] [--risk-entity email_domain]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from fraud_training.commands.data import mapping_from_options
from fraud_training.config import TrainingConfig
from fraud_training.evaluation import card_precision_at_k
from fraud_training.features import TRANSACTION_FEATURES, timestamp_ms
from fraud_training.generator import GeneratorConfig, generate_transactions, write_transactions
from fraud_training.generator.patterns import terminal_compromise
from fraud_training.loaders import Dataset, load_dataset
from fraud_training.risk_features import RiskFeatures, risk_entities
from fraud_training.schema import LABEL, PATTERN
from fraud_training.splits import time_holdout
from fraud_training.train import fit_and_score, model_inputs
from rich.console import Console
from rich.table import Table
from sklearn.metrics import average_precision_score, roc_auc_score
from xgboost import XGBClassifier

console = Console()
ULB_FILE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "creditcard.csv.gz"
ULB_FALLBACK = Path("/work/shared/data/creditcard.csv.gz")
#: The label-aware risk features of the default definition (merchant rates, compromised card).
RISK_FEATURES = RiskFeatures().feature_names
#: Feature families of the transactions feature set, by the names they own.
FAMILIES: dict[str, tuple[str, ...]] = {
    "customer windows": (
        *(n for n in TRANSACTION_FEATURES if n.startswith(("txn_count_", "amount_sum_"))),
        "amount_to_24h_sum",
    ),
    "customer history (prev, mean)": (
        "dist_prev_km",
        "seconds_since_prev",
        "speed_from_prev_kmh",
        "is_first_txn",
        "n_prior_txns",
        "amount_to_mean",
    ),
    "novelty (new merchant/device)": ("is_new_merchant", "is_new_device"),
    "merchant history": tuple(n for n in TRANSACTION_FEATURES if n.startswith("merchant_")),
    "card x merchant history": tuple(
        n for n in TRANSACTION_FEATURES if n.startswith("card_merchant_")
    ),
    "card spread (std, max, distinct merchants)": tuple(
        n
        for n in TRANSACTION_FEATURES
        if n.startswith("card_") and not n.startswith("card_merchant_")
    ),
    "risk (delayed labels)": RISK_FEATURES,
    "merchant-side (history + risk)": (
        *(n for n in TRANSACTION_FEATURES if n.startswith("merchant_")),
        *RISK_FEATURES,
    ),
}


def measure(
    labels: np.ndarray, scores: np.ndarray, frame: pd.DataFrame, test: np.ndarray
) -> dict[str, float]:
    """PR-AUC, ROC-AUC and card precision@100 per day of ``scores`` on the test rows; on
    generated data also the ROC-AUC of the terminal-compromise charges against honest rows (the
    family only merchant-side features catch)."""
    out = {
        "pr_auc": float(average_precision_score(labels[test], scores)),
        "roc_auc": float(roc_auc_score(labels[test], scores)),
    }
    if PATTERN in frame.columns:
        pattern, truth = frame[PATTERN].to_numpy()[test], labels[test]
        judged = (pattern == terminal_compromise.NAME) | (truth == 0)
        out["terminal_auc"] = float(roc_auc_score(truth[judged], scores[judged]))
    cards = frame["customer_id"].to_numpy()[test]
    if len(np.unique(cards)) > 1:
        ts = timestamp_ms(frame["timestamp"])[test]
        out["card_p@100"] = card_precision_at_k(cards, ts, labels[test], scores)
    return out


def raw_matrix(dataset: Dataset) -> np.ndarray:
    """The raw columns as a plain learner would take them: numbers as given, text as codes."""
    frame = dataset.frame.drop(columns=[LABEL, PATTERN, "transaction_id"], errors="ignore")
    columns = []
    for name in frame.columns:
        values = frame[name]
        if name == "timestamp":
            columns.append(timestamp_ms(values) / 1000.0)
        elif pd.api.types.is_numeric_dtype(values):
            columns.append(values.to_numpy(np.float64))
        else:
            codes = pd.factorize(values)[0].astype(np.float64)
            columns.append(np.where(codes < 0, np.nan, codes))
    return np.column_stack(columns)


def plain_xgboost(dataset: Dataset, config: TrainingConfig) -> tuple[np.ndarray, np.ndarray]:
    """Test rows and the scores of XGBoost's defaults on the raw columns (class-weighted)."""
    labels = dataset.frame[LABEL].to_numpy(np.int64)
    split = time_holdout(timestamp_ms(dataset.frame["timestamp"]), labels, config.test_fraction)
    raw = raw_matrix(dataset)
    weight = float((labels[split.train] == 0).sum()) / max(int(labels[split.train].sum()), 1)
    model = XGBClassifier(scale_pos_weight=weight, n_jobs=-1, random_state=0)
    model.fit(raw[split.train], labels[split.train])
    return split.test, model.predict_proba(raw[split.test])[:, 1]


def default_model(
    dataset: Dataset, config: TrainingConfig, drop: tuple[str, ...] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Test rows and scores of the default training pipeline, without the ``drop`` features."""
    features, names, _, _ = model_inputs(config, dataset)
    keep = [i for i, name in enumerate(names) if name not in drop]
    labels = dataset.frame[LABEL].to_numpy(np.int64)
    fitted = fit_and_score(
        config, features[:, keep], labels, timestamp_ms(dataset.frame["timestamp"])
    )
    return fitted.test_rows, fitted.test_scores


def compare(name: str, dataset: Dataset, config: TrainingConfig, ablate: tuple[str, ...]) -> Table:
    """One table: default, plain XGBoost and the ablations on the same test rows."""
    labels = dataset.frame[LABEL].to_numpy(np.int64)
    table = Table(title=f"{name}: {len(labels):,} rows, {int(labels.sum()):,} frauds")
    columns = ("model", "PR-AUC", "ROC-AUC", "card P@100/day", "terminal ROC-AUC", "seconds")
    for column in columns:
        table.add_column(column, justify="left" if column == "model" else "right")
    runs: list[tuple[str, tuple[str, ...] | None]] = [("default", ()), ("plain XGBoost", None)]
    runs += [
        (f"default without {family}", names)
        for family, names in FAMILIES.items()
        if family.startswith(ablate)
    ]
    results: dict[str, dict[str, float]] = {}
    for label, drop in runs:
        started = time.perf_counter()
        if drop is None:
            test, scores = plain_xgboost(dataset, config)
        else:
            test, scores = default_model(dataset, config, drop)
        metrics = measure(labels, scores, dataset.frame, test)
        results[label] = metrics
        table.add_row(
            label,
            f"{metrics['pr_auc']:.4f}",
            f"{metrics['roc_auc']:.4f}",
            f"{metrics['card_p@100']:.4f}" if "card_p@100" in metrics else "-",
            f"{metrics['terminal_auc']:.4f}" if "terminal_auc" in metrics else "-",
            f"{time.perf_counter() - started:.0f}",
        )
    ratio = results["default"]["pr_auc"] / max(results["plain XGBoost"]["pr_auc"], 1e-9)
    table.caption = f"default / plain XGBoost PR-AUC: {ratio:.2f}x"
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="synthetic rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, help="a mapped CSV or Parquet file to compare on")
    parser.add_argument("--map", action="append", default=[], dest="pairs")
    parser.add_argument("--mapping", type=Path, help="a YAML column mapping file")
    parser.add_argument("--feature", action="append", default=[])
    parser.add_argument("--entity", action="append", default=[])
    parser.add_argument("--risk-entity", action="append", default=[])
    parser.add_argument("--timestamp-unit")
    parser.add_argument("--label-delay-days", type=float, default=0.0)
    parser.add_argument("--skip-ulb", action="store_true")
    parser.add_argument(
        "--ablate",
        action="append",
        default=[],
        help="with --data: also leave out the feature families whose names start so (repeat), "
        f"of: {'; '.join(FAMILIES)}",
    )
    args = parser.parse_args()
    sets: list[tuple[str, Path, tuple[str, ...], object]] = []
    if args.data is not None:
        mapping = mapping_from_options(
            args.pairs, args.mapping, args.timestamp_unit, args.feature, args.entity
        )
        sets.append((str(args.data), args.data, tuple(args.ablate), mapping))
    else:
        ulb = ULB_FILE if ULB_FILE.is_file() else ULB_FALLBACK
        if ulb.is_file() and not args.skip_ulb:
            sets.append(("ULB credit-card", ulb, (), None))
        scratch = Path(tempfile.mkdtemp(prefix="fraudops-quality-"))
        synthetic = write_transactions(
            generate_transactions(GeneratorConfig(rows=args.rows, seed=args.seed)),
            scratch / "synthetic.parquet",
        )
        sets.append((f"synthetic ({args.rows:,} rows)", synthetic, ("",), None))
    for name, path, ablate, mapping in sets:
        dataset = load_dataset(path, mapping=mapping)  # type: ignore[arg-type]
        config = replace(
            TrainingConfig(
                data=path,
                label_delay_days=args.label_delay_days,
                risk_entities=risk_entities(args.risk_entity),
            ),
            mapping=mapping,
        )
        console.print(compare(name, dataset, config, ablate))


if __name__ == "__main__":
    main()
