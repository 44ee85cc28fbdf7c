"""`helm install` of the whole platform on the real node, as a user installs it on kind: the chart's
own PostgreSQL, Redis, object store (SeaweedFS), MLflow and Prometheus from the devcluster values,
then a FraudModel whose data lives in that object store, trained, gated and served, and a
`helm upgrade` that restarts PostgreSQL and keeps every credential and every byte of data.

The tests of this module share one install and run in file order. The session's operator-only
release (the other end-to-end stories) watches every namespace, so it is scaled to zero while this
module's operator runs, and back afterwards.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import httpx
import psycopg
import pytest
import yaml
from devcluster import DevCluster
from devcluster.operator_install import OPERATOR_DEPLOYMENT, SYSTEM_NAMESPACE, install_platform
from devcluster.pytest_plugin import eventually
from devcluster.volumes import provide_volumes, release_volumes
from fraud_training.generator import GeneratorConfig, generate_transactions, write_transactions

from e2e.kube import REPO, TRANSACTION, get_json, kubectl, wait_until_ready

pytestmark = pytest.mark.cluster

RELEASE = "platform"
PLATFORM_NAMESPACE = "fraudops-platform"
MODELS_NAMESPACE = "platform-models"
MODEL = "fraud-from-s3"
#: `<namespace>-<name>`, the operator's default registered model name.
REGISTERED_MODEL = f"{MODELS_NAMESPACE}-{MODEL}"
BUCKET = "fraudops"
DATA_KEY = "data/transactions.csv"
#: What a user applies before `helm upgrade` (Helm never upgrades a CRD in crds/).
CHART_CRDS = REPO / "charts" / "fraudops" / "crds"
#: The alert and recording rules the chart mounts into its Prometheus.
RULES_FILE = REPO / "charts" / "fraudops" / "files" / "prometheus" / "fraudops-rules.yaml"
STORE_ENDPOINT = f"http://object-store.{PLATFORM_NAMESPACE}.svc:8333"
FRAUDMODEL = f"""
apiVersion: fraudops.io/v1alpha1
kind: FraudModel
metadata:
  name: {MODEL}
spec:
  data:
    uri: s3://{BUCKET}/{DATA_KEY}
    s3:
      endpoint: {STORE_ENDPOINT}
      credentialsSecret: training-data-keys
  training:
    algorithm: xgboost
    resources:
      requests: {{cpu: 500m, memory: 1Gi}}
  serving:
    minReplicas: 1
    maxReplicas: 1
    resources:
      requests: {{cpu: 100m, memory: 512Mi}}
"""


@dataclass
class Platform:
    """The installed release and what was measured on the way."""

    cluster: DevCluster
    figures: dict[str, Any] = field(default_factory=dict)

    def secret(self, name: str) -> dict[str, str]:
        data = get_json("secret", name, "-n", PLATFORM_NAMESPACE)["data"]
        return {key: base64.b64decode(value).decode() for key, value in data.items()}

    def store(self) -> Any:
        """An S3 client of the chart's object store, by its Service's DNS name."""
        keys = self.secret(f"{RELEASE}-object-store")
        return boto3.client(
            "s3",
            endpoint_url=self.cluster.service_url("object-store", PLATFORM_NAMESPACE, 8333),
            aws_access_key_id=keys["accessKey"],
            aws_secret_access_key=keys["secretKey"],
            region_name="us-east-1",
        )

    def audit_rows(self) -> int:
        """Rows of the audit trail in the chart's PostgreSQL, logged in with its Secret."""
        login = self.secret(f"{RELEASE}-postgresql")
        address = urlparse(self.cluster.service_url("postgresql", PLATFORM_NAMESPACE, 5432))
        with psycopg.connect(
            host=address.hostname,
            port=address.port,
            user=login["username"],
            password=login["password"],
            dbname="fraudops",
            connect_timeout=10,
        ) as connection:
            (count,) = connection.execute("SELECT count(*) FROM predictions").fetchone()
        return int(count)

    def champion(self) -> str:
        """The version the chart's MLflow registry calls the FraudModel's champion."""
        url = self.cluster.service_url("mlflow", PLATFORM_NAMESPACE, 5000)
        response = httpx.get(
            f"{url}/api/2.0/mlflow/registered-models/alias",
            params={"name": REGISTERED_MODEL, "alias": "champion"},
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["model_version"]["version"])

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query of the chart's Prometheus, by its Service's DNS name."""
        url = self.cluster.service_url("prometheus", PLATFORM_NAMESPACE, 9090)
        response = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=30)
        response.raise_for_status()
        return list(response.json()["data"]["result"])

    def helm(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.cluster.bin_dir / "helm"), *args, "-n", PLATFORM_NAMESPACE],
            env=self.cluster.env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )

    def predict(self, transaction_id: str) -> dict[str, Any]:
        url = self.cluster.service_url(f"{MODEL}-serving", MODELS_NAMESPACE, 8080)
        response = httpx.post(
            f"{url}/predict", json={**TRANSACTION, "transaction_id": transaction_id}, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()


@contextlib.contextmanager
def session_operator_paused(cluster: DevCluster) -> Iterator[None]:
    """The operator-only release of the other stories, scaled to zero while this module runs."""
    deployment = ["deployment", OPERATOR_DEPLOYMENT, "-n", SYSTEM_NAMESPACE]
    present = kubectl("get", *deployment, check=False).returncode == 0
    if present:
        kubectl("scale", *deployment, "--replicas=0")
        kubectl("rollout", "status", *deployment, "--timeout=120s")
    try:
        yield
    finally:
        if present:
            kubectl("scale", *deployment, "--replicas=1")
            kubectl("rollout", "status", *deployment, "--timeout=180s", check=False)


@contextlib.contextmanager
def steady_load(platform: Platform) -> Iterator[list[str]]:
    """Predictions one after another in a thread until the block ends; yields the ids of those
    answered (every one of them must reach the audit trail)."""
    answered: list[str] = []
    done = threading.Event()

    def send() -> None:
        for i in itertools.count():
            if done.is_set():
                return
            transaction_id = f"platform-load-{i}"
            with contextlib.suppress(httpx.HTTPError, AssertionError):
                platform.predict(transaction_id)
                answered.append(transaction_id)
            time.sleep(0.05)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    try:
        yield answered
    finally:
        done.set()
        thread.join(timeout=60)


def platform_pods() -> list[dict[str, Any]]:
    return [
        p
        for p in get_json("pods", "-n", PLATFORM_NAMESPACE)["items"]
        if p["status"].get("phase") == "Running"
    ]


def memory_mib(namespace: str) -> dict[str, float]:
    """Each pod's working set from the metrics API (metrics-server on the node)."""
    path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"
    items = json.loads(kubectl("get", "--raw", path).stdout)["items"]
    units = {"Ki": 1 / 1024, "Mi": 1.0, "Gi": 1024.0}
    used = {}
    for item in items:
        total = 0.0
        for container in item["containers"]:
            quantity = container["usage"]["memory"]
            total += float(quantity[:-2]) * units[quantity[-2:]]
        used[item["metadata"]["name"]] = round(total, 1)
    return used


