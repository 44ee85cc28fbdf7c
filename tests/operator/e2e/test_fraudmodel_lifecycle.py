"""A FraudModel's life on a real API server, told in order: apply → Ready → retrain → gate → pin →
serving edit → unpin → restart during a gate → delete.

The tests of this module share one FraudModel and run in file order, each checking one step of its
life; the operator, the training Jobs and the serving pods are pods of the real node, from their
images. Requests go to the serving Service by its DNS name (`DevCluster.service_url`); a check of
what one pod serves goes through the API server's pod proxy.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from devcluster import DevCluster
from devcluster.pytest_plugin import eventually

from e2e import kube
from e2e.kube import (
    SAMPLES,
    TRANSACTION,
    fraudmodel,
    get_json,
    kubectl,
    wait_for_status,
    wait_until_ready,
)
from e2e.steady_load import steady_load

pytestmark = pytest.mark.cluster

NAME = "fraud-minimal"


@dataclass
class Story:
    """The shared FraudModel and what was measured on the way."""

    namespace: str
    #: The serving Service's URL on the host (DNS name and kube-proxy on the node's side).
    url: str
    timings: dict[str, float] = field(default_factory=dict)


def serving_pods(namespace: str) -> list[str]:
    pods = get_json(
        "pods",
        "-n",
        namespace,
        "-l",
        f"fraudops.io/fraudmodel={NAME},app.kubernetes.io/component=serving",
    )["items"]
    return [
        p["metadata"]["name"]
        for p in pods
        if not p["metadata"].get("deletionTimestamp")
        and any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in p["status"].get("conditions", [])
        )
    ]


def jobs_of_generation(namespace: str, generation: int) -> list[str]:
    found = get_json(
        "jobs",
        "-n",
        namespace,
        "-l",
        f"fraudops.io/fraudmodel={NAME},fraudops.io/generation={generation},"
        "app.kubernetes.io/component=training",
    )["items"]
    return [j["metadata"]["name"] for j in found]


def jobs(namespace: str, component: str) -> list[dict[str, Any]]:
    selector = f"fraudops.io/fraudmodel={NAME},app.kubernetes.io/component={component}"
    return get_json("jobs", "-n", namespace, "-l", selector)["items"]


def served_version(namespace: str, pod: str) -> str:
    """What one serving pod has loaded, asked through the API server's proxy to the pod."""
    path = f"/api/v1/namespaces/{namespace}/pods/{pod}:8080/proxy/model"
    return str(json.loads(kubectl("get", "--raw", path).stdout)["version"])


def served_versions(namespace: str) -> list[str]:
    return sorted(served_version(namespace, pod) for pod in serving_pods(namespace))


def patch_spec(namespace: str, spec: str) -> int:
    return kube.patch_spec(namespace, NAME, spec)


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status.get("conditions", []) if c["type"] == type_)


@pytest.fixture(scope="module")
def story(operator: Any, devcluster: DevCluster) -> Iterator[Story]:
    namespace = f"e2e-lifecycle-{int(time.time()) % 100000}"
    kubectl("create", "namespace", namespace)
    story = Story(namespace, devcluster.service_url(f"{NAME}-serving", namespace, 8080))
    started = time.monotonic()
    kubectl("apply", "-n", namespace, "-f", str(SAMPLES / "minimal.yaml"))
    eventually(lambda: jobs_of_generation(namespace, 1), "the first training Job", timeout=60)
    story.timings["apply_to_job_created_s"] = time.monotonic() - started
    wait_until_ready(namespace, NAME)
    story.timings["apply_to_ready_s"] = time.monotonic() - started
    yield story
    print(f"\nFraudModel timings: {story.timings}")
    kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_the_minimal_sample_becomes_ready_with_version_1(story: Story) -> None:
    status = fraudmodel(story.namespace, NAME)["status"]
    assert status["phase"] == "Ready"
    assert status["championVersion"] == "1"
    assert status["metrics"]["rocAuc"] > 0.5
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "TrainingSucceeded": "True",
        "Validated": "True",
        "Promoted": "True",
        "ServingReady": "True",
        "Drifting": "Unknown",  # no monitoring pass has run yet
        "PerformanceDegraded": "Unknown",
    }


def test_kubectl_get_fm_shows_the_columns_at_a_glance(story: Story) -> None:
    header, row = kubectl("get", "fm", "-n", story.namespace).stdout.splitlines()[:2]
    assert header.split() == [
        "NAME",
        "PHASE",
        "VERSION",
        "CANARY",
        "ROC-AUC",
        "PR-AUC",
        "DRIFT",
        "ENDPOINT",
        "AGE",
    ]
    assert row.split()[:3] == [NAME, "Ready", "1"]
    assert "fraud-minimal-serving" in row


