"""Serving benchmark: FraudOps against MLServer 1.7 on the same XGBoost model, on loopback.

One run trains one XGBoost model (200 trees, depth 6, on generated transactions), then starts
each server in turn, one worker process each, and drives it with wrk:

- MLServer with its XGBoost runtime, at its defaults and tuned (``parallel_workers: 0``,
  ``OMP_NUM_THREADS=1``), V2 infer of one feature row;
- FraudOps, V2 infer of the same row, with the bundle's own estimator (``PREDICTOR=estimator``,
  the "before") and with the compiled ONNX predictor (the default);
- FraudOps ``POST /predict`` of raw transactions (new customer and time on every request), with
  Redis online features, the PostgreSQL audit trail and metrics on, explanations by path
  attribution (default) and by exact TreeSHAP.

Each gets a 3 s warm-up, then p50/p99 at 1 connection and throughput/p99 at 32 connections; RSS
is read after the load. A single-connection p99 on this 2-core machine moves by a factor of two
between back-to-back runs, so every server gets three single-connection runs per placement and
the median one (by p99) is compared; each run's p99 is printed. The single-connection runs are
made in two placements (see :mod:`serving.placement`): ``free``, where the scheduler puts the
server and wrk on either CPU and this virtual machine's cross-CPU wake-ups stall about 1 % of
requests, and ``one-cpu``, the server's threads and wrk on one CPU. The table gives the p99
ratio in the free placement and with each server in the placement that suits it best. It closes
the run, preceded by in-process costs per row of the predictor and explainer options.
Not part of ``make test``:

    .venv/bin/python benchmarks/bench_serving.py            # about 15 minutes
    .venv/bin/python benchmarks/bench_serving.py --memory-only   # serving RSS only, ~2 minutes
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "hack"), str(REPO / "benchmarks")]

from fraud_inference.explain import TreePathExplainer  # noqa: E402
from fraud_inference.predictor import OnnxTreePredictor, xgboost_learner  # noqa: E402
from fraud_training.algorithms import build_estimator  # noqa: E402
from fraud_training.bundle import ModelBundle, Thresholds  # noqa: E402
from fraud_training.features import transaction_features  # noqa: E402
from fraud_training.generator import GeneratorConfig, generate_transactions  # noqa: E402
from fraud_training.schema import LABEL  # noqa: E402
from localservices.ports import free_port  # noqa: E402
from localservices.postgres import started_postgres  # noqa: E402
from localservices.redis_server import started_redis  # noqa: E402
from serving import placement, servers  # noqa: E402
from serving.wrk import LoadResult, run_wrk  # noqa: E402

SCRIPTS = REPO / "benchmarks" / "serving"
V2_PATH = "/v2/models/fraud-detector/infer"
ESTIMATOR = {"PREDICTOR": "estimator"}


@dataclass(frozen=True)
class Single:
    """The single-connection runs of one placement: the median run by p99, every run's p99."""

    median: LoadResult
    p99s: tuple[float, ...]
    failed: int


@dataclass(frozen=True)
class Row:
    """One line of the result table."""

    server: str
    config: str
    singles: dict[str, Single]
    loaded: LoadResult
    rss_mb: float

    @property
    def failed(self) -> int:
        """Failed requests over every run of this row."""
        return sum(single.failed for single in self.singles.values()) + self.loaded.failed

    @property
    def best_p99_ms(self) -> float:
        """The single-connection p99 of the placement that suits this server best."""
        return min(single.median.p99_ms for single in self.singles.values())


def train_model(rows: int, trees: int, depth: int) -> tuple[ModelBundle, np.ndarray]:
    """The benchmark's model and a feature matrix to draw request rows from."""
    frame = generate_transactions(GeneratorConfig(rows=rows, seed=42))
    features = transaction_features(frame)
    labels = frame[LABEL].to_numpy()
    estimator = build_estimator(
        "xgboost", labels, hyperparameters={"n_estimators": trees, "max_depth": depth}
    )
    estimator.fit(features, labels)
    bundle = ModelBundle("transactions", "xgboost", estimator, Thresholds(0.5, 0.9))
    return bundle, features