@pytest.fixture(scope="module")
def platform(devcluster: DevCluster, fraudmodel_crd: Path) -> Iterator[Platform]:
    with session_operator_paused(devcluster):
        provide_volumes(devcluster, 2)
        kubectl("create", "namespace", MODELS_NAMESPACE)
        started = time.monotonic()
        install_platform(devcluster, RELEASE, PLATFORM_NAMESPACE, (MODELS_NAMESPACE,))
        platform = Platform(devcluster)
        platform.figures["install_seconds"] = round(time.monotonic() - started, 1)
        try:
            yield platform
        finally:
            print(f"\nplatform figures: {json.dumps(platform.figures, indent=1)}")
            kubectl(
                "delete",
                "namespace",
                MODELS_NAMESPACE,
                "--wait=true",
                "--timeout=180s",
                check=False,
            )
            platform.helm("uninstall", RELEASE, "--wait")
            kubectl(
                "delete",
                "namespace",
                PLATFORM_NAMESPACE,
                "--wait=true",
                "--timeout=180s",
                check=False,
            )
            release_volumes(devcluster)


def test_every_bundled_service_runs_from_the_nodes_images_without_a_default_password(
    platform: Platform,
) -> None:
    pods = platform_pods()
    components = {p["metadata"]["labels"].get("app.kubernetes.io/name") for p in pods}
    login = platform.secret(f"{RELEASE}-postgresql")
    platform.figures["pods_at_rest"] = len(pods)

    assert {"postgresql", "redis", "object-store", "mlflow", "prometheus"} <= components
    assert len(login["password"]) >= 16


def test_a_fraudmodel_trains_from_the_object_store_and_serves_a_prediction(
    platform: Platform, tmp_path: Path
) -> None:
    frame = generate_transactions(GeneratorConfig(rows=20_000, fraud_rate=0.03, seed=5))
    platform.store().upload_file(
        str(write_transactions(frame, tmp_path / "t.csv")), BUCKET, DATA_KEY
    )
    keys = platform.secret(f"{RELEASE}-object-store")
    kubectl(
        "create",
        "secret",
        "generic",
        "training-data-keys",
        "-n",
        MODELS_NAMESPACE,
        f"--from-literal=AWS_ACCESS_KEY_ID={keys['accessKey']}",
        f"--from-literal=AWS_SECRET_ACCESS_KEY={keys['secretKey']}",
    )
    started = time.monotonic()
    kubectl("apply", "-n", MODELS_NAMESPACE, "-f", "-", stdin=FRAUDMODEL)

    wait_until_ready(MODELS_NAMESPACE, MODEL, timeout=900)
    platform.figures["apply_to_ready_seconds"] = round(time.monotonic() - started, 1)
    answer = platform.predict("platform-1")

    assert 0.0 <= answer["fraud_probability"] <= 1.0
    assert answer["features_degraded"] is False, "the serving pod could not use the chart's Redis"
    assert platform.champion() == str(answer["model_version"])


