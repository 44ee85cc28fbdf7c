"""`runtime: kserve` end to end, in file order: KServe's controller (built here from its pinned Go
module, `Standard` mode) on the real node → the kserve sample → InferenceService Ready with its
Deployment, Service and HPA → predictions by DNS name through KServe's predictor Service
(`/predict`) and the operator's Service at the status endpoint (V2) → a new champion as a 50 %
canary beside the old one under load, promoted after its soak → deleting the FraudModel removes
it all.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from devcluster import DevCluster, kserve
from devcluster.operator_install import SYSTEM_NAMESPACE
from devcluster.pytest_plugin import eventually

from e2e.kube import (
    SAMPLES,
    TRANSACTION,
    fraudmodel,
    get_json,
    kubectl,
    patch_spec,
    wait_for_status,
    wait_until_ready,
)
from e2e.steady_load import steady_load

pytestmark = pytest.mark.cluster

NAME = "fraud-kserve"
ISVC = f"{NAME}-serving"
CANARY_ISVC = f"{ISVC}-canary"
PREDICTOR = f"{ISVC}-predictor"
#: The operator's Service, in front of both revisions (status.endpoint).
SERVICE, SERVICE_PORT = ISVC, 8080
CANARY_SOAK_S = 40
#: The operator's ServiceAccount, as the chart names it for release `fraudops`.
OPERATOR_ACCOUNT = f"system:serviceaccount:{SYSTEM_NAMESPACE}:fraudops-operator"
#: The labels the operator finds the FraudModel's serving pods by.
SERVING_PODS = f"fraudops.io/fraudmodel={NAME},app.kubernetes.io/component=serving"


@dataclass
class Story:
    namespace: str
    timings: dict[str, float] = field(default_factory=dict)
    #: (seconds since the rollout began, version that answered) of each request under load.
    rollout: list[tuple[float, str]] = field(default_factory=list)
    #: Seconds since the rollout began at which the canary's soak began and it was promoted.
    canary_window: tuple[float, float] = (0.0, 0.0)


def timeline(answers: list[tuple[float, str]], step_s: float = 10.0) -> str:
    """Requests per version in each ``step_s`` of a rollout, a line per step."""
    steps: dict[int, Counter[str]] = {}
    for at, version in answers:
        steps.setdefault(int(at // step_s), Counter())[version] += 1
    return "\n".join(
        f"{k * step_s:5.0f}-{(k + 1) * step_s:.0f} s: "
        + ", ".join(f"v{v} {n}" for v, n in sorted(counts.items()))
        for k, counts in sorted(steps.items())
    )


def the_sample() -> dict[str, Any]:
    """manifests/samples/kserve.yaml with the minimal sample's data and requests, which fit a
    two-core node beside everything else."""
    sample = yaml.safe_load((SAMPLES / "kserve.yaml").read_text())
    minimal = yaml.safe_load((SAMPLES / "minimal.yaml").read_text())["spec"]
    sample["spec"]["data"] = minimal["data"]
    sample["spec"]["training"] = minimal["training"]
    sample["spec"]["serving"]["resources"] = minimal["serving"]["resources"]
    sample["spec"]["serving"]["maxReplicas"] = 2
    return sample


def inference_service(namespace: str, name: str = ISVC) -> dict[str, Any] | None:
    """The InferenceService, or None when there is none (yet, or any more)."""
    found = kubectl("get", "inferenceservice", name, "-n", namespace, "-o", "json", check=False)
    return yaml.safe_load(found.stdout) if found.returncode == 0 else None


def isvc_ready(namespace: str) -> bool:
    status = (inference_service(namespace) or {}).get("status", {})
    return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))


@pytest.fixture(scope="module")
def kserve_controller(devcluster: DevCluster) -> float:
    """KServe's controller, installed once for this module; the seconds the install took."""
    return kserve.install(devcluster)


@pytest.fixture(scope="module")
def story(operator: Any, kserve_controller: float, devcluster: DevCluster) -> Iterator[Story]:
    namespace = f"e2e-kserve-{int(time.time()) % 100000}"
    kubectl("create", "namespace", namespace)
    story = Story(namespace, {"kserve_install_s": kserve_controller})
    started = time.monotonic()
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(the_sample()))
    wait_until_ready(namespace, NAME)
    story.timings["apply_to_ready_s"] = time.monotonic() - started
    yield story
    print(f"\nKServe FraudModel timings: {story.timings}")
    controller = kubectl("top", "pod", "-n", kserve.NAMESPACE, "--no-headers", check=False)
    print(f"KServe's controller (CPU, memory): {controller.stdout.strip() or controller.stderr}")
    soak, promoted = story.canary_window
    print(
        f"requests per version during the canary of version 2 (soak from {soak:.0f} s, "
        f"promoted at {promoted:.0f} s):\n{timeline(story.rollout)}"
    )
    kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_the_kserve_sample_becomes_ready_through_an_inference_service(story: Story) -> None:
    status = fraudmodel(story.namespace, NAME)["status"]
    assert status["phase"] == "Ready"
    assert status["championVersion"] == "1"
    assert isvc_ready(story.namespace)


def test_kserve_runs_the_predictor_as_a_deployment_a_service_and_an_hpa(story: Story) -> None:
    for kind in ("deployment", "service", "hpa"):
        found = get_json(kind, PREDICTOR, "-n", story.namespace)
        owners = [o["name"] for o in found["metadata"].get("ownerReferences", [])]
        assert owners == [ISVC], kind


def test_the_predictor_pods_carry_the_labels_the_operator_finds_them_by(story: Story) -> None:
    pods = get_json("pods", "-n", story.namespace, "-l", SERVING_PODS)["items"]
    assert pods
    assert all(p["metadata"]["labels"]["serving.kserve.io/inferenceservice"] == ISVC for p in pods)


