"""A new champion on KServe as a canary, against in-memory fakes of the cluster (with KServe's
predictor pods), the registry and what the pods measured: beside the old champion, promoted
once healthy for its soak, rolled back when worse, and never for a pin."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import Scenario
from fraud_operator.canary import RequestStats
from fraud_training import version_tags

ISVC = "serving.kserve.io/v1beta1", "InferenceService", "risk"
BOUNDS = (0.01, 0.05, 0.1, 0.5)


def answered(requests: int, errors: int = 0, slow: bool = False) -> RequestStats:
    """What a revision's pods measured: ``requests`` within 10 ms (or all beyond 100 ms)."""
    under = (0, 0, 0, requests) if slow else (requests,) * len(BOUNDS)
    return RequestStats(requests, errors, BOUNDS, under)


def isvc(scenario: Scenario, name: str) -> dict[str, Any] | None:
    return scenario.cluster.objects.get((*ISVC, name))


def pinned(scenario: Scenario, name: str) -> str:
    found = isvc(scenario, name)
    assert found is not None, name
    return found["metadata"]["labels"]["fraudops.io/model-version"]


@pytest.fixture
def canary() -> tuple[Scenario, str, str]:
    """Version 1 served on KServe, version 2 promoted with a 50 % canary: (scenario, old, new)."""
    spec = {
        "data": {"synthetic": {"rows": 20_000}},
        "serving": {
            "runtime": "kserve",
            "canaryTrafficPercent": 50,
            "canary": {"soakSeconds": 0, "minRequests": 10},
        },
    }
    scenario = Scenario(spec, {"InferenceService"})
    old = scenario.trained()
    scenario.cluster.run_predictors()
    scenario.reconcile()
    scenario.edit(data={"synthetic": {"rows": 20_000, "seed": 9}})
    new = scenario.trained()
    return scenario, old, new


def test_the_first_version_is_served_without_a_canary() -> None:
    scenario = Scenario(
        {"data": {"synthetic": {}}, "serving": {"runtime": "kserve", "canaryTrafficPercent": 50}},
        {"InferenceService"},
    )
    first = scenario.trained()

    assert pinned(scenario, "cards-serving") == first
    assert isvc(scenario, "cards-serving-canary") is None


def test_a_new_champion_first_runs_as_a_canary_beside_the_old_one(
    canary: tuple[Scenario, str, str],
) -> None:
    scenario, old, new = canary

    assert pinned(scenario, "cards-serving") == old
    assert pinned(scenario, "cards-serving-canary") == new
    assert scenario.status["phase"] == "Promoting"
    assert scenario.condition("ServingReady") == ("True", "Canary")


def test_the_split_by_ready_pods_is_in_status_traffic(canary: tuple[Scenario, str, str]) -> None:
    scenario, old, new = canary
    scenario.cluster.run_predictors()

    status = scenario.reconcile()

    assert status["traffic"] == [
        {"track": "stable", "version": old, "pods": 1, "percent": 50},
        {"track": "canary", "version": new, "pods": 1, "percent": 50},
    ]


def test_the_soak_window_is_kept_in_status_across_passes(canary: tuple[Scenario, str, str]) -> None:
    scenario, old, _ = canary
    scenario.edit(serving={**scenario.fm["spec"]["serving"], "canary": {"soakSeconds": 3600}})
    scenario.cluster.run_predictors()
    scenario.pods.stats = {old: answered(500)}

    first = scenario.reconcile()["canary"]
    scenario.pods.stats = {old: answered(900)}
    again = scenario.reconcile()["canary"]

    assert again["startedAt"] == first["startedAt"]
    assert again["stableBaseline"]["requests"] == 500


def test_a_healthy_canary_is_promoted_then_removed_once_every_stable_pod_serves_it(
    canary: tuple[Scenario, str, str],
) -> None:
    scenario, old, new = canary
    scenario.cluster.run_predictors()
    scenario.pods.stats = {old: answered(500), new: answered(50)}

    scenario.reconcile()
    assert pinned(scenario, "cards-serving") == new
    assert scenario.condition("ServingReady") == ("True", "CanaryPromoted")
    scenario.cluster.run_predictors()  # KServe rolled the stable predictor to the new version
    status = scenario.reconcile()

    assert isvc(scenario, "cards-serving-canary") is None
    assert scenario.registry.champion() == new
    assert status["phase"] == "Ready"
    assert status["canary"] is None


