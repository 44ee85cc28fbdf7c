"""The reconcile and the promotion policy against in-memory fakes of the cluster and the registry.

Each test tells one story in passes of the reconciler, as the timers would run them, and checks
what the cluster, the registry and the status say afterwards.
"""

from __future__ import annotations

from fakes import Scenario
from fraud_operator.config import OperatorConfig
from fraud_training import version_tags

MINIMAL = {"data": {"synthetic": {"rows": 20_000}}}


def gate_jobs(scenario: Scenario) -> list[str]:
    return [j["metadata"]["name"] for j in scenario.cluster.jobs("gate")]


def deployment(scenario: Scenario) -> dict:
    return scenario.cluster.objects[("apps/v1", "Deployment", "risk", "cards-serving")]


def hpa(scenario: Scenario) -> dict:
    return scenario.cluster.objects[
        ("autoscaling/v2", "HorizontalPodAutoscaler", "risk", "cards-serving")
    ]


# Training


def test_a_new_fraud_model_starts_one_training_job_and_says_training() -> None:
    scenario = Scenario(MINIMAL)

    status = scenario.reconcile()
    scenario.reconcile()

    assert len(scenario.cluster.jobs("training")) == 1
    assert status["phase"] == "Training"
    assert status["trainingHash"] in scenario.training_job()


def test_a_serving_only_edit_rolls_out_without_training() -> None:
    scenario = Scenario(MINIMAL)
    scenario.trained()
    job = scenario.training_job()

    scenario.edit(serving={"minReplicas": 2, "maxReplicas": 5})
    status = scenario.reconcile()

    assert scenario.training_job() == job
    assert hpa(scenario)["spec"]["minReplicas"] == 2
    assert hpa(scenario)["spec"]["maxReplicas"] == 5
    assert status["phase"] == "Ready"
    assert status["observedGeneration"] == 2


def test_a_validation_edit_does_not_retrain() -> None:
    scenario = Scenario(MINIMAL)
    scenario.trained()
    job = scenario.training_job()

    scenario.edit(validation={"minPrAuc": 0.9})
    scenario.reconcile()

    assert scenario.training_job() == job


def test_a_training_edit_deletes_the_superseded_job_and_starts_one_for_the_new_spec() -> None:
    scenario = Scenario(MINIMAL)
    scenario.reconcile()
    old = scenario.training_job()

    scenario.edit(data={"synthetic": {"rows": 20_000, "seed": 7}})
    status = scenario.reconcile()

    new = scenario.training_job()
    assert new != old
    assert ("delete", "batch", "jobs") in scenario.cluster.requests
    assert status["trainingJob"] == new


def test_a_job_removed_by_its_ttl_is_not_started_again() -> None:
    scenario = Scenario(MINIMAL)
    scenario.trained()
    job = scenario.training_job()
    del scenario.cluster.objects[("batch/v1", "Job", "risk", job)]

    scenario.reconcile()

    assert scenario.cluster.jobs("training") == []


# The gate, in a Job


def test_a_registered_version_gets_one_gate_job_and_the_phase_validating() -> None:
    scenario = Scenario(MINIMAL)
    version = scenario.trained(gate=None)

    status = scenario.reconcile()

    assert gate_jobs(scenario) == [f"cards-gate-v{version}"]
    assert status["phase"] == "Validating"
    assert status["gateJob"] == f"cards-gate-v{version}"
    assert scenario.registry.champion() is None


def test_a_candidate_under_evaluation_is_the_challenger() -> None:
    scenario = Scenario(MINIMAL)
    version = scenario.trained(gate=None)

    assert scenario.registry.aliases["challenger"] == int(version)


def test_a_passed_candidate_is_announced_then_promoted_by_the_operator() -> None:
    scenario = Scenario(MINIMAL)
    version = scenario.trained(gate=None)
    scenario.registry.decide(version, passed=True)

    announced = dict(scenario.reconcile())
    assert announced["phase"] == "Promoting"
    assert scenario.registry.champion() is None

    status = scenario.reconcile()
    assert scenario.registry.champion() == version
    assert scenario.registry.tags(version)[version_tags.PROMOTED_BY] == version_tags.OPERATOR
    assert scenario.registry.tags(version)[version_tags.PROMOTED_REASON] == "gate-passed"
    assert "challenger" not in scenario.registry.aliases
    assert status["phase"] == "Ready"
    assert status["championVersion"] == version
    assert scenario.condition("Promoted") == ("True", "Champion")


def test_a_failed_gate_keeps_the_champion_and_drops_the_challenger() -> None:
    scenario = Scenario(MINIMAL)
    first = scenario.trained()
    scenario.edit(data={"synthetic": {"rows": 20_000, "seed": 9}})
    second = scenario.trained(gate=False)

    assert scenario.registry.champion() == first
    assert "challenger" not in scenario.registry.aliases
    assert scenario.registry.tags(second)[version_tags.GATE] == "failed"
    assert scenario.condition("Validated") == ("False", "GateFailed")
    assert scenario.condition("Promoted") == ("False", "ChampionKept")
    assert scenario.status["phase"] == "Ready"


def test_a_gate_job_that_fails_is_a_gate_error_and_is_not_started_again() -> None:
    scenario = Scenario(MINIMAL)
    version = scenario.trained(gate=None)
    scenario.cluster.finish(f"cards-gate-v{version}", succeeded=False)

    status = scenario.reconcile()
    scenario.reconcile()

    assert gate_jobs(scenario) == [f"cards-gate-v{version}"]
    assert scenario.condition("Validated") == ("False", "GateError")
    assert status["phase"] == "Failed"


