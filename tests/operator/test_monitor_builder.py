"""The monitoring CronJob as built from a FraudModel (pure)."""

from __future__ import annotations

from typing import Any

from crd_defaults import fraud_model
from fraud_operator.builders.monitoring import RESULT_PATH, build_monitor_cronjob
from fraud_operator.builders.training import build_retraining_job
from fraud_operator.config import OperatorConfig, SecretKey

CONFIG = OperatorConfig(
    tracking_uri="http://mlflow.fraudops-system.svc:5000",
    serving_secrets={"DATABASE_URL": SecretKey("fraudops-audit", "url")},
)
SYNTHETIC = {"data": {"synthetic": {}}}


def cronjob(config: OperatorConfig = CONFIG, **spec: Any) -> dict[str, Any]:
    body = build_monitor_cronjob(fraud_model({**SYNTHETIC, **spec}, name="cards"), config)
    assert body is not None
    return body


def container(body: dict[str, Any]) -> dict[str, Any]:
    (only,) = body["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return only


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_the_cronjob_is_named_after_the_fraud_model_and_never_overlaps() -> None:
    body = cronjob()

    assert body["metadata"]["name"] == "cards-monitor"
    assert body["spec"]["concurrencyPolicy"] == "Forbid"
    assert body["spec"]["schedule"] == "0 * * * *"


def test_the_pass_runs_the_monitoring_entrypoint_against_the_champion() -> None:
    command = container(cronjob())["command"]

    assert command[:3] == ["python", "-m", "fraud_training.monitoring"]
    assert option(command, "--model-uri") == "models:/risk-cards@champion"
    assert option(command, "--fraudmodel") == "risk/cards"
    assert option(command, "--result-file") == RESULT_PATH


def test_the_pass_takes_window_rows_bands_and_fdr_from_the_spec() -> None:
    spec = {
        "window": "6h",
        "minRows": 5000,
        "psiBands": {"moderate": 0.2, "major": 0.4},
        "falseDiscoveryRate": 0.01,
    }
    command = container(cronjob(monitoring=spec))["command"]

    assert option(command, "--window") == "6h"
    assert option(command, "--min-rows") == "5000"
    assert (option(command, "--psi-moderate"), option(command, "--psi-major")) == ("0.2", "0.4")
    assert option(command, "--fdr") == "0.01"


def test_the_result_is_read_from_the_termination_message() -> None:
    body = container(cronjob())

    assert body["terminationMessagePath"] == RESULT_PATH


def test_the_pass_reads_the_audit_trail_and_mlflow_as_serving_does() -> None:
    env = {e["name"]: e for e in container(cronjob())["env"]}

    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "fraudops-audit",
        "key": "url",
    }
    assert env["MLFLOW_TRACKING_URI"]["value"] == "http://mlflow.fraudops-system.svc:5000"


def test_a_plain_database_url_is_passed_as_a_value() -> None:
    config = OperatorConfig(serving_env={"DATABASE_URL": "postgresql://audit/fraudops"})
    env = {e["name"]: e for e in container(cronjob(config))["env"]}

    assert env["DATABASE_URL"]["value"] == "postgresql://audit/fraudops"


def test_the_pass_runs_bounded_and_restricted() -> None:
    body = container(cronjob())

    assert body["resources"]["limits"] == {"cpu": "1", "memory": "2Gi"}
    assert body["securityContext"]["runAsNonRoot"] is True
    assert body["securityContext"]["readOnlyRootFilesystem"] is True
    assert body["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_suspend_suspends_the_cronjob() -> None:
    assert cronjob(monitoring={"suspend": True})["spec"]["suspend"] is True


def test_without_an_audit_trail_there_is_no_cronjob() -> None:
    fm = fraud_model(SYNTHETIC, name="cards")

    assert build_monitor_cronjob(fm, OperatorConfig()) is None


def test_retraining_job_names_never_collide_with_hash_or_cronjob_names() -> None:
    fm = fraud_model(SYNTHETIC, name="cards")

    name = build_retraining_job(fm, CONFIG, "Drift", 3)["metadata"]["name"]

    assert name == "cards-retrain-drift-3"
    assert "-train-" not in name


def test_a_retraining_job_without_an_audit_trail_trains_on_the_configured_data_only() -> None:
    fm = fraud_model(SYNTHETIC, name="cards")

    job = build_retraining_job(fm, OperatorConfig(), "Drift", 1)

    (only,) = job["spec"]["template"]["spec"]["containers"]
    names = {e["name"] for e in only["env"]}
    assert "FRAUDOPS_RETRAINING_REASON" in names
    assert not {"DATABASE_URL", "FRAUDOPS_PRODUCTION_WINDOW"} & names
