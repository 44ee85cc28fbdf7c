"""``make demo``: the cluster path on a machine without a cluster.

``up`` starts the devcluster (a real node: kubelet on containerd, the project's images imported),
installs our Helm chart with every service bundled (charts/fraudops/values-devcluster.yaml: the
operator under its own ServiceAccount, PostgreSQL, Redis, the SeaweedFS object store, MLflow and
Prometheus, all pods from images built here, nothing on loopback beside the cluster), uploads the
minimal sample's transactions to the chart's object store, applies the minimal sample FraudModel
reading them from there (``s3://``), waits for Ready, prints ``kubectl get fm`` and the answers
of the served model to a few transactions sent to its Service by DNS name, replays more traffic
with its labels (``POST /feedback``), runs the model's monitoring pass once (a Job from its
CronJob) and prints its drift and live-metric lines, and leaves everything running for a person
to explore. ``up --kserve`` (``make demo-kserve``) also installs KServe's controller (built here
from its pinned Go module, ``devcluster.kserve``) and serves the model with ``runtime: kserve``
(the operator's Service in front of KServe's predictor pods, as for ``fastapi``). ``down`` stops
it all. Everything lives under ``.fraudops/demo/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from devcluster import kserve, start, stop
from devcluster.__main__ import DEFAULT_WORKDIR as CLUSTER_DIR
from devcluster.cluster import STATE_FILE, DevCluster
from devcluster.operator_install import RELEASE, SYSTEM_NAMESPACE, install_platform
from devcluster.volumes import provide_volumes

REPO = Path(__file__).resolve().parents[1]
DEMO_DIR = REPO / ".fraudops" / "demo"
#: Where the demo's transactions go in the chart's object store (the bucket MLflow uses too).
DATA_BUCKET = "fraudops"
DATA_KEY = "demo/transactions.csv"
NAMESPACE = "fraud-demo"
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


def kubectl(cluster: DevCluster, *args: str, stdin: str | None = None) -> str:
    return cluster.kubectl(*args, input=stdin).stdout


def install_platform_chart(cluster: DevCluster) -> None:
    """``helm install`` our chart with every service bundled (the devcluster values): the
    operator, PostgreSQL, Redis, the object store, MLflow and Prometheus run as pods from images
    built here; their claims bind to the devcluster's hostPath volumes."""
    provide_volumes(cluster, 2)
    with contextlib.suppress(subprocess.CalledProcessError):
        kubectl(cluster, "create", "namespace", NAMESPACE)
    install_platform(cluster, RELEASE, SYSTEM_NAMESPACE, (NAMESPACE,))


def secret_data(cluster: DevCluster, name: str, namespace: str) -> dict[str, str]:
    body = json.loads(kubectl(cluster, "get", "secret", name, "-n", namespace, "-o", "json"))
    return {key: base64.b64decode(value).decode() for key, value in body["data"].items()}


def upload_data(cluster: DevCluster) -> dict[str, Any]:
    """Generate the minimal sample's transactions, put them in the chart's object store and give
    the FraudModel's namespace the store's keys; return the FraudModel with its data there."""
    import boto3
    from fraud_training.generator import GeneratorConfig, generate_transactions, write_transactions

    model = yaml.safe_load((REPO / "manifests/samples/minimal.yaml").read_text())
    synthetic = model["spec"]["data"]["synthetic"]
    frame = generate_transactions(
        GeneratorConfig(rows=synthetic["rows"], fraud_rate=synthetic["fraudRate"], seed=42)
    )
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    local = write_transactions(frame, DEMO_DIR / "transactions.csv")
    keys = secret_data(cluster, f"{RELEASE}-object-store", SYSTEM_NAMESPACE)
    store = boto3.client(
        "s3",
        endpoint_url=cluster.service_url("object-store", SYSTEM_NAMESPACE, 8333),
        aws_access_key_id=keys["accessKey"],
        aws_secret_access_key=keys["secretKey"],
        region_name="us-east-1",
    )
    store.upload_file(str(local), DATA_BUCKET, DATA_KEY)
    say(f"uploaded {len(frame)} transactions to s3://{DATA_BUCKET}/{DATA_KEY} (the chart's store)")
    keys_secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "training-data-keys", "namespace": NAMESPACE},
        "stringData": {
            "AWS_ACCESS_KEY_ID": keys["accessKey"],
            "AWS_SECRET_ACCESS_KEY": keys["secretKey"],
        },
    }
    kubectl(cluster, "apply", "-f", "-", stdin=json.dumps(keys_secret))
    model["spec"]["data"] = {
        "uri": f"s3://{DATA_BUCKET}/{DATA_KEY}",
        "s3": {
            "endpoint": f"http://object-store.{SYSTEM_NAMESPACE}.svc:8333",
            "credentialsSecret": "training-data-keys",
        },
    }
    return model


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


#: The operator's Service in front of the model's pods, whichever the runtime, and its port.
SERVING_SERVICE, SERVING_PORT = f"{MODEL}-serving", 8080


def score(cluster: DevCluster) -> None:
    url = cluster.service_url(SERVING_SERVICE, NAMESPACE, SERVING_PORT)
    stream = sample_stream(3)
    say(
        f"sending the {len(stream)} transactions of 3 customers, in order, to "
        f"http://{SERVING_SERVICE}.{NAMESPACE}.svc:{SERVING_PORT}/predict (from here: {url})"
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
    url = cluster.service_url(SERVING_SERVICE, NAMESPACE, SERVING_PORT)
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


def up(on_kserve: bool) -> int:
    started = time.monotonic()
    down()
    say("starting the devcluster (control plane, kubelet on containerd, CoreDNS, metrics-server)")
    cluster = start_cluster()
    say(f"devcluster up in {cluster.start_seconds:.0f}s with images {sorted(cluster.images)}")
    say(
        "helm install charts/fraudops -f values-devcluster.yaml: the operator, PostgreSQL, Redis, "
        "the object store, MLflow and Prometheus as pods"
    )
    installing = time.monotonic()
    install_platform_chart(cluster)
    say(f"platform Ready in {time.monotonic() - installing:.0f}s")
    if on_kserve:
        say("installing KServe's controller (Standard mode, its CRDs, RBAC and webhooks)")
        say(f"KServe ready in {kserve.install(cluster):.0f}s")
    model = upload_data(cluster)
    if on_kserve:
        model["spec"]["serving"]["runtime"] = "kserve"
    say(f"kubectl apply -n {NAMESPACE}: manifests/samples/minimal.yaml with its data in s3://")
    kubectl(cluster, "apply", "-n", NAMESPACE, "-f", "-", stdin=json.dumps(model))
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
        f"  MLflow UI: {cluster.service_url('mlflow', SYSTEM_NAMESPACE, 5000)}\n"
        f"  kubectl logs -n fraudops-system deployment/fraudops-operator\n"
        "Tear it all down with: make demo-down"
    )
    return 0


def down() -> int:
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    if (CLUSTER_DIR / STATE_FILE).exists():
        stop(DevCluster.load(CLUSTER_DIR), keep_workdir=False)
        say("devcluster stopped (with every service and volume in it)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m clusterdemo", description=__doc__)
    parser.add_argument("command", choices=("up", "down"))
    parser.add_argument(
        "--kserve", action="store_true", help="up: serve the model through KServe's controller"
    )
    args = parser.parse_args()
    return up(args.kserve) if args.command == "up" else down()


if __name__ == "__main__":
    sys.exit(main())