def test_the_operator_loads_no_model_it_only_reads_and_writes_the_registry() -> None:
    scenario = Scenario(MINIMAL)
    scenario.trained()

    kinds = {request.split()[0] for request in scenario.registry.requests}
    assert kinds <= {"versions", "run_metrics", "set_alias", "delete_alias", "set_tags"}


# People and pins


def test_a_champion_moved_by_a_person_is_respected_and_shown() -> None:
    scenario = Scenario(MINIMAL)
    first = scenario.trained()
    scenario.edit(data={"synthetic": {"rows": 20_000, "seed": 9}})
    second = scenario.trained()
    assert scenario.registry.champion() == second

    scenario.registry.promote_by_hand(first, reason="rollback: v2 flags too much")
    for _ in range(3):
        status = scenario.reconcile()

    assert scenario.registry.champion() == first
    assert scenario.condition("Promoted") == ("True", "ExternalPromotion")
    assert "rollback: v2 flags too much" in next(
        c["message"] for c in status["conditions"] if c["type"] == "Promoted"
    )
    assert scenario.pods.reloaded[-1] == first


def test_a_pin_moves_the_champion_and_stops_automatic_promotion() -> None:
    scenario = Scenario(MINIMAL)
    first = scenario.trained()
    scenario.edit(data={"synthetic": {"rows": 20_000, "seed": 9}})
    second = scenario.trained()

    scenario.edit(serving={"version": int(first)})
    scenario.reconcile()
    assert scenario.registry.champion() == first
    assert scenario.registry.tags(first)[version_tags.PROMOTED_REASON] == "pinned"

    scenario.edit(data={"synthetic": {"rows": 20_000, "seed": 11}})
    third = scenario.trained()

    assert scenario.registry.champion() == first
    assert scenario.registry.aliases["challenger"] == int(third)
    assert scenario.condition("Promoted") == ("True", "Pinned")
    assert second != third


def test_removing_the_pin_brings_back_the_policys_champion() -> None:
    scenario = Scenario(MINIMAL)
    first = scenario.trained()
    scenario.edit(data={"synthetic": {"rows": 20_000, "seed": 9}})
    second = scenario.trained()
    scenario.edit(serving={"version": int(first)})
    scenario.reconcile()

    scenario.unset_pin()
    scenario.reconcile()

    assert scenario.registry.champion() == second
    assert scenario.registry.tags(second)[version_tags.PROMOTED_REASON] == "unpinned"


def test_a_pin_to_a_missing_version_is_degraded_and_keeps_the_champion() -> None:
    scenario = Scenario(MINIMAL)
    first = scenario.trained()

    scenario.edit(serving={"version": 7})
    status = scenario.reconcile()

    assert scenario.registry.champion() == first
    assert status["phase"] == "Degraded"
    assert scenario.condition("Promoted") == ("False", "PinnedVersionInvalid")
    assert "spec.serving.version 7" in status["message"]


def test_a_pin_to_a_version_that_failed_the_gate_is_refused() -> None:
    scenario = Scenario(MINIMAL)
    first = scenario.trained()
    scenario.edit(data={"synthetic": {"rows": 20_000, "seed": 9}})
    failed = scenario.trained(gate=False)

    scenario.edit(serving={"version": int(failed)})
    status = scenario.reconcile()

    assert scenario.registry.champion() == first
    assert scenario.condition("Promoted") == ("False", "PinnedVersionInvalid")
    assert "failed the gate" in status["message"]


def test_a_passed_candidate_is_promoted_once_only() -> None:
    scenario = Scenario(MINIMAL)
    first = scenario.trained()
    scenario.edit(data={"synthetic": {"rows": 20_000, "seed": 9}})
    scenario.trained()
    scenario.registry.promote_by_hand(first)
    promotions = scenario.registry.requests.count(f"set_alias champion {first}")

    for _ in range(5):
        scenario.reconcile()

    assert scenario.registry.champion() == first
    assert scenario.registry.requests.count(f"set_alias champion {first}") == promotions


# Bad input


def test_a_tracking_uri_off_the_allow_list_fails_without_creating_anything() -> None:
    scenario = Scenario({**MINIMAL, "registry": {"trackingUri": "http://evil.example:5000"}})

    status = scenario.reconcile(OperatorConfig(tracking_uri="http://mlflow:5000"))

    assert status["phase"] == "Failed"
    assert "registry.trackingUri" in status["message"]
    assert scenario.cluster.objects == {}
    assert scenario.registry.requests == []


# KServe: one predictor revision per champion


def predictor_model_uri(scenario: Scenario) -> str:
    isvc = scenario.cluster.objects[
        ("serving.kserve.io/v1beta1", "InferenceService", "risk", "cards-serving")
    ]
    (container,) = isvc["spec"]["predictor"]["containers"]
    return next(e["value"] for e in container["env"] if e["name"] == "MODEL_URI")


def test_a_new_kserve_champion_is_a_new_predictor_revision_pinned_to_its_version() -> None:
    scenario = Scenario({**MINIMAL, "serving": {"runtime": "kserve"}}, {"InferenceService"})
    first = scenario.trained()
    assert predictor_model_uri(scenario).endswith(f"/{first}")

    scenario.edit(data={"synthetic": {"rows": 20_000, "seed": 9}})
    second = scenario.trained()

    assert predictor_model_uri(scenario).endswith(f"/{second}")
    assert "@champion" not in predictor_model_uri(scenario)


def test_kserve_predictor_pods_are_asked_what_they_serve_never_reloaded() -> None:
    scenario = Scenario({**MINIMAL, "serving": {"runtime": "kserve"}}, {"InferenceService"})
    first = scenario.trained()

    assert scenario.pods.reloaded == []
    assert scenario.pods.observed_only[-1] == first
