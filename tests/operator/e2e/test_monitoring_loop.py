"""The loop closes on a real API server, told in order: serve → shifted traffic and feedback → the
monitoring Job flags the shifted feature → a retraining Job with reason Drift → the gate decides
its version → status, Events, the report and the version's tags show each step.

The tests of this module share one FraudModel and run in file order. The monitoring pass is
started by hand from the operator's CronJob (``kubectl create job --from=cronjob/...``, as a
person would), so the story does not wait for the hourly schedule.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from devcluster import DevCluster
from devcluster.pytest_plugin import eventually
from mlflow.tracking import MlflowClient

from e2e.kube import fraudmodel, get_json, kubectl, wait_for_status, wait_until_ready

pytestmark = pytest.mark.cluster

NAME = "fraud-watched"
MONITOR_JOB = f"{NAME}-monitor-by-hand"
RETRAINING_JOB = f"{NAME}-retrain-drift-1"
SHIFTED_REQUESTS = 1500
#: Rows per /predict/batch request of the shifted traffic.
BATCH_ROWS = 100
LABELLED = 600
FEEDBACK_SENDERS = 6
#: Passes only when started by hand (once a year otherwise), small windows allowed; any drift
#: score from 0.25 over 500 requests retrains; a retrained version may be worse than the champion
#: by any amount (the gate still judges it against minRocAuc and minPrAuc).
MANIFEST = f"""
apiVersion: fraudops.io/v1alpha1
kind: FraudModel
metadata: {{name: {NAME}}}
spec:
  data: {{synthetic: {{rows: 20000, fraudRate: 0.02}}}}
  serving: {{minReplicas: 1, maxReplicas: 1}}
  monitoring: {{schedule: "0 0 1 1 *", window: 1h, minRows: 500}}
  retraining:
    productionWindow: 1d
    drift: {{psiThreshold: 0.25, minRows: 500, cooldown: 24h}}
