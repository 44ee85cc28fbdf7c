"""Training-pipeline benchmark: rows/s of generation, validation and features, and the training
time of each algorithm.

One run times the data layer on ``--rows`` synthetic transactions (default 1,000,000, 2 % fraud:
generation, Pandera validation, writing and loading Parquet and CSV), builds the point-in-time
features of the same stream, then trains every algorithm with its defaults
(class weights) on the earliest ``--train-rows`` of the stream (default 200,000: a time-ordered
80/20 split of that prefix) and reports fit seconds with the hold-out PR-AUC and ROC-AUC for
context. Timings are wall-clock on this machine, one process; not part of ``make test``.

Then it scales the offline features to ``--feature-rows`` (default 1,000,000 and 10,000,000: the
generated stream tiled under fresh customer, merchant, device and transaction ids) and prints, per
size, the seconds of each part and the peak memory the feature build allocates (tracemalloc, which
numpy and pandas report to), side by side with the customer-only features of the feature set
before entity histories::

    .venv/bin/python benchmarks/bench_pipeline.py [--rows 1000000] [--train-rows 200000]
    .venv/bin/python benchmarks/bench_pipeline.py --only-features --feature-rows 1000000
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd
from fraud_training.algorithms import ALGORITHMS, build_estimator
from fraud_training.data_throughput import time_data_layer
from fraud_training.features import (
    derive_features,
    entity_aggregates,
    history_aggregates,
    raw_inputs,
    timestamp_ms,
    transaction_features,
)
from fraud_training.generator import GeneratorConfig, generate_transactions
from fraud_training.risk_features import RiskFeatures
from fraud_training.schema import LABEL
from fraud_training.splits import time_holdout
from rich.console import Console
from rich.table import Table
from sklearn.metrics import average_precision_score, roc_auc_score

T = TypeVar("T")
console = Console(width=120)


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """The action's result and its wall-clock seconds."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def tiled(frame: pd.DataFrame, rows: int) -> pd.DataFrame:
    """``rows`` rows: copies of ``frame`` under fresh ids, so each copy is another population."""
    copies = []
    for k in range(-(-rows // len(frame))):
        copy = frame if k == 0 else frame.copy()
        if k:
            for column in ("transaction_id", "customer_id", "merchant_id", "device_id"):
                copy[column] = copy[column].astype(str) + f"~{k}"
        copies.append(copy)
    return pd.concat(copies, ignore_index=True).iloc[:rows]


def timed_parts(frame: pd.DataFrame) -> tuple[float, float, float, float, float, int]:
    """Seconds of raw inputs, customer and entity histories, derivation and the risk features
    (default definition, from the frame's labels), and the peak bytes allocated while building
    them (a second build under tracemalloc, which slows it)."""
    labels = frame[LABEL].to_numpy(np.int64)
    risk = RiskFeatures.configured().fitted(labels)
    _, risk_s = timed(lambda: risk.build(frame, labels))
    raw, raw_s = timed(lambda: raw_inputs(frame))
    customer, customer_s = timed(lambda: history_aggregates(frame))
    entity, entity_s = timed(lambda: entity_aggregates(frame))
    started = time.perf_counter()
    derive_features(raw, {**customer, **entity})
    derive_s = time.perf_counter() - started
    del raw, customer, entity
    tracemalloc.start()
    matrix = transaction_features(frame)
    risk.build(frame, labels)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del matrix
    return raw_s, customer_s, entity_s, derive_s, risk_s, peak


def feature_scaling(frame: pd.DataFrame, sizes: list[int]) -> Table:
    """Seconds and peak allocated memory of the offline features at each size."""
    table = Table(title="offline point-in-time features (default windows)")
    columns = (
        "rows",
        "raw s",
        "cust. s",
        "entity s",
        "derive s",
        "risk s",
        "total s",
        "before s",
        "ratio",
        "peak MiB",
    )
    for column in columns:
        table.add_column(column, justify="right")
    for rows in sizes:
        big = tiled(frame, rows)
        raw_s, customer_s, entity_s, derive_s, risk_s, peak = timed_parts(big)
        total = raw_s + customer_s + entity_s + derive_s + risk_s
        before = raw_s + customer_s + derive_s
        table.add_row(
            f"{rows:,}",
            f"{raw_s:.2f}",
            f"{customer_s:.2f}",
            f"{entity_s:.2f}",
            f"{derive_s:.2f}",
            f"{risk_s:.2f}",
            f"{total:.2f}",
            f"{before:.2f}",
            f"{total / before:.2f}x",
            f"{peak / 2**20:,.0f}",
        )
        del big
    table.caption = (
        "risk = the label-aware risk features (merchant rates under a 7-day label delay, "
        "compromised card); before = the same parts without the entity histories and the risk "
        "features (the feature set before them); "
        "ratio = total / before; peak = the most memory allocated at once while building, "
        "besides the frame"
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--train-rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--feature-rows",
        default="1000000,10000000",
        help="comma-separated sizes for the offline feature scaling table",
    )
    parser.add_argument("--only-features", action="store_true", help="only the scaling table")
    args = parser.parse_args()
    sizes = [int(size) for size in args.feature_rows.split(",") if size]
    if args.only_features:
        base = generate_transactions(GeneratorConfig(rows=min(args.rows, max(sizes)), seed=0))
        console.print(feature_scaling(base, sizes))
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        console.print(f"process peak RSS (frames, features, the largest build): {peak_rss:.1f} GiB")
        return
    console.print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{args.rows:,} rows, training on the first {args.train_rows:,}"
    )

    stages = Table(title=f"pipeline stages at {args.rows:,} rows")
    for column in ("stage", "seconds", "rows/s"):
        stages.add_column(column, justify="right" if column != "stage" else "left")
    for timing in time_data_layer(args.rows, args.seed):
        stages.add_row(timing.step, f"{timing.seconds:.2f}", f"{timing.rows_per_second:,.0f}")
    frame = generate_transactions(GeneratorConfig(rows=args.rows, seed=args.seed))
    features, features_s = timed(lambda: transaction_features(frame))
    stages.add_row(
        "features (point-in-time)", f"{features_s:.2f}", f"{args.rows / features_s:,.0f}"
    )
    console.print(stages)

    # The stream is in time order and features are point-in-time, so the prefix's features are
    # the first rows of the full matrix.
    prefix = frame.iloc[: args.train_rows]
    matrix = features[: args.train_rows]
    labels = prefix[LABEL].to_numpy(np.int64)
    split = time_holdout(timestamp_ms(prefix["timestamp"]), labels)
    training = Table(
        title=f"training on {len(split.train):,} rows, scored on the next {len(split.test):,} "
        f"({int(labels[split.test].sum()):,} frauds)"
    )
    for column in ("algorithm", "fit seconds", "rows/s", "vs xgboost", "PR-AUC", "ROC-AUC"):
        training.add_column(column, justify="right" if column != "algorithm" else "left")
    fit_seconds: dict[str, float] = {}
    for algorithm in ALGORITHMS:
        estimator = build_estimator(algorithm, labels[split.train])
        _, fit_seconds[algorithm] = timed(
            lambda estimator=estimator: estimator.fit(matrix[split.train], labels[split.train])
        )
        scores = estimator.predict_proba(matrix[split.test])[:, 1]
        training.add_row(
            algorithm,
            f"{fit_seconds[algorithm]:.1f}",
            f"{len(split.train) / fit_seconds[algorithm]:,.0f}",
            f"{fit_seconds[algorithm] / fit_seconds['xgboost']:.2f}x",
            f"{average_precision_score(labels[split.test], scores):.4f}",
            f"{roc_auc_score(labels[split.test], scores):.4f}",
        )
    console.print(training)
    console.print(feature_scaling(frame, sizes))


if __name__ == "__main__":
    main()