def test_the_status_endpoint_is_the_operators_service_by_dns_name(story: Story) -> None:
    endpoint = fraudmodel(story.namespace, NAME)["status"]["endpoint"]
    assert endpoint == (
        f"http://{SERVICE}.{story.namespace}.svc.cluster.local:{SERVICE_PORT}"
        f"/v2/models/{NAME}/infer"
    )


def test_predict_through_the_predictor_service_scores_with_the_champion(
    story: Story, devcluster: DevCluster
) -> None:
    url = devcluster.service_url(PREDICTOR, story.namespace, 80)
    answer = httpx.post(f"{url}/predict", json=TRANSACTION, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model_version"] == "1"
    assert 0.0 <= body["fraud_probability"] <= 1.0
    assert body["features_degraded"] is False


def test_v2_infer_at_the_status_endpoint_answers_with_the_champion(
    story: Story, devcluster: DevCluster
) -> None:
    url = devcluster.service_url(SERVICE, story.namespace, SERVICE_PORT)
    path = urlsplit(fraudmodel(story.namespace, NAME)["status"]["endpoint"]).path
    metadata = httpx.get(f"{url}{path.removesuffix('/infer')}", timeout=30).json()
    features = metadata["inputs"][0]
    row = [0.0] * features["shape"][1]
    request = {"inputs": [{**features, "shape": [1, len(row)], "data": row}]}
    answer = httpx.post(f"{url}{path}", json=request, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model_version"] == "1"
    assert len(body["outputs"][0]["data"]) == 1


def predictor_model_uri(namespace: str) -> str:
    isvc = get_json("inferenceservice", ISVC, "-n", namespace)
    (container,) = isvc["spec"]["predictor"]["containers"]
    return next(e["value"] for e in container["env"] if e["name"] == "MODEL_URI")


def test_the_predictor_is_pinned_to_the_champions_version(story: Story) -> None:
    assert predictor_model_uri(story.namespace).endswith("/1")


def pinned(namespace: str, isvc: str) -> str | None:
    """The version an InferenceService is labelled as serving; None without it."""
    found = inference_service(namespace, isvc)
    return found["metadata"]["labels"]["fraudops.io/model-version"] if found else None


def test_a_new_champion_soaks_as_a_canary_then_takes_all_traffic_without_a_failed_request(
    story: Story, devcluster: DevCluster
) -> None:
    started = time.monotonic()
    seen: dict[str, Any] = {}

    def promoted(status: dict[str, Any]) -> bool:
        if (status.get("canary") or {}).get("startedAt") and "soak" not in seen:
            seen["soak"], seen["traffic"] = time.monotonic() - started, status["traffic"]
            seen["phase"] = status["phase"]
        if "soak" in seen and "promoted" not in seen and pinned(story.namespace, ISVC) == "2":
            seen["promoted"] = time.monotonic() - started
        return status.get("championVersion") == "2" and status.get("phase") == "Ready"

    url = devcluster.service_url(SERVICE, story.namespace, SERVICE_PORT)
    with steady_load(url) as load:
        patch_spec(
            story.namespace,
            NAME,
            '{"data": {"synthetic": {"seed": 7}}, "validation": {"maxRegression": 1}, '
            '"serving": {"canaryTrafficPercent": 50, '
            f'"canary": {{"soakSeconds": {CANARY_SOAK_S}, "minRequests": 50}}}}}}',
        )
        wait_for_status(story.namespace, NAME, promoted, "version 2 promoted", timeout=600)
        story.timings["retrain_to_version_2_ready_s"] = time.monotonic() - started
        eventually(lambda: load.answers[-1][1] == "2", "a response scored by version 2")
    story.rollout = load.answers
    story.canary_window = (seen["soak"], seen["promoted"])
    assert load.failures == []
    assert seen["phase"] == "Promoting"
    assert {(t["track"], t["version"]) for t in seen["traffic"]} == {
        ("stable", "1"),
        ("canary", "2"),
    }
    soaking = [v for at, v in load.answers if seen["soak"] + 5 <= at <= seen["promoted"] - 5]
    assert 0.3 <= soaking.count("2") / len(soaking) <= 0.7, Counter(soaking)
    assert seen["promoted"] - seen["soak"] >= CANARY_SOAK_S - 5
    eventually(lambda: pinned(story.namespace, CANARY_ISVC) is None, "the canary removed")


def test_the_canary_steps_are_events_on_the_fraudmodel(story: Story) -> None:
    events = get_json(
        "events", "-n", story.namespace, "--field-selector", f"involvedObject.name={NAME}"
    )["items"]
    reasons = [e["reason"] for e in events]
    assert {"Canary", "CanaryPromoted", "PhasePromoting"} <= set(reasons)


@pytest.mark.parametrize("verb", ["create", "patch", "delete"])
def test_the_operator_service_account_may_manage_inference_services(
    story: Story, verb: str
) -> None:
    allowed = kubectl(
        "auth",
        "can-i",
        verb,
        "inferenceservices.serving.kserve.io",
        "-n",
        story.namespace,
        f"--as={OPERATOR_ACCOUNT}",
        check=False,
    )
    assert allowed.stdout.strip() == "yes"


def test_deleting_the_fraudmodel_removes_the_inference_service_and_its_pods(
    story: Story,
) -> None:
    kubectl("delete", "fraudmodel", NAME, "-n", story.namespace, "--wait=false")

    def gone() -> bool:
        pods = get_json("pods", "-n", story.namespace, "-l", SERVING_PODS)["items"]
        return inference_service(story.namespace) is None and not pods

    eventually(gone, "the InferenceService and its pods gone", timeout=120)