"""


@dataclass
class Story:
    namespace: str
    #: The serving Service's URL on the host (by its DNS name, through kube-proxy).
    url: str


def transaction(i: int) -> dict[str, Any]:
    """A request whose amount is thirty times what the model was trained on: planted drift."""
    return {
        "transaction_id": f"shifted-{i}",
        "customer_id": f"c-{i % 97}",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "amount": 1500.0 + 37.0 * (i % 50),
        "merchant_id": f"m-{i % 13}",
        "merchant_category": "electronics",
        "merchant_country": "US",
        "channel": "online",
        "device_id": f"d-{i % 97}",
        "lat": 40.7,
        "lon": -74.0,
        "home_lat": 40.7,
        "home_lon": -74.0,
        "home_country": "US",
    }


def admin_token(namespace: str) -> str:
    secret = get_json("secret", f"{NAME}-serving-admin", "-n", namespace)
    return base64.b64decode(secret["data"]["token"]).decode()


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status.get("conditions", []) if c["type"] == type_)


def events(namespace: str) -> str:
    return kubectl(
        "get", "events", "-n", namespace, "--field-selector", f"involvedObject.name={NAME}"
    ).stdout


@pytest.fixture(scope="module")
def story(operator: Any, devcluster: DevCluster) -> Iterator[Story]:
    namespace = f"e2e-monitoring-{int(time.time()) % 100000}"
    kubectl("create", "namespace", namespace)
    kubectl("apply", "-n", namespace, "-f", "-", stdin=MANIFEST)
    wait_until_ready(namespace, NAME)
    yield Story(namespace, devcluster.service_url(f"{NAME}-serving", namespace, 8080))
    kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_the_fraud_model_gets_a_monitoring_cronjob(story: Story) -> None:
    cronjob = get_json("cronjob", f"{NAME}-monitor", "-n", story.namespace)

    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    assert condition(fraudmodel(story.namespace, NAME)["status"], "Drifting")["status"] == "Unknown"


def test_shifted_traffic_is_served_and_its_feedback_stored(story: Story) -> None:
    with httpx.Client(base_url=story.url, timeout=30) as client:
        for start in range(0, SHIFTED_REQUESTS, BATCH_ROWS):
            rows = [transaction(i) for i in range(start, min(start + BATCH_ROWS, SHIFTED_REQUESTS))]
            answer = client.post("/predict/batch", json={"transactions": rows})
            assert answer.status_code == 200, answer.text
            assert len(answer.json()["predictions"]) == len(rows)
    headers = {"Authorization": f"Bearer {admin_token(story.namespace)}"}

    def label(i: int) -> bool:
        body = {"transaction_id": f"shifted-{i}", "is_fraud": int(i % 10 == 0)}
        answer = httpx.post(f"{story.url}/feedback", json=body, headers=headers, timeout=30)
        assert answer.status_code in (200, 201, 404), answer.text
        return answer.status_code != 404  # 404: the audit row is not written yet

    def labelled(i: int) -> None:
        eventually(lambda: label(i), f"feedback on shifted-{i}", timeout=60)

    # as a chargeback feed would send them: several at a time
    with ThreadPoolExecutor(max_workers=FEEDBACK_SENDERS) as senders:
        list(senders.map(labelled, range(LABELLED)))


def test_the_monitoring_pass_flags_the_shifted_feature(story: Story) -> None:
    kubectl("create", "job", MONITOR_JOB, f"--from=cronjob/{NAME}-monitor", "-n", story.namespace)

    status = wait_for_status(
        story.namespace,
        NAME,
        lambda s: (s.get("monitoring") or {}).get("job") == MONITOR_JOB,
        "the monitoring pass's result in status",
        timeout=600,
    )

    monitoring = status["monitoring"]
    assert monitoring["verdict"] == "drifting"
    assert any("amount" in feature for feature in monitoring["driftedFeatures"])
    assert monitoring["driftScore"] >= 0.25
    assert monitoring["rows"] >= SHIFTED_REQUESTS
    assert monitoring["labelledRows"] >= LABELLED
    assert monitoring["report"].startswith("runs:/")
    drifting = condition(status, "Drifting")
    assert (drifting["status"], drifting["reason"]) == ("True", "FeaturesDrifted")
    assert "amount" in drifting["message"]


def test_kubectl_get_fm_shows_the_drift_score(story: Story) -> None:
    header, row = kubectl("get", "fm", NAME, "-n", story.namespace).stdout.splitlines()[:2]

    # kubectl aligns each cell under its header and leaves empty ones blank (CANARY, here)
    drift = row[header.index("DRIFT") :].split()[0]
    assert float(drift) >= 0.25


def test_drift_starts_one_retraining_job_with_reason_drift(story: Story) -> None:
    status = wait_for_status(
        story.namespace,
        NAME,
        lambda s: (s.get("retraining") or {}).get("job") == RETRAINING_JOB,
        "the drift retraining",
        timeout=120,
    )

    assert status["retraining"]["reason"] == "Drift"
    job = get_json("job", RETRAINING_JOB, "-n", story.namespace)
    assert job["metadata"]["labels"]["fraudops.io/retraining-reason"] == "Drift"
    retrainings = get_json(
        "jobs", "-n", story.namespace, "-l", "fraudops.io/retraining-reason=Drift"
    )["items"]
    assert [j["metadata"]["name"] for j in retrainings] == [RETRAINING_JOB]


def test_the_retrained_version_is_gated_and_tagged_with_its_reason(
    story: Story, mlflow_server: Any
) -> None:
    status = wait_for_status(
        story.namespace,
        NAME,
        lambda s: (
            s.get("trainingJob") == RETRAINING_JOB
            and s.get("candidateVersion") == "2"
            and condition(s, "Validated")["status"] in ("True", "False")
            and s.get("phase") == "Ready"
        ),
        "the gate's decision on the retrained version",
        timeout=900,
    )

    validated = condition(status, "Validated")
    expected = "2" if validated["status"] == "True" else "1"
    assert status["championVersion"] == expected  # a failed candidate never replaces version 1
    client = MlflowClient(tracking_uri=mlflow_server.tracking_uri)
    tags = client.get_model_version(f"{story.namespace}-{NAME}", "2").tags
    assert tags["fraudops.io/retraining-reason"] == "Drift"
    assert tags["fraudops.io/job"] == RETRAINING_JOB


def test_events_tell_each_step(story: Story) -> None:
    told = events(story.namespace)

    assert "FeaturesDrifted" in told
    assert "RetrainingDrift" in told
    assert RETRAINING_JOB in told


def test_the_same_pass_never_retrains_twice(story: Story) -> None:
    time.sleep(15)  # several timer ticks

    retrainings = get_json(
        "jobs", "-n", story.namespace, "-l", "fraudops.io/retraining-reason=Drift"
    )["items"]
    assert len(retrainings) == 1
