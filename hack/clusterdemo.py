"""``make demo``: the cluster path on a machine without a cluster.

``up`` starts the devcluster (a real node: kubelet on containerd, the project's images imported),
MLflow, Redis and PostgreSQL on loopback (offered to pods as Services), installs our Helm chart
(the operator runs as a pod from its image under its own ServiceAccount, as on kind or EKS),
applies the minimal sample FraudModel, waits for Ready, prints ``kubectl get fm`` and the answers
of the served model to a few transactions sent to its Service by DNS name, replays more traffic
with its labels (``POST /feedback``), runs the model's monitoring pass once (a Job from its
CronJob) and prints its drift and live-metric lines, and leaves everything running for a person
to explore. ``down`` stops it all. Everything lives under ``.fraudops/demo/``
(git-ignored).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from devcluster import start, stop
from devcluster.__main__ import DEFAULT_WORKDIR as CLUSTER_DIR
from devcluster.cluster import STATE_FILE, DevCluster
from devcluster.operator_install import InClusterServices, expose_services, install
from devcluster.processes import stop_tree
from localservices.mlflow_server import MlflowServer
from localservices.postgres import PostgresServer
from localservices.redis_server import RedisServer

REPO = Path(__file__).resolve().parents[1]
DEMO_DIR = REPO / ".fraudops" / "demo"
STATE = DEMO_DIR / "services.json"
NAMESPACE = "fraud-demo"
SYSTEM_NAMESPACE = "fraudops-system"
MODEL = "fraud-minimal"
READY_TIMEOUT_S = 900


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def start_cluster() -> DevCluster:
    if (CLUSTER_DIR / STATE_FILE).exists():
        running = DevCluster.load(CLUSTER_DIR)
        if running.alive():
            return running
        stop(running, keep_workdir=False)
    shutil.rmtree(CLUSTER_DIR, ignore_errors=True)
    return start(CLUSTER_DIR, keep_workdir=False)


def start_services() -> dict[str, Any]:
    """MLflow, Redis and PostgreSQL as background processes; their handles go to the state file."""
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    mlflow = MlflowServer(root=DEMO_DIR / "mlflow")
    mlflow.start()
    redis = RedisServer()
    redis.start()
    postgres = PostgresServer()
    postgres.start()
    postgres.create_database()
    state = {
        "mlflow": {
            "pid": mlflow.pid,
            "uri": mlflow.tracking_uri,
            "port": mlflow.port,
            "root": str(mlflow.root),
        },
        "redis": {"pid": redis.pid, "url": redis.url, "port": redis.port, "root": str(redis.root)},
        "postgres": {"dsn": postgres.dsn, "port": postgres.port, "root": str(postgres.root)},
    }
    STATE.write_text(json.dumps(state, indent=2))
    return state


def kubectl(cluster: DevCluster, *args: str) -> str:
    return cluster.kubectl(*args).stdout


def install_operator(cluster: DevCluster, services: dict[str, Any]) -> InClusterServices:
    """``helm install`` our chart; the operator runs as a pod from its image."""
    in_cluster = expose_services(
        cluster, services["mlflow"]["port"], services["redis"]["port"], services["postgres"]["port"]
    )
    install(cluster, in_cluster)
    return in_cluster


def wait_ready(cluster: DevCluster) -> dict[str, Any]:
    deadline = time.monotonic() + READY_TIMEOUT_S
    phase = ""
    while time.monotonic() < deadline:
        body = json.loads(kubectl(cluster, "get", "fm", MODEL, "-n", NAMESPACE, "-o", "json"))
        status = body.get("status", {})
        if status.get("phase") != phase:
            phase = status.get("phase", "")
            say(f"phase {phase or '-'}: {status.get('message', '')}")
        if phase in ("Ready", "Failed"):
            return status
        time.sleep(2)
    raise SystemExit(f"the FraudModel did not become Ready within {READY_TIMEOUT_S}s")


def sample_stream(customers: int) -> list[dict[str, Any]]:
    """The whole history of a few customers hit by fraud, in time order, with the truth kept.

    Sent in order, the first transactions build each customer's online state in Redis, so the
    later ones are scored with real velocity and behaviour features.
    """
    from fraud_training.generator.config import GeneratorConfig
    from fraud_training.generator.stream import generate_transactions

    frame = generate_transactions(GeneratorConfig(rows=20_000, fraud_rate=0.02, seed=99))
    victims = frame.loc[frame["is_fraud"] == 1, "customer_id"].drop_duplicates().head(customers)
    picked = frame[frame["customer_id"].isin(victims)].sort_values("timestamp")
    rows = []
    for row in picked.to_dict("records"):
        row["timestamp"] = row["timestamp"].isoformat()
        rows.append(row)
    return rows


def score(cluster: DevCluster) -> None:
    service = f"{MODEL}-serving"
    url = cluster.service_url(service, NAMESPACE, 8080)
    stream = sample_stream(3)
    say(
        f"sending the {len(stream)} transactions of 3 customers, in order, to "
        f"http://{service}.{NAMESPACE}.svc:8080/predict (from here: {url})"
    )
    header = f"{'transaction':<10}{'amount':>9}  {'truth':<20}{'probability':>11}  {'decision':<9}"
    print(f"\n{header} top feature")
    shown = 0
    with httpx.Client(timeout=30) as client:
        for row in stream:
            truth = row.pop("fraud_pattern")
            is_fraud = row.pop("is_fraud")
            answer = client.post(f"{url}/predict", json=row).json()
            if is_fraud or answer["decision"] != "approve" or shown < 3:
                shown += 1
                top = answer["top_features"][0]["feature"] if answer.get("top_features") else "-"
                print(
                    f"{row['transaction_id']:<10}{row['amount']:>9.2f}  {truth:<20}"
                    f"{answer['fraud_probability']:>11.4f}  {answer['decision']:<9} {top}"
                )
    print(
        f"(legit rows scored 'approve' are not shown after the first 3; model version "
        f"{answer['model_version']})"
    )


def replay_and_label(cluster: DevCluster, rows: int) -> None:
    """Production-like traffic for the monitoring pass: the first ``rows`` generated transactions
    in time order through the Service, then each one's true label on ``POST /feedback`` (the
    chargebacks a fraud team would send), authenticated with the serving admin token."""
    from fraud_training.generator.config import GeneratorConfig
    from fraud_training.generator.stream import generate_transactions

    frame = generate_transactions(GeneratorConfig(rows=20_000, fraud_rate=0.02, seed=7))
    picked = frame.sort_values("timestamp").head(rows).drop(columns=["fraud_pattern"])
    url = cluster.service_url(f"{MODEL}-serving", NAMESPACE, 8080)
    secret = json.loads(
        kubectl(cluster, "get", "secret", f"{MODEL}-serving-admin", "-n", NAMESPACE, "-o", "json")
    )
    token = base64.b64decode(secret["data"]["token"]).decode()
    say(f"replaying {rows} more transactions through the Service, then their labels to /feedback")
    labels = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for row in picked.to_dict("records"):
            labels.append((row["transaction_id"], int(row.pop("is_fraud"))))
            row["transaction_id"] = f"live-{row['transaction_id']}"
            row["timestamp"] = row["timestamp"].isoformat()
            client.post("/predict", json=row)
        headers = {"Authorization": f"Bearer {token}"}
        for transaction_id, is_fraud in labels:
            body = {"transaction_id": f"live-{transaction_id}", "is_fraud": is_fraud}
            client.post("/feedback", json=body, headers=headers)


def monitoring_pass(cluster: DevCluster) -> None:
    """Start the FraudModel's monitoring CronJob once by hand and print what lands in status."""
    job = f"{MODEL}-monitor-demo"
    say(f"kubectl create job {job} --from=cronjob/{MODEL}-monitor (the hourly pass, now)")
    kubectl(cluster, "create", "job", job, f"--from=cronjob/{MODEL}-monitor", "-n", NAMESPACE)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        body = json.loads(kubectl(cluster, "get", "fm", MODEL, "-n", NAMESPACE, "-o", "json"))
        monitoring = body.get("status", {}).get("monitoring") or {}
        if monitoring.get("job") == job:
            break
        time.sleep(3)
    else:
        raise SystemExit(f"the monitoring pass {job} left no result within 600 s")
    conditions = {c["type"]: c for c in body["status"].get("conditions", [])}
    print(f"\nmonitoring pass {job}: verdict {monitoring.get('verdict')}")
    for key in ("rows", "labelledRows", "driftScore", "scorePsi", "livePrecision", "liveRecall"):
        print(f"  {key:<14} {monitoring.get(key)}")
    drifted = monitoring.get("driftedFeatures") or []
    more = f" (+{len(drifted) - 6} more)" if len(drifted) > 6 else ""
    print(f"  drifted        {', '.join(drifted[:6]) or 'none'}{more}")
    for name in ("Drifting", "PerformanceDegraded"):
        if name in conditions:
            c = conditions[name]
            print(f"  {name:<19} {c['status']} ({c['reason']}): {c.get('message', '')[:160]}")
    print(f"  report         {monitoring.get('report')} (HTML, in MLflow)")