def per_row_costs(bundle: ModelBundle, features: np.ndarray) -> None:
    """In-process cost of one row through each predictor and explainer option."""
    learner = xgboost_learner(bundle)
    learner.get_booster().set_param({"nthread": 1})
    row = features[:1]
    onnx = OnnxTreePredictor.from_xgboost(learner, features.shape[1])
    path = TreePathExplainer.from_xgboost(learner.get_booster(), features.shape[1])
    options: dict[str, Callable[[], object]] = {
        "estimator predict_proba (pipeline)": lambda: bundle.predict_proba(row),
        "Booster.inplace_predict, nthread=1": lambda: learner.get_booster().inplace_predict(row),
        "ONNX Runtime, 1 thread": lambda: onnx.probability(row),
        "explain: exact TreeSHAP (bundle)": lambda: bundle.contributions(row),
        "explain: path attribution": lambda: path.contributions(row),
    }
    print("\nper-row cost in process (1 row per call)")
    for name, call in options.items():
        call()
        calls, started = 0, time.perf_counter()
        while time.perf_counter() - started < 1.0:
            call()
            calls += 1
        elapsed = time.perf_counter() - started
        print(f"  {name:<38} {elapsed / calls * 1e6:9.1f} us   {calls / elapsed:9.0f} rows/s")


