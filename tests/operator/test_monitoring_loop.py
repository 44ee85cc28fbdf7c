"""The monitoring CronJob, its results in status, and the retraining loop, against the fakes.

Each story runs reconciles as the timers would, with monitoring passes finished as the CronJob
controller and the kubelet would finish them (a Job from the CronJob's template, a pod whose
termination message is the pass's result).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fakes import CONFIG, Scenario
from fraud_operator.config import OperatorConfig
from fraud_operator.status import changes
from fraud_training import version_tags

SYNTHETIC = {"data": {"synthetic": {"rows": 20_000}}}
DRIFT = {"psiThreshold": 0.25, "minRows": 1000, "cooldown": "24h"}
PERFORMANCE = {"minPrecision": 0.8, "minLabelledRows": 500, "cooldown": "24h"}


def at(offset: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")


def result(
    drift_score: float = 0.05,
    *,
    verdict: str | None = None,
    precision: float | None = 0.9,
    rows: int = 5000,
    labelled: int = 1000,
    last_run: str | None = None,
) -> dict[str, Any]:
    """A result document as ``python -m fraud_training.monitoring`` writes it."""
    drifting = drift_score >= 0.25
    return {
        "verdict": verdict or ("drifting" if drifting else "stable"),
        "driftScore": drift_score,
        "driftedFeatures": ["amount"] if drifting else [],
        "scorePsi": 0.01,
        "livePrecision": precision,
        "liveRecall": 0.7,
        "labelledRows": labelled,
        "rows": rows,
        "windowStart": at(timedelta(hours=-1)),
        "windowEnd": at(),
        "lastRun": last_run or at(),
        "model": "risk-cards/1",
        "report": "runs:/abc/monitoring/report.html",
    }


def monitored(**retraining: Any) -> Scenario:
    """A FraudModel serving its first champion, with the given ``spec.retraining``."""
    scenario = Scenario({**SYNTHETIC, "retraining": retraining})
    scenario.trained()
    return scenario


def cronjob(scenario: Scenario) -> dict[str, Any]:
    return scenario.cluster.objects[("batch/v1", "CronJob", "risk", "cards-monitor")]


def retraining_jobs(scenario: Scenario) -> list[str]:
    return [
        j["metadata"]["name"]
        for j in scenario.cluster.jobs("training")
        if "fraudops.io/retraining-reason" in j["metadata"]["labels"]
    ]


# The CronJob


def test_a_fraud_model_gets_one_monitoring_cronjob_on_the_default_hourly_schedule() -> None:
    scenario = monitored()
    scenario.reconcile()

    cronjobs = [k for k in scenario.cluster.objects if k[1] == "CronJob"]
    assert cronjobs == [("batch/v1", "CronJob", "risk", "cards-monitor")]
    assert cronjob(scenario)["spec"]["schedule"] == "0 * * * *"
    assert cronjob(scenario)["spec"]["suspend"] is False


def test_the_cronjob_is_created_only_once_there_is_a_champion_to_compare_with() -> None:
    scenario = Scenario(SYNTHETIC)
    scenario.trained(gate=None)

    assert not [k for k in scenario.cluster.objects if k[1] == "CronJob"]
    assert scenario.condition("Drifting") == ("Unknown", "NoMonitoringPass")


def test_a_monitoring_edit_updates_the_cronjob_without_retraining() -> None:
    scenario = monitored()
    job = scenario.training_job()

    scenario.edit(monitoring={"schedule": "*/15 * * * *", "window": "6h"})
    scenario.reconcile()

    command = cronjob(scenario)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0][
        "command"
    ]
    assert cronjob(scenario)["spec"]["schedule"] == "*/15 * * * *"
    assert command[command.index("--window") + 1] == "6h"
    assert scenario.training_job() == job


def test_suspending_monitoring_suspends_the_cronjob() -> None:
    scenario = monitored()

    scenario.edit(monitoring={"suspend": True})
    scenario.reconcile()

    assert cronjob(scenario)["spec"]["suspend"] is True


def test_without_an_audit_trail_there_is_no_cronjob_and_drifting_says_why() -> None:
    scenario = monitored()
    no_audit = OperatorConfig(tracking_uri=CONFIG.tracking_uri)

    scenario.reconcile(no_audit)

    assert not [k for k in scenario.cluster.objects if k[1] == "CronJob"]
    assert scenario.condition("Drifting") == ("Unknown", "NoAuditTrail")


# Results in status


def test_a_finished_pass_is_copied_into_status_monitoring() -> None:
    scenario = monitored()
    document = result(0.64)
    job = scenario.cluster.run_monitor(document)

    status = scenario.reconcile()

    assert status["monitoring"] == {**document, "job": job}


def test_a_drifting_pass_sets_drifting_true_naming_the_feature() -> None:
    scenario = monitored()
    scenario.cluster.run_monitor(result(0.64))

    status = scenario.reconcile()

    assert scenario.condition("Drifting") == ("True", "FeaturesDrifted")
    message = next(c["message"] for c in status["conditions"] if c["type"] == "Drifting")
    assert "amount" in message
    assert "runs:/abc/monitoring/report.html" in message


def test_a_stable_pass_sets_drifting_false() -> None:
    scenario = monitored()
    scenario.cluster.run_monitor(result(0.03))

    scenario.reconcile()

    assert scenario.condition("Drifting") == ("False", "Stable")


def test_a_pass_with_too_few_rows_gives_no_drift_verdict() -> None:
    scenario = monitored()
    scenario.cluster.run_monitor(result(0.0, verdict="not enough data", rows=40))

    scenario.reconcile()

    assert scenario.condition("Drifting") == ("Unknown", "NotEnoughData")


def test_live_precision_below_the_threshold_is_performance_degraded() -> None:
    scenario = monitored(performance=PERFORMANCE)
    scenario.cluster.run_monitor(result(precision=0.6))

    scenario.reconcile()

    assert scenario.condition("PerformanceDegraded") == ("True", "PrecisionBelowThreshold")


def test_live_precision_on_too_few_labels_is_not_judged() -> None:
    scenario = monitored(performance=PERFORMANCE)
    scenario.cluster.run_monitor(result(precision=0.1, labelled=20))

    scenario.reconcile()

    assert scenario.condition("PerformanceDegraded") == ("Unknown", "TooFewLabels")


def test_a_failed_pass_keeps_the_last_result() -> None:
    scenario = monitored()
    scenario.cluster.run_monitor(result(0.64))
    first = dict(scenario.reconcile()["monitoring"])

    scenario.cluster.run_monitor(None, succeeded=False)
    status = scenario.reconcile()

    assert status["monitoring"] == first


def test_drifting_becoming_true_is_a_warning_event_and_stable_is_a_normal_one() -> None:
    scenario = monitored()
    scenario.cluster.run_monitor(result(0.03))
    stable = dict(scenario.reconcile())
    scenario.cluster.run_monitor(result(0.64))
    drifting = dict(scenario.reconcile())

    first = [c for c in changes({}, stable) if c.reason == "Stable"]
    second = [c for c in changes(stable, drifting) if c.reason == "FeaturesDrifted"]
    assert [c.type for c in first] == ["Normal"]
    assert [c.type for c in second] == ["Warning"]


# The loop


def test_drift_above_the_threshold_starts_one_retraining_with_reason_drift() -> None:
    scenario = monitored(drift=DRIFT)
    scenario.cluster.run_monitor(result(0.64))

    before = dict(scenario.status)
    status = scenario.reconcile()
    for _ in range(3):
        scenario.reconcile()

    assert retraining_jobs(scenario) == ["cards-retrain-drift-1"]
    assert status["retraining"]["reason"] == "Drift"
    assert status["retraining"]["job"] == "cards-retrain-drift-1"
    assert "psiThreshold 0.25" in status["retraining"]["message"]
    events = [c for c in changes(before, status) if c.reason == "RetrainingDrift"]
    assert len(events) == 1
    assert status["phase"] == "Training"


def test_drift_on_fewer_rows_than_min_rows_does_not_retrain() -> None:
    scenario = monitored(drift=DRIFT)
    scenario.cluster.run_monitor(result(0.64, rows=500))

    scenario.reconcile()

    assert retraining_jobs(scenario) == []


def test_drift_without_spec_retraining_drift_is_reported_but_does_not_retrain() -> None:
    scenario = monitored()
    scenario.cluster.run_monitor(result(0.64))

    scenario.reconcile()

    assert scenario.condition("Drifting") == ("True", "FeaturesDrifted")
    assert retraining_jobs(scenario) == []


def test_falling_precision_starts_a_retraining_with_reason_performance_degraded() -> None:
    scenario = monitored(performance=PERFORMANCE)
    scenario.cluster.run_monitor(result(precision=0.6))

    status = scenario.reconcile()

    assert retraining_jobs(scenario) == ["cards-retrain-performancedegraded-1"]
    assert status["retraining"]["reason"] == "PerformanceDegraded"


def test_a_new_breach_within_the_cooldown_does_not_retrain_again() -> None:
    scenario = monitored(drift=DRIFT)
    scenario.cluster.run_monitor(result(0.64))
    scenario.reconcile()

    scenario.cluster.run_monitor(result(0.7, last_run=at(timedelta(minutes=5))))
    scenario.reconcile()

    assert retraining_jobs(scenario) == ["cards-retrain-drift-1"]


def test_a_breach_after_the_cooldown_retrains_again_under_the_next_name() -> None:
    scenario = monitored(drift=DRIFT)
    scenario.cluster.run_monitor(result(0.64))
    scenario.reconcile()
    scenario.cluster.finish("cards-retrain-drift-1")
    scenario.reconcile()
    # The retraining was started 25 hours ago, as status records it.
    scenario.status["retraining"]["triggeredAt"] = at(timedelta(hours=-25))

    scenario.cluster.run_monitor(result(0.7, last_run=at(timedelta(minutes=5))))
    status = scenario.reconcile()

    assert retraining_jobs(scenario) == ["cards-retrain-drift-1", "cards-retrain-drift-2"]
    assert status["retraining"]["count"] == 2


def test_no_retraining_starts_while_a_training_job_runs() -> None:
    scenario = monitored(drift=DRIFT)
    scenario.edit(data={"synthetic": {"rows": 20_000, "seed": 3}})
    scenario.reconcile()  # the new training spec's Job is running
    scenario.cluster.run_monitor(result(0.64))

    scenario.reconcile()

    assert retraining_jobs(scenario) == []


def test_the_retraining_job_trains_on_the_production_window_of_the_audit_trail() -> None:
    scenario = monitored(drift=DRIFT, productionWindow="3d")
    scenario.cluster.run_monitor(result(0.64))
    scenario.reconcile()

    (job,) = [j for j in scenario.cluster.jobs("training") if j["metadata"]["name"].endswith("-1")]
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["FRAUDOPS_RETRAINING_REASON"]["value"] == "Drift"
    assert env["FRAUDOPS_PRODUCTION_WINDOW"]["value"] == "3d"
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "fraudops-audit",
        "key": "url",
    }


def test_a_retrained_version_that_passes_the_gate_becomes_champion() -> None:
    scenario = monitored(drift=DRIFT)
    scenario.cluster.run_monitor(result(0.64))
    scenario.reconcile()
    scenario.cluster.finish("cards-retrain-drift-1")
    version = scenario.registry.register(
        "cards-retrain-drift-1", **{version_tags.RETRAINING_REASON: "Drift"}
    )
    scenario.reconcile()
    gates = [j["metadata"]["name"] for j in scenario.cluster.jobs("gate")]
    assert f"cards-gate-v{version}" in gates

    scenario.registry.decide(version, passed=True)
    scenario.reconcile()
    status = scenario.reconcile()

    assert scenario.registry.champion() == version
    assert status["championVersion"] == version


def test_a_worse_retrained_version_never_replaces_the_champion() -> None:
    scenario = monitored(drift=DRIFT)
    champion = scenario.registry.champion()
    scenario.cluster.run_monitor(result(0.64))
    scenario.reconcile()
    scenario.cluster.finish("cards-retrain-drift-1")
    version = scenario.registry.register("cards-retrain-drift-1")
    scenario.reconcile()

    scenario.registry.decide(version, passed=False, message="PR-AUC regressed by 0.08")
    scenario.reconcile()
    status = scenario.reconcile()

    assert scenario.registry.champion() == champion
    assert scenario.condition("Validated") == ("False", "GateFailed")
    assert status["phase"] == "Ready"


def test_a_scheduled_retraining_is_recorded_with_reason_schedule() -> None:
    scenario = monitored(schedule="@daily")
    job = scenario.cluster.objects[("batch/v1", "CronJob", "risk", "cards-retrain")]
    template = job["spec"]["jobTemplate"]
    scenario.cluster.objects[("batch/v1", "Job", "risk", "cards-retrain-29000001")] = (
        scenario.cluster._stamp(
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {
                    **template["metadata"],
                    "name": "cards-retrain-29000001",
                    "namespace": "risk",
                },
                "spec": template["spec"],
            }
        )
    )

    status = scenario.reconcile()

    assert status["retraining"]["reason"] == "Schedule"
    assert status["retraining"]["job"] == "cards-retrain-29000001"