def up() -> int:
    started = time.monotonic()
    down()
    say("starting the devcluster (control plane, kubelet on containerd, CoreDNS, metrics-server)")
    cluster = start_cluster()
    say(f"devcluster up in {cluster.start_seconds:.0f}s with images {sorted(cluster.images)}")
    say("starting MLflow, Redis and PostgreSQL on loopback")
    services = start_services()
    say("helm install charts/fraudops (the operator runs as a pod from its image)")
    install_operator(cluster, services)
    say(f"kubectl apply -n {NAMESPACE} -f manifests/samples/minimal.yaml")
    with contextlib.suppress(subprocess.CalledProcessError):
        kubectl(cluster, "create", "namespace", NAMESPACE)
    kubectl(cluster, "apply", "-n", NAMESPACE, "-f", str(REPO / "manifests/samples/minimal.yaml"))
    status = wait_ready(cluster)
    print()
    print(kubectl(cluster, "get", "fm", "-n", NAMESPACE))
    if status.get("phase") != "Ready":
        print(kubectl(cluster, "describe", "fm", MODEL, "-n", NAMESPACE))
        return 1
    score(cluster)
    replay_and_label(cluster, 1000)
    monitoring_pass(cluster)
    print(
        f"\nDone in {time.monotonic() - started:.0f}s. Everything is still running:\n"
        f"  export KUBECONFIG={cluster.kubeconfig} PATH={cluster.bin_dir}:$PATH\n"
        f"  kubectl get fm -A; kubectl describe fm {MODEL} -n {NAMESPACE}\n"
        f"  MLflow UI: {services['mlflow']['uri']}\n"
        f"  kubectl logs -n fraudops-system deployment/fraudops-operator\n"
        "Tear it all down with: make demo-down"
    )
    return 0


def down() -> int:
    if STATE.exists():
        services = json.loads(STATE.read_text())
        for name in ("mlflow", "redis"):
            stop_tree(services[name]["pid"], grace=20)
        data = Path(services["postgres"]["root"]) / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                ["/usr/lib/postgresql/15/bin/pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"],
                user="postgres" if os.geteuid() == 0 else None,
                check=False,
                capture_output=True,
            )
        for name in ("redis", "postgres"):
            shutil.rmtree(services[name]["root"], ignore_errors=True)
        shutil.rmtree(DEMO_DIR, ignore_errors=True)
        say("MLflow, Redis and PostgreSQL stopped")
    if (CLUSTER_DIR / STATE_FILE).exists():
        stop(DevCluster.load(CLUSTER_DIR), keep_workdir=False)
        say("devcluster stopped")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m clusterdemo", description=__doc__)
    parser.add_argument("command", choices=("up", "down"))
    return {"up": up, "down": down}[parser.parse_args().command]()


if __name__ == "__main__":
    sys.exit(main())