def test_the_serving_service_answers_a_prediction_by_its_dns_name(story: Story) -> None:
    answer = httpx.post(f"{story.url}/predict", json=TRANSACTION, timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert 0.0 <= body["fraud_probability"] <= 1.0
    assert body["decision"] in ("approve", "review", "decline")
    assert body["model_version"] == "1"


def test_a_spec_change_serves_version_2_without_a_failed_request(story: Story) -> None:
    with steady_load(story.url) as load:
        new_data_any_quality = (
            '{"data": {"synthetic": {"seed": 7}}, "validation": {"maxRegression": 1}}'
        )
        generation = patch_spec(story.namespace, new_data_any_quality)
        eventually(lambda: jobs_of_generation(story.namespace, generation), "generation 2's Job")
        wait_for_status(
            story.namespace,
            NAME,
            lambda s: s.get("championVersion") == "2" and s.get("phase") == "Ready",
            "version 2 Ready",
            timeout=600,
        )
        eventually(lambda: "2" in load.versions, "a response scored by version 2")
    assert load.failures == []
    assert load.versions == {"1", "2"}


def test_a_model_failing_the_gate_leaves_the_champion_serving(story: Story) -> None:
    generation = patch_spec(
        story.namespace,
        '{"data": {"synthetic": {"seed": 13}}, "validation": {"minPrAuc": 0.999}}',
    )
    eventually(
        lambda: jobs_of_generation(story.namespace, generation), "the failing generation's Job"
    )
    status = wait_for_status(
        story.namespace,
        NAME,
        lambda s: condition(s, "Validated")["status"] == "False",
        "the gate to fail",
        timeout=600,
    )
    validated = condition(status, "Validated")
    assert validated["reason"] == "GateFailed"
    assert "validation.minPrAuc" in validated["message"]
    assert status["championVersion"] == "2"
    assert status["phase"] == "Ready"
    assert set(served_versions(story.namespace)) == {"2"}
    events = kubectl(
        "get", "events", "-n", story.namespace, "--field-selector", f"involvedObject.name={NAME}"
    ).stdout
    assert "GateFailed" in events


def test_a_pin_to_version_1_serves_it_and_no_reconcile_reverts_it(story: Story) -> None:
    patch_spec(story.namespace, '{"serving": {"version": 1}}')

    status = wait_for_status(
        story.namespace,
        NAME,
        lambda s: s.get("championVersion") == "1" and s.get("phase") == "Ready",
        "version 1 pinned and Ready",
        timeout=60,
    )

    assert condition(status, "Promoted")["reason"] == "Pinned"
    assert set(served_versions(story.namespace)) == {"1"}  # on every pod the HPA runs


def test_a_serving_only_edit_adds_replicas_without_a_new_job_and_keeps_the_pin(
    story: Story,
) -> None:
    trainings = sorted(j["metadata"]["name"] for j in jobs(story.namespace, "training"))

    patch_spec(story.namespace, '{"serving": {"minReplicas": 2}}')
    eventually(lambda: len(serving_pods(story.namespace)) == 2, "a second ready serving pod", 180)
    status = wait_for_status(
        story.namespace, NAME, lambda s: s.get("phase") == "Ready", "Ready on two pods"
    )

    assert sorted(j["metadata"]["name"] for j in jobs(story.namespace, "training")) == trainings
    assert status["championVersion"] == "1"
    assert served_versions(story.namespace) == ["1", "1"]


def test_removing_the_pin_serves_the_policys_champion_again(story: Story) -> None:
    kubectl(
        "patch",
        "fraudmodel",
        NAME,
        "-n",
        story.namespace,
        "--type=json",
        "-p",
        '[{"op": "remove", "path": "/spec/serving/version"}]',
    )

    wait_for_status(
        story.namespace,
        NAME,
        lambda s: s.get("championVersion") == "2" and s.get("phase") == "Ready",
        "version 2 champion again",
        timeout=60,
    )
    eventually(lambda: served_versions(story.namespace) == ["2", "2"], "both pods on version 2")


def hpa_status(namespace: str) -> dict[str, Any]:
    (hpa,) = get_json("hpa", "-n", namespace, "-l", f"fraudops.io/fraudmodel={NAME}")["items"]
    return hpa.get("status", {})


def test_load_through_the_service_scales_serving_out_and_quiet_scales_it_back_in(
    story: Story,
) -> None:
    patch_spec(
        story.namespace,
        '{"serving": {"minReplicas": 1, "maxReplicas": 2, "targetCPUUtilizationPercentage": 30}}',
    )
    eventually(lambda: len(serving_pods(story.namespace)) == 1, "back to one serving pod", 240)
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(timeout=10) as client:
            n = 0
            while not stop.is_set():
                n += 1
                with contextlib.suppress(httpx.HTTPError):
                    client.post(
                        f"{story.url}/predict",
                        json={**TRANSACTION, "transaction_id": f"hpa-{threading.get_ident()}-{n}"},
                    )

    loaders = [threading.Thread(target=load) for _ in range(4)]
    started = time.monotonic()
    for loader in loaders:
        loader.start()
    try:
        eventually(
            lambda: hpa_status(story.namespace).get("desiredReplicas", 0) >= 2,
            "the HPA to ask for a second serving pod",
            timeout=300,
        )
        story.timings["load_to_scale_out_s"] = time.monotonic() - started
        eventually(lambda: len(serving_pods(story.namespace)) == 2, "two ready serving pods", 180)
    finally:
        stop.set()
        for loader in loaders:
            loader.join()

    eventually(
        lambda: hpa_status(story.namespace).get("desiredReplicas") == 1,
        "the HPA to scale back in once the load stopped",
        timeout=300,
    )
    eventually(lambda: len(serving_pods(story.namespace)) == 1, "one serving pod again", 120)


def test_an_operator_killed_during_a_gate_job_makes_one_gate_job_and_one_decision(
    story: Story, operator: Any
) -> None:
    earlier = {j["metadata"]["name"] for j in jobs(story.namespace, "gate")}
    generation = patch_spec(
        story.namespace, '{"validation": {"minPrAuc": 0.1}, "data": {"synthetic": {"seed": 11}}}'
    )
    eventually(
        lambda: {j["metadata"]["name"] for j in jobs(story.namespace, "gate")} - earlier,
        "the new candidate's gate Job",
        timeout=600,
    )
    operator.kill()
    status = wait_for_status(
        story.namespace,
        NAME,
        lambda s: (
            s.get("phase") == "Ready"
            and s.get("observedGeneration") == generation
            and condition(s, "Validated")["status"] == "True"
        ),
        "reconciliation to finish after the restart",
        timeout=600,
    )
    version = status["candidateVersion"]
    (gate,) = [
        j
        for j in jobs(story.namespace, "gate")
        if j["metadata"]["labels"]["fraudops.io/model-version"] == version
    ]
    assert gate["status"].get("succeeded") == 1
    assert not gate["status"].get("failed")
    assert status["championVersion"] == version


def test_deleting_the_fraudmodel_removes_every_child(story: Story) -> None:
    kubectl("delete", "fraudmodel", NAME, "-n", story.namespace, "--timeout=60s")
    selector = f"fraudops.io/fraudmodel={NAME}"
    kinds = "jobs,deployments,services,horizontalpodautoscalers,configmaps,secrets,cronjobs"

    def gone() -> bool:
        left = get_json(kinds, "-n", story.namespace, "-l", selector)["items"]
        return not left

    eventually(gone, "garbage collection of every child", timeout=120)


def test_unreachable_data_storage_fails_with_the_reason_and_is_not_retried(
    operator: Any, namespace: str
) -> None:
    # Keys handed to the pod by secretKeyRef, and an endpoint on the discard port inside the
    # pod, where nothing listens: the store cannot be reached.
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    literals = [f"--from-literal={key}=throwaway" for key in keys]
    kubectl("create", "secret", "generic", "training-data-keys", "-n", namespace, *literals)
    manifest = """
apiVersion: fraudops.io/v1alpha1
kind: FraudModel
metadata: {name: missing-data}
spec:
  data:
    uri: s3://nonexistent/fraudops/transactions.csv
    s3: {endpoint: "http://127.0.0.1:9", credentialsSecret: training-data-keys}
"""
    kubectl("apply", "-n", namespace, "-f", "-", stdin=manifest)
    status = eventually(
        lambda: (
            (s := get_json("fraudmodel", "missing-data", "-n", namespace).get("status", {}))
            and s.get("phase") == "Failed"
            and s
        ),
        "phase Failed",
        timeout=300,
    )
    assert "s3://nonexistent/fraudops/transactions.csv" in status["message"]
    assert condition(status, "TrainingSucceeded")["status"] == "False"
    assert condition(status, "TrainingSucceeded")["reason"] == "StorageError"
    time.sleep(10)  # several timer ticks: a hot loop would have started more Jobs or pods
    jobs = get_json("jobs", "-n", namespace)["items"]
    pods = get_json("pods", "-n", namespace)["items"]
    assert len(jobs) == 1
    assert len(pods) == 1
    described = kubectl("describe", "fm", "missing-data", "-n", namespace).stdout
    assert "the endpoint cannot be reached" in described


def test_a_tracking_uri_off_the_allow_list_fails_naming_the_field_and_creates_nothing(
    operator: Any, namespace: str
) -> None:
    manifest = """
apiVersion: fraudops.io/v1alpha1
kind: FraudModel
metadata: {name: foreign-registry}
spec:
  data: {synthetic: {}}
  registry: {trackingUri: "http://mlflow.elsewhere.example:5000"}
"""
    kubectl("apply", "-n", namespace, "-f", "-", stdin=manifest)
    status = eventually(
        lambda: (
            (s := get_json("fraudmodel", "foreign-registry", "-n", namespace).get("status", {}))
            and s.get("phase") == "Failed"
            and s
        ),
        "phase Failed",
        timeout=60,
    )
    assert status["message"].startswith("registry.trackingUri")
    assert (
        get_json("jobs,configmaps", "-n", namespace, "-l", "fraudops.io/fraudmodel")["items"] == []
    )
