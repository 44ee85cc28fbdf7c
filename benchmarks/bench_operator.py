"""Operator latency and footprint on the devcluster, measured in one run.

1. ``kubectl apply`` of the minimal sample → training Job created → Job complete → phase Ready,
   with the training itself (the Job's start to completion) separated out.
2. N FraudModels present (``--models 50 1000``: 50, then 950 more for 1,000), the operator
   process's resident memory and CPU while its timers keep reconciling all of them (settled
   objects once a minute, see ``fraud_operator.main``). They live in a namespace whose
   ResourceQuota allows no pods, so each gets its training Job, which can start no pod and fails
   at its 60 s deadline: every FraudModel goes Training → Failed with a reason, without a
   thousand processes on two cores.

``--operator-src DIR`` runs the operator package found in DIR instead (e.g. an older commit's
``operator/`` from ``git archive``), for a before/after table on the same cluster and services.

Run: ``PYTHONPATH=hack .venv/bin/python benchmarks/bench_operator.py [--models 50 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from devcluster import start, stop
from localservices.mlflow_server import started_mlflow
from localservices.postgres import started_postgres
from localservices.redis_server import started_redis

REPO = Path(__file__).resolve().parents[1]
CRD = REPO / "manifests" / "crds" / "fraudmodels.fraudops.io.yaml"
SAMPLE = REPO / "manifests" / "samples" / "minimal.yaml"
UNSCHEDULABLE = """apiVersion: fraudops.io/v1alpha1
kind: FraudModel
metadata: {{name: bench-{index:04d}}}
spec:
  data: {{uri: /nonexistent/bench/{index:04d}.csv}}
  training: {{activeDeadlineSeconds: 60}}
"""
NO_PODS_QUOTA = """apiVersion: v1
kind: ResourceQuota
metadata: {name: no-pods}
spec:
  hard: {pods: "0"}
"""


#: Seconds the footprint is sampled: two periods of the settled objects' timer.
WINDOW_S = 120


def kubectl(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["kubectl", *args], input=stdin, env=env, check=True, capture_output=True, text=True
    ).stdout


def get(env: dict[str, str], *args: str) -> Any:
    return json.loads(kubectl(env, "get", *args, "-o", "json"))


def wait(predicate: Any, timeout: float = 900) -> float:
    """Seconds until ``predicate()`` is truthy (polled every 0.2 s)."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise SystemExit("timed out")
        time.sleep(0.2)
    return time.monotonic() - started


def seconds_between(first: str, second: str) -> float:
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(second) - parse(first)).total_seconds()


def phase(env: dict[str, str], namespace: str, name: str) -> str:
    return get(env, "fm", name, "-n", namespace).get("status", {}).get("phase", "")


def latency(env: dict[str, str]) -> dict[str, float]:
    kubectl(env, "create", "namespace", "bench-latency")
    kubectl(env, "apply", "-n", "bench-latency", "-f", str(SAMPLE))
    job_created = wait(lambda: get(env, "jobs", "-n", "bench-latency")["items"])
    ready = wait(lambda: phase(env, "bench-latency", "fraud-minimal") == "Ready") + job_created
    job = get(env, "jobs", "-n", "bench-latency")["items"][0]["status"]
    return {
        "apply → Job created (s)": job_created,
        "Job run: start → complete (s)": seconds_between(job["startTime"], job["completionTime"]),
        "apply → Ready (s)": ready,
    }


def started_up(operator: psutil.Process, steady_s: float = 5.0) -> None:
    """Wait until the operator's RSS has not moved by 1 MiB for ``steady_s``: imports done,
    kopf's watches open, so "before any FraudModel" is the started operator, not a bare
    interpreter."""
    last, since = operator.memory_info().rss, time.monotonic()
    while time.monotonic() - since < steady_s:
        time.sleep(0.5)
        rss = operator.memory_info().rss
        if abs(rss - last) > 2**20:
            last, since = rss, time.monotonic()


def footprint(env: dict[str, str], operator: psutil.Process, counts: list[int]) -> dict[str, float]:
    kubectl(env, "create", "namespace", "bench-many")
    kubectl(env, "apply", "-n", "bench-many", "-f", "-", stdin=NO_PODS_QUOTA)
    rows = {"operator RSS before any FraudModel (MiB)": operator.memory_info().rss / 2**20}
    present = 0
    for models in counts:
        manifests = "---\n".join(UNSCHEDULABLE.format(index=i) for i in range(present, models))
        kubectl(env, "apply", "-n", "bench-many", "-f", "-", stdin=manifests)
        present = models

        def all_failed(expected: int = models) -> bool:
            items = get(env, "fm", "-n", "bench-many")["items"]
            return sum(i.get("status", {}).get("phase") == "Failed" for i in items) == expected

        settle = wait(all_failed, timeout=3600)
        samples = []
        cpu_before = sum(operator.cpu_times()[:2])
        for _ in range(WINDOW_S):
            samples.append(operator.memory_info().rss)
            time.sleep(1)
        cpu = sum(operator.cpu_times()[:2]) - cpu_before
        rows |= {
            f"{models} FraudModels: time until all are Failed with a reason (s)": settle,
            f"{models} FraudModels: operator RSS, max over {WINDOW_S} s (MiB)": max(samples)
            / 2**20,
            f"{models} FraudModels: operator CPU while settled (% of one core)": 100
            * cpu
            / WINDOW_S,
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, nargs="+", default=[50])
    parser.add_argument("--operator-src", type=Path, help="a folder holding fraud_operator/")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    cluster = start()
    mlflow, redis, postgres = started_mlflow(), started_redis(), started_postgres()
    env = cluster.env()
    operator_process = None
    try:
        kubectl(env, "apply", "-f", str(CRD))
        kubectl(env, "wait", "--for=condition=Established", "crd/fraudmodels.fraudops.io")
        operator_env = {
            **env,
            "MLFLOW_TRACKING_URI": mlflow.tracking_uri,
            "FRAUDOPS_SERVING_ENV_REDIS_URL": redis.url,
            "FRAUDOPS_SERVING_ENV_DATABASE_URL": postgres.dsn,
            "FRAUDOPS_LIVENESS": "http://127.0.0.1:0/healthz",
        }
        if args.operator_src is not None:
            operator_env["PYTHONPATH"] = os.pathsep.join(
                [str(args.operator_src.resolve()), operator_env.get("PYTHONPATH", "")]
            )
        which = subprocess.run(
            [sys.executable, "-c", "import fraud_operator; print(fraud_operator.__path__[0])"],
            env=operator_env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"operator package: {which}", flush=True)
        operator_process = subprocess.Popen(
            [sys.executable, "-m", "fraud_operator"],
            env=operator_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        operator = psutil.Process(operator_process.pid)
        started_up(operator)
        rows = {} if args.skip_latency else latency(env)
        rows |= footprint(env, operator, sorted(args.models))
        width = max(map(len, rows))
        print(f"\n{'measure':<{width}}  value")
        for name, value in rows.items():
            print(f"{name:<{width}}  {value:8.1f}")
    finally:
        try:
            if operator_process is not None:
                stop_operator(operator_process)
        finally:
            for service in (mlflow, redis, postgres):
                service.close()
            stop(cluster)


def stop_operator(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if kopf is still finishing a thousand objects' handlers."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)


if __name__ == "__main__":
    main()