def measure(
    server: servers.ServerProcess,
    path: str,
    script: str,
    env: dict[str, str],
    args: argparse.Namespace,
    config: str,
) -> Row:
    """Warm up, then 1 connection in each placement (``--single-runs`` times each: the median
    run by p99), then 32 connections with the server free again."""
    url = server.base_url + path
    run_wrk(url, SCRIPTS / script, 8, 3, env)
    singles: dict[str, Single] = {}
    for name in placement.PLACEMENTS:
        cpus = placement.cpus_of(name)
        placement.place_process_tree(server.pid, cpus)
        runs = sorted(
            (
                run_wrk(url, SCRIPTS / script, 1, args.seconds_single, env, cpus)
                for _ in range(args.single_runs)
            ),
            key=lambda result: result.p99_ms,
        )
        singles[name] = Single(
            runs[len(runs) // 2],
            tuple(result.p99_ms for result in runs),
            sum(result.failed for result in runs),
        )
    placement.place_process_tree(server.pid, placement.cpus_of(placement.FREE))
    loaded = run_wrk(url, SCRIPTS / script, 32, args.seconds_loaded, env)
    row = Row(
        server.label.split(" ")[0] if server.label.startswith("fraudops") else "MLServer 1.7",
        config,
        singles,
        loaded,
        server.rss_mb(),
    )
    at_one = "; ".join(
        f"{name}: p50 {single.median.p50_ms:.2f} ms, p99 {single.median.p99_ms:.2f} ms "
        f"(each run: {', '.join(f'{p99:.2f}' for p99 in single.p99s)})"
        for name, single in singles.items()
    )
    print(
        f"  {row.server} {config}: @1 {at_one}; {loaded.requests_per_s:.0f} req/s, "
        f"p99 {loaded.p99_ms:.1f} ms @32; {row.rss_mb:.0f} MB; failed {row.failed}",
        flush=True,
    )
    return row


def print_table(rows: list[Row], baseline: Row | None) -> None:
    """The side-by-side table, with ratios against tuned MLServer."""
    free, one_cpu = placement.FREE, placement.ONE_CPU
    header = (
        f"{'server':<13}{'config':<34}{'p50@1':>7}{'p99@1':>7}{'p99@1':>9}{'req/s':>7}"
        f"{'p99@32':>8}{'RSS':>6}{'failed':>7}{'x req/s':>8}{'x p99@1':>8}{'x p99@1':>8}"
    )
    units = (
        f"{'':<47}{free:>7}{free:>7}{one_cpu:>9}{'@32':>7}{'ms':>8}{'MB':>6}{'':>7}"
        f"{'':>8}{free:>8}{'best':>8}"
    )
    print("\n" + header + "\n" + units + "\n" + "-" * len(header))
    for row in rows:
        ratio_rate = ratio_free = ratio_best = "-"
        if baseline is not None:
            ratio_rate = f"{row.loaded.requests_per_s / baseline.loaded.requests_per_s:.2f}"
            ratio_free = (
                f"{row.singles[free].median.p99_ms / baseline.singles[free].median.p99_ms:.2f}"
            )
            ratio_best = f"{row.best_p99_ms / baseline.best_p99_ms:.2f}"
        print(
            f"{row.server:<13}{row.config:<34}{row.singles[free].median.p50_ms:>7.2f}"
            f"{row.singles[free].median.p99_ms:>7.2f}{row.singles[one_cpu].median.p99_ms:>9.2f}"
            f"{row.loaded.requests_per_s:>7.0f}{row.loaded.p99_ms:>8.1f}{row.rss_mb:>6.0f}"
            f"{row.failed:>7}{ratio_rate:>8}{ratio_free:>8}{ratio_best:>8}"
        )
    print(
        "@1: one connection, the median of the runs by p99 (each run is printed above); "
        f"{free}: placed by the scheduler; {one_cpu}: the server and wrk on one CPU"
    )
    if baseline is not None:
        print(
            "ratios against tuned MLServer: x req/s = req/s@32; x p99@1 free = p99@1 free; "
            "x p99@1 best = each server's better placement"
        )


@dataclass(frozen=True)
class Memory:
    """One server's resident memory: right after the model is loaded, and after load."""

    server: str
    config: str
    ready_mb: float
    loaded_mb: float
    requests_per_s: float


def measure_memory(
    server: servers.ServerProcess,
    label: str,
    config: str,
    path: str,
    script: str,
    env: dict[str, str],
    seconds: int,
) -> Memory:
    """RSS of the server's process tree when ready (model loaded, no request yet), then after a
    warm-up and ``seconds`` at 32 connections."""
    ready = server.rss_mb()
    url = server.base_url + path
    run_wrk(url, SCRIPTS / script, 8, 3, env)
    loaded = run_wrk(url, SCRIPTS / script, 32, seconds, env)
    memory = Memory(label, config, ready, server.rss_mb(), loaded.requests_per_s)
    print(
        f"  {label} {config}: {ready:.0f} MB ready, {memory.loaded_mb:.0f} MB under load",
        flush=True,
    )
    return memory


def print_memory_table(rows: list[Memory]) -> None:
    """Serving RSS side by side, with the ratio against tuned MLServer (the first row)."""
    baseline = rows[0]
    print(
        f"\n{'server':<14}{'config':<34}{'RSS ready':>10}{'RSS load':>10}{'req/s':>8}{'x RSS':>7}"
    )
    for row in rows:
        print(
            f"{row.server:<14}{row.config:<34}{row.ready_mb:>8.0f}MB{row.loaded_mb:>8.0f}MB"
            f"{row.requests_per_s:>8.0f}{row.loaded_mb / baseline.loaded_mb:>7.2f}"
        )
    print("x RSS = RSS under load / tuned MLServer's; goal for FraudOps: <= 250 MB")


def memory_only(args: argparse.Namespace, work: Path, bundle_dir: Path, model_file: Path) -> None:
    """Tuned MLServer, then FraudOps from the bundle's serving payload (V2 and /predict), and
    from its pickled estimator as serving loaded every bundle before the payload."""
    rows: list[Memory] = []
    server = servers.mlserver(free_port(), work / "mlserver-tuned", model_file, True, free_port)
    try:
        rows.append(
            measure_memory(
                server,
                "MLServer 1.7",
                "V2, parallel_workers 0, OMP 1",
                f"/v2/models/{servers.MLSERVER_MODEL}/infer",
                "post_body.lua",
                {"BODY_FILE": str(work / "mlserver.json")},
                args.seconds_loaded,
            )
        )
    finally:
        server.stop()
    redis, postgres = started_redis(), started_postgres()
    try:
        for index, (config, path, script, env) in enumerate(
            (
                ("V2, ONNX payload", V2_PATH, "post_body.lua", {}),
                ("/predict, path explanations", "/predict", "post_transactions.lua", {}),
                # The "before": the pickled estimator, which imports the training stack.
                ("V2, estimator (training stack)", V2_PATH, "post_body.lua", ESTIMATOR),
            )
        ):
            # A fresh process per row, so "ready" is each one's memory before any request.
            server = servers.ours(
                free_port(), bundle_dir, redis.url, postgres.dsn, work / f"spool-m{index}", **env
            )
            try:
                rows.append(
                    measure_memory(
                        server,
                        "fraudops",
                        config,
                        path,
                        script,
                        {"BODY_FILE": str(work / "ours.json")},
                        args.seconds_loaded,
                    )
                )
            finally:
                server.stop()
    finally:
        redis.close()
        postgres.close()
    print_memory_table(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000, help="training rows")
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--seconds-single", type=int, default=10)
    parser.add_argument("--seconds-loaded", type=int, default=15)
    parser.add_argument(
        "--single-runs",
        type=int,
        default=3,
        help="single-connection runs per server and placement; the median by p99 is compared",
    )
    parser.add_argument("--skip-mlserver", action="store_true")
    parser.add_argument(
        "--memory-only",
        action="store_true",
        help="only serving RSS (after model load and under load) against tuned MLServer",
    )
    args = parser.parse_args()

    print(
        f"training XGBoost ({args.trees} trees, depth {args.depth}) on {args.rows:,} rows...",
        flush=True,
    )
    bundle, features = train_model(args.rows, args.trees, args.depth)
    if not args.memory_only:
        per_row_costs(bundle, features)

    with tempfile.TemporaryDirectory(prefix="fraudops-bench-") as scratch:
        work = Path(scratch)
        bundle_dir = bundle.save(work / "bundle")
        model_file = work / "model.json"
        xgboost_learner(bundle).save_model(model_file)
        row = features[1234].tolist()
        v2_ours = {
            "inputs": [
                {"name": "features", "shape": [1, len(row)], "datatype": "FP64", "data": row}
            ]
        }
        v2_mlserver = {
            "inputs": [
                {"name": "input-0", "shape": [1, len(row)], "datatype": "FP64", "data": row}
            ],
            "outputs": [{"name": "predict_proba"}],
        }
        (work / "ours.json").write_bytes(orjson.dumps(v2_ours))
        (work / "mlserver.json").write_bytes(orjson.dumps(v2_mlserver))
        ours_body = {"BODY_FILE": str(work / "ours.json")}
        if args.memory_only:
            memory_only(args, work, bundle_dir, model_file)
            return
        rows: list[Row] = []
        baseline: Row | None = None

        print("\nload (wrk on loopback)", flush=True)
        if not args.skip_mlserver:
            for tuned in (False, True):
                server = servers.mlserver(
                    free_port(), work / f"mlserver-{tuned}", model_file, tuned, free_port
                )
                try:
                    config = "V2, parallel_workers 0, OMP 1" if tuned else "V2, defaults"
                    path = f"/v2/models/{servers.MLSERVER_MODEL}/infer"
                    rows.append(
                        measure(
                            server,
                            path,
                            "post_body.lua",
                            {"BODY_FILE": str(work / "mlserver.json")},
                            args,
                            config,
                        )
                    )
                finally:
                    server.stop()
            baseline = rows[-1]

        redis, postgres = started_redis(), started_postgres()
        try:
            services = (redis.url, postgres.dsn)
            variants = (
                (
                    {"PREDICTOR": "estimator"},
                    [("V2, estimator predictor (before)", V2_PATH, "post_body.lua")],
                ),
                (
                    {},
                    [
                        ("V2, ONNX predictor", V2_PATH, "post_body.lua"),
                        ("/predict, path explanations", "/predict", "post_transactions.lua"),
                    ],
                ),
                (
                    {"EXPLAIN_METHOD": "exact"},
                    [("/predict, exact TreeSHAP", "/predict", "post_transactions.lua")],
                ),
            )
            for index, (env, runs) in enumerate(variants):
                server = servers.ours(
                    free_port(), bundle_dir, *services, work / f"spool-{index}", **env
                )
                try:
                    for config, path, script in runs:
                        rows.append(measure(server, path, script, ours_body, args, config))
                finally:
                    server.stop()
        finally:
            redis.close()
            postgres.close()
        print_table(rows, baseline)


if __name__ == "__main__":
    main()
