"""The status a person reads is derived from what was observed, whatever happened before."""

from __future__ import annotations

from fraud_operator.decide import Observation, decide
from fraud_operator.observed import ACTIVE, FAILED, SUCCEEDED, Serving, TrainingRun
from fraud_operator.registry import VersionInfo
from fraud_operator.status import PROMOTED, Condition
from fraud_training import version_tags


def version(number: str, gate: str | None = None, message: str = "") -> VersionInfo:
    tags = {version_tags.JOB: f"fm-train-g{number}"}
    if gate:
        tags |= {version_tags.GATE: gate, version_tags.GATE_MESSAGE: message}
    return VersionInfo(number, f"run{number}", tags, metrics={"roc_auc": 0.99, "pr_auc": 0.8})


def conditions(obs: Observation) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in decide(obs).conditions}


def test_a_new_object_without_a_job_is_pending() -> None:
    assert decide(Observation()).phase == "Pending"


def test_a_running_job_means_training() -> None:
    verdict = decide(Observation(run=TrainingRun("fm-train-g1", ACTIVE, "JobRunning", "training")))
    assert verdict.phase == "Training"
    assert (
        conditions(Observation(run=TrainingRun("j", ACTIVE)))["TrainingSucceeded"][0] == "Unknown"
    )


def test_a_training_job_whose_pod_cannot_start_says_why_in_its_condition() -> None:
    message = "Job fm-train-abc cannot start: pod fm-train-abc-x: ErrImageNeverPull: not present"
    run = TrainingRun("fm-train-abc", ACTIVE, "PodNotStarting", message)

    verdict = decide(Observation(run=run))

    training = next(c for c in verdict.conditions if c.type == "TrainingSucceeded")
    assert (training.status, training.reason, training.message) == (
        "Unknown",
        "PodNotStarting",
        message,
    )
    assert verdict.phase == "Training"


def test_a_registered_version_without_a_gate_decision_is_validating() -> None:
    obs = Observation(run=TrainingRun("fm-train-g1", SUCCEEDED), candidate=version("1"))
    assert decide(obs).phase == "Validating"


def test_a_promotion_the_policy_announced_is_the_promoting_phase() -> None:
    announced = Condition(PROMOTED, "Unknown", "Promoting", "promoting version 1")
    obs = Observation(
        run=TrainingRun("fm-train-g1", SUCCEEDED),
        candidate=version("1", "passed"),
        promoted=announced,
        promoting=True,
    )
    verdict = decide(obs)
    assert (verdict.phase, verdict.message) == ("Promoting", "promoting version 1")


def test_a_gate_job_that_failed_without_a_decision_is_a_gate_error() -> None:
    champion = version("1", "passed")
    gate = TrainingRun("fm-gate-v2", FAILED, "BackoffLimitExceeded", "MLflow unreachable")
    obs = Observation(
        run=TrainingRun("fm-train-g2", SUCCEEDED),
        candidate=version("2"),
        gate_run=gate,
        champion=champion,
        serving=Serving(ready_pods=1, wanted_pods=1, pod_versions={"a": "1"}),
    )
    verdict = decide(obs)
    assert verdict.phase == "Ready"
    assert "GateError" in verdict.message
    assert conditions(obs)["Validated"] == ("False", "GateError")


def test_a_running_gate_job_is_validating() -> None:
    gate = TrainingRun("fm-gate-v1", ACTIVE, "JobRunning", "Job fm-gate-v1 is validating")
    obs = Observation(
        run=TrainingRun("fm-train-g1", SUCCEEDED), candidate=version("1"), gate_run=gate
    )
    verdict = decide(obs)
    assert verdict.phase == "Validating"
    assert "fm-gate-v1" in verdict.message


def test_an_invalid_pin_is_degraded_while_the_champion_serves() -> None:
    champion = version("1", "passed")
    invalid = Condition(PROMOTED, "False", "PinnedVersionInvalid", "no version 7")
    obs = Observation(
        champion=champion,
        promoted=invalid,
        pin_problem="no version 7",
        serving=Serving(ready_pods=1, wanted_pods=1, pod_versions={"a": "1"}),
    )
    assert decide(obs).phase == "Degraded"
    assert conditions(obs)["Promoted"] == ("False", "PinnedVersionInvalid")