def test_mlflow_keeps_the_models_artifacts_in_the_object_store(platform: Platform) -> None:
    listing = platform.store().list_objects_v2(Bucket=BUCKET, Prefix="mlflow/")

    keys = [item["Key"] for item in listing.get("Contents", [])]
    assert any(key.endswith("MLmodel") for key in keys), keys[:20]


def test_decisions_reach_the_charts_postgresql(platform: Platform) -> None:
    for i in range(5):
        platform.predict(f"platform-audit-{i}")

    eventually(lambda: platform.audit_rows() >= 6, "six audit rows in PostgreSQL", timeout=120)


def test_helm_test_checks_every_bundled_service_from_inside_the_cluster(
    platform: Platform,
) -> None:
    result = platform.helm("test", RELEASE, "--timeout", "5m")

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(re.findall(r"Phase:\s+Succeeded", result.stdout)) == 5, result.stdout


def test_the_charts_prometheus_scrapes_the_serving_pod_and_the_operator(
    platform: Platform,
) -> None:
    platform.predict("platform-scraped")

    scored = eventually(
        lambda: platform.query(f'fraudops_predictions_total{{namespace="{MODELS_NAMESPACE}"}}'),
        "the serving pod's prediction counter in the chart's Prometheus",
        timeout=120,
    )
    reconciles = eventually(
        lambda: platform.query(
            f'fraudops_operator_reconciles_total{{namespace="{PLATFORM_NAMESPACE}"}}'
        ),
        "the operator's reconcile counter in the chart's Prometheus",
        timeout=120,
    )
    assert sum(float(series["value"][1]) for series in scored) >= 1
    assert {series["metric"]["job"] for series in scored} == {MODEL}
    assert float(reconciles[0]["value"][1]) >= 1


def test_the_charts_prometheus_evaluates_every_rule_of_the_rules_file(platform: Platform) -> None:
    shipped = yaml.safe_load(RULES_FILE.read_text())["groups"]
    expected = {rule.get("alert") or rule["record"] for g in shipped for rule in g["rules"]}
    url = platform.cluster.service_url("prometheus", PLATFORM_NAMESPACE, 9090)

    loaded = httpx.get(f"{url}/api/v1/rules", timeout=30).json()["data"]["groups"]
    rules = [rule for group in loaded for rule in group["rules"]]

    assert {rule["name"] for rule in rules} == expected
    assert {rule["health"] for rule in rules} <= {"ok", "unknown"}


def test_helm_upgrade_restarts_postgresql_and_keeps_credentials_and_data(
    platform: Platform,
) -> None:
    secrets = {
        name: platform.secret(f"{RELEASE}-{name}") for name in ("postgresql", "object-store")
    }
    rows = platform.audit_rows()
    champion = platform.champion()
    old_pod = get_json("pod", f"{RELEASE}-postgresql-0", "-n", PLATFORM_NAMESPACE)["metadata"][
        "uid"
    ]
    platform.figures["memory_mib_at_rest"] = memory_mib(PLATFORM_NAMESPACE)

    with steady_load(platform) as sent:
        install_platform(
            platform.cluster,
            RELEASE,
            PLATFORM_NAMESPACE,
            (MODELS_NAMESPACE,),
            extra=("--set", "postgresql.resources.requests.memory=300Mi"),
        )
    new_pod = get_json("pod", f"{RELEASE}-postgresql-0", "-n", PLATFORM_NAMESPACE)["metadata"][
        "uid"
    ]

    assert new_pod != old_pod
    assert {n: platform.secret(f"{RELEASE}-{n}") for n in secrets} == secrets
    assert sent, "no prediction was answered while PostgreSQL restarted"
    # The serving pod spools the rows PostgreSQL could not take and writes them once it is back.
    eventually(
        lambda: platform.audit_rows() == rows + len(sent),
        f"{rows} + {len(sent)} audit rows after the restart",
        timeout=180,
    )
    assert platform.champion() == champion
    assert platform.predict("platform-after-upgrade")["fraud_probability"] >= 0.0


def test_the_documented_crd_upgrade_applies_over_the_installed_crd(platform: Platform) -> None:
    result = kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        # With the slash, as the docs write it: crds/ is a symlink (to manifests/crds), which
        # kubectl reads as a file without one.
        f"{CHART_CRDS}/",
        check=False,
    )

    assert result.returncode == 0, result.stderr
    kubectl("wait", "--for=condition=Established", "crd/fraudmodels.fraudops.io", "--timeout=60s")
    assert platform.predict("platform-after-crd-upgrade")["fraud_probability"] >= 0.0