def test_a_canary_with_more_5xx_is_rolled_back_to_the_old_champion(
    canary: tuple[Scenario, str, str],
) -> None:
    scenario, old, new = canary
    scenario.cluster.run_predictors()
    scenario.pods.stats = {old: answered(500), new: answered(50, errors=10)}

    status = scenario.reconcile()

    assert isvc(scenario, "cards-serving-canary") is None
    assert pinned(scenario, "cards-serving") == old
    assert scenario.registry.champion() == old
    assert "5xx rate" in scenario.registry.tags(new)[version_tags.ROLLED_BACK]
    assert status["championVersion"] == old
    assert scenario.condition("Promoted") == ("False", "CanaryRolledBack")


def test_a_slower_canary_is_rolled_back(canary: tuple[Scenario, str, str]) -> None:
    scenario, old, new = canary
    scenario.cluster.run_predictors()
    scenario.pods.stats = {old: answered(500), new: answered(0)}
    scenario.reconcile()  # the window opens: latency is compared over what follows
    scenario.pods.stats = {old: answered(1000), new: answered(50, slow=True)}

    scenario.reconcile()

    assert scenario.registry.champion() == old
    assert "p99" in scenario.registry.tags(new)[version_tags.ROLLED_BACK]


def test_a_rolled_back_version_is_never_promoted_again(canary: tuple[Scenario, str, str]) -> None:
    scenario, old, new = canary
    scenario.cluster.run_predictors()
    scenario.pods.stats = {old: answered(500), new: answered(50, errors=10)}
    scenario.reconcile()

    for _ in range(3):
        scenario.cluster.run_predictors()
        status = scenario.reconcile()

    assert scenario.registry.champion() == old
    assert isvc(scenario, "cards-serving-canary") is None
    assert status["phase"] == "Ready"
    assert scenario.condition("Promoted") == ("False", "CanaryRolledBack")


def canary_pods_not_ready(scenario: Scenario, waiting: str | None = None) -> None:
    """The canary's predictor pods exist but are not ready (waiting for ``waiting``, if given)."""
    scenario.cluster.run_predictors()
    for (_, kind, _, name), pod in scenario.cluster.objects.items():
        if kind == "Pod" and name.startswith("cards-serving-canary"):
            pod["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
            if waiting:
                state = {"waiting": {"reason": waiting}}
                pod["status"]["containerStatuses"] = [{"name": "kserve-container", "state": state}]


def test_canary_pods_that_cannot_start_are_rolled_back(canary: tuple[Scenario, str, str]) -> None:
    scenario, old, new = canary
    canary_pods_not_ready(scenario, waiting="CrashLoopBackOff")

    scenario.reconcile()

    assert scenario.registry.champion() == old
    assert "cannot start" in scenario.registry.tags(new)[version_tags.ROLLED_BACK]


def test_a_pinned_version_is_served_without_a_canary(canary: tuple[Scenario, str, str]) -> None:
    scenario, old, _ = canary
    scenario.edit(serving={**scenario.fm["spec"]["serving"], "version": int(old)})

    scenario.reconcile()
    scenario.reconcile()

    assert pinned(scenario, "cards-serving") == old
    assert scenario.status["phase"] != "Promoting"


def test_a_canary_not_ready_yet_keeps_the_old_champion_serving(
    canary: tuple[Scenario, str, str],
) -> None:
    scenario, old, _ = canary
    canary_pods_not_ready(scenario)

    scenario.reconcile()

    assert scenario.registry.champion() != old
    assert scenario.condition("ServingReady") == ("True", "Canary")
    assert "starting" in scenario.status["message"]


def test_a_canary_not_ready_within_its_progress_deadline_is_rolled_back(
    canary: tuple[Scenario, str, str],
) -> None:
    scenario, old, new = canary
    canary_pods_not_ready(scenario)
    scenario.status["canary"] = {**scenario.status["canary"], "requestedAt": "2026-01-01T00:00:00Z"}

    scenario.reconcile()

    assert scenario.registry.champion() == old
    assert "progressDeadlineSeconds" in scenario.registry.tags(new)[version_tags.ROLLED_BACK]