def test_a_champion_whose_pods_serve_it_is_ready() -> None:
    champion = version("1", "passed")
    serving = Serving(ready_pods=2, wanted_pods=2, pod_versions={"a": "1", "b": "1"})
    obs = Observation(
        run=TrainingRun("fm-train-g1", SUCCEEDED),
        candidate=champion,
        champion=champion,
        serving=serving,
    )
    verdict = decide(obs)
    assert verdict.phase == "Ready"
    assert conditions(obs) == {
        "TrainingSucceeded": ("True", "JobComplete"),
        "Validated": ("True", "GatePassed"),
        "Promoted": ("True", "Champion"),
        "ServingReady": ("True", "Serving"),
    }


def test_pods_still_on_the_old_version_mean_deploying() -> None:
    champion = version("2", "passed")
    serving = Serving(ready_pods=2, wanted_pods=2, pod_versions={"a": "2", "b": "1"})
    obs = Observation(candidate=champion, champion=champion, serving=serving)
    assert decide(obs).phase == "Deploying"


def test_a_failed_gate_keeps_the_old_champion_ready_and_says_why() -> None:
    champion = version("1", "passed")
    candidate = version("2", "failed", "PR-AUC 0.1000 is below validation.minPrAuc 0.5")
    serving = Serving(ready_pods=1, wanted_pods=1, pod_versions={"a": "1"})
    obs = Observation(
        run=TrainingRun("fm-train-g2", SUCCEEDED),
        candidate=candidate,
        champion=champion,
        serving=serving,
    )
    verdict = decide(obs)
    assert verdict.phase == "Ready"
    assert "version 2 failed the gate" in verdict.message
    validated = next(c for c in verdict.conditions if c.type == "Validated")
    assert (validated.status, validated.reason) == ("False", "GateFailed")
    assert "minPrAuc" in validated.message


def test_a_failed_gate_without_a_champion_is_failed() -> None:
    candidate = version("1", "failed", "ROC-AUC 0.5000 is below validation.minRocAuc 0.9")
    obs = Observation(run=TrainingRun("fm-train-g1", SUCCEEDED), candidate=candidate)
    verdict = decide(obs)
    assert verdict.phase == "Failed"
    assert "minRocAuc" in verdict.message


def test_a_failed_job_without_a_champion_is_failed_with_the_jobs_reason() -> None:
    run = TrainingRun(
        "fm-train-g1", FAILED, "PodFailurePolicy", "exit code 2: no such file /data/x.csv"
    )
    verdict = decide(Observation(run=run))
    assert verdict.phase == "Failed"
    assert "no such file" in verdict.message
    assert conditions(Observation(run=run))["TrainingSucceeded"] == ("False", "PodFailurePolicy")


def test_a_failed_retraining_leaves_the_champion_ready() -> None:
    champion = version("1", "passed")
    serving = Serving(ready_pods=1, wanted_pods=1, pod_versions={"a": "1"})
    run = TrainingRun("fm-retrain-123", FAILED, "BackoffLimitExceeded", "oom")
    verdict = decide(Observation(run=run, champion=champion, serving=serving))
    assert verdict.phase == "Ready"
    assert "BackoffLimitExceeded" in verdict.message


def test_serving_that_cannot_be_created_is_degraded() -> None:
    champion = version("1", "passed")
    serving = Serving(problem="the cluster does not serve InferenceService")
    verdict = decide(Observation(candidate=champion, champion=champion, serving=serving))
    assert verdict.phase == "Degraded"


def test_a_champion_whose_pods_cannot_start_is_degraded_with_the_kubelets_reason() -> None:
    champion = version("1", "passed")
    blocked = 'pod fm-serving-0: CreateContainerConfigError: secret "fraudops-db" not found'
    serving = Serving(ready_pods=0, wanted_pods=1, not_starting=blocked)

    obs = Observation(candidate=champion, champion=champion, serving=serving)
    verdict = decide(obs)

    assert verdict.phase == "Degraded"
    assert verdict.message == f"0/1 pod(s) ready; {blocked}"
    assert conditions(obs)["ServingReady"] == ("False", "PodsNotStarting")


def test_pods_that_serve_the_champion_keep_it_ready_beside_a_pod_that_cannot_start() -> None:
    champion = version("1", "passed")
    serving = Serving(
        ready_pods=1,
        wanted_pods=2,
        pod_versions={"a": "1"},
        not_starting="pod fm-serving-1: ImagePullBackOff",
    )

    verdict = decide(Observation(candidate=champion, champion=champion, serving=serving))

    assert verdict.phase == "Ready"


def test_an_invalid_spec_is_failed_without_training() -> None:
    verdict = decide(Observation(spec_error="retraining.schedule '61 * * * *' is not valid"))
    assert verdict.phase == "Failed"
    assert conditions(Observation(spec_error="x"))["TrainingSucceeded"] == ("False", "InvalidSpec")
