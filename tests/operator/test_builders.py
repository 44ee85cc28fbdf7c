"""The pure builders: a FraudModel (with the CRD's defaults applied) in, child object bodies out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from built_children import all_children
from crd_defaults import fraud_model
from fraud_operator.builders.gate import build_gate_job
from fraud_operator.builders.serving import (
    ADMIN_TOKEN_KEY,
    ESTIMATOR_SERVING_IMAGE,
    SERVING_IMAGE,
    build_admin_secret,
    build_deployment,
    build_hpa,
    build_inference_service,
    build_service,
    endpoint,
)
from fraud_operator.builders.training import (
    SPEC_KEY,
    build_retrain_cronjob,
    build_training_configmap,
    build_training_job,
    training_hash,
)
from fraud_operator.config import OperatorConfig, SecretKey
from fraud_operator.naming import (
    MAX_NAME,
    retrain_cronjob_name,
    serving_name,
    training_job_name,
)
from model_check import ModelMismatch, check_body

CONFIG = OperatorConfig(
    tracking_uri="http://mlflow.fraudops-system.svc:5000",
    serving_env={"REDIS_URL": "redis://redis:6379/0"},
    job_ttl_seconds=3600,
)
MINIMAL_SPEC: dict[str, Any] = {"data": {"synthetic": {"rows": 20_000}}}


def model(**spec: Any) -> dict[str, Any]:
    """A defaulted FraudModel: the minimal spec with ``spec``'s top-level parts replaced."""
    return fraud_model({**MINIMAL_SPEC, **spec})


def kserve_model(**serving: Any) -> dict[str, Any]:
    return model(serving={"runtime": "kserve", **serving})


def container(pod_spec: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod_spec["containers"]
    return only


def env(container_body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container_body["env"]}


def assert_restricted(security_context: dict[str, Any]) -> None:
    """The container settings the 'restricted' Pod Security Standard requires."""
    assert security_context["runAsNonRoot"] is True
    assert security_context["readOnlyRootFilesystem"] is True
    assert security_context["allowPrivilegeEscalation"] is False
    assert security_context["capabilities"] == {"drop": ["ALL"]}
    assert security_context["seccompProfile"] == {"type": "RuntimeDefault"}


# Names


def test_the_same_object_gets_the_same_child_names() -> None:
    def names() -> list[str]:
        return [child["metadata"]["name"] for _, child in all_children()]

    assert names() == names()


def test_a_new_generation_with_the_same_training_spec_keeps_its_training_job() -> None:
    first = build_training_job(fraud_model(MINIMAL_SPEC, generation=1), CONFIG)
    second = build_training_job(fraud_model(MINIMAL_SPEC, generation=2), CONFIG)

    assert first["metadata"]["name"] == second["metadata"]["name"]


@pytest.mark.parametrize(
    "edit",
    [
        {"data": {"synthetic": {"rows": 20_000, "seed": 7}}},
        {"training": {"algorithm": "lightgbm"}},
        {"registry": {"modelName": "cards"}},
    ],
    ids=["data", "training", "registry"],
)
def test_an_edit_to_what_is_trained_gets_a_new_training_job(edit: dict[str, Any]) -> None:
    before = build_training_job(model(), CONFIG)
    after = build_training_job(model(**edit), CONFIG)

    assert before["metadata"]["name"] != after["metadata"]["name"]


@pytest.mark.parametrize(
    "edit",
    [{"serving": {"maxReplicas": 8}}, {"validation": {"minPrAuc": 0.7}}],
    ids=["serving", "validation"],
)
def test_serving_and_validation_edits_do_not_change_the_training_job(
    edit: dict[str, Any],
) -> None:
    assert training_hash(model()["spec"]) == training_hash(model(**edit)["spec"])


def test_the_gate_job_is_named_from_the_model_and_the_version() -> None:
    fm = model()

    assert build_gate_job(fm, CONFIG, "4")["metadata"]["name"] == "card-fraud-gate-v4"


def test_the_gate_job_passes_the_current_validation_policy_and_runs_no_training() -> None:
    fm = model(validation={"minRocAuc": 0.95, "minPrAuc": 0.6, "maxRegression": 0.01})

    command = container(build_gate_job(fm, CONFIG, "4")["spec"]["template"]["spec"])["command"]

    assert command[:3] == ["python", "-m", "fraud_training.gate_job"]
    options = dict(zip(command[3::2], command[4::2], strict=True))
    assert options == {
        "--model": "risk-card-fraud",
        "--version": "4",
        "--min-roc-auc": "0.95",
        "--min-pr-auc": "0.6",
        "--max-regression": "0.01",
    }


def test_the_gate_job_asks_for_less_than_training() -> None:
    fm = model()
    gate = container(build_gate_job(fm, CONFIG, "1")["spec"]["template"]["spec"])
    train = container(build_training_job(fm, CONFIG)["spec"]["template"]["spec"])

    mebibytes = {"Mi": 1, "Gi": 1024}

    def memory(resources: dict[str, Any]) -> int:
        quantity = resources["requests"]["memory"]
        return int(quantity[:-2]) * mebibytes[quantity[-2:]]

    assert memory(gate["resources"]) < memory(train["resources"])
    assert gate["image"] == train["image"]


def test_serving_keeps_its_name_across_generations() -> None:
    first = build_deployment(fraud_model(MINIMAL_SPEC, generation=1), CONFIG)
    second = build_deployment(fraud_model(MINIMAL_SPEC, generation=7), CONFIG)

    assert first["metadata"]["name"] == second["metadata"]["name"]


def test_long_names_are_shortened_to_63_characters() -> None:
    name = "a" * 63

    assert len(training_job_name(name, "0123456789")) == MAX_NAME
    assert len(serving_name(name)) == MAX_NAME


def test_shortened_names_are_stable_and_keep_distinct_objects_apart() -> None:
    one, other = "a" * 60 + "one", "a" * 60 + "two"

    assert training_job_name(one, "h") == training_job_name(one, "h")
    assert training_job_name(one, "h") != training_job_name(other, "h")


def test_the_cronjob_name_leaves_room_for_the_suffix_of_its_jobs() -> None:
    assert len(retrain_cronjob_name("a" * 63)) + len("-29000000") <= MAX_NAME


# Ownership


CHILDREN = all_children()
CHILD_IDS = [f"{fm['spec']['serving']['runtime']}-{child['kind']}" for fm, child in CHILDREN]


@pytest.mark.parametrize(("fm", "child"), CHILDREN, ids=CHILD_IDS)
def test_every_child_is_controlled_by_its_fraud_model(
    fm: dict[str, Any], child: dict[str, Any]
) -> None:
    assert child["metadata"]["ownerReferences"] == [
        {
            "apiVersion": fm["apiVersion"],
            "kind": fm["kind"],
            "name": fm["metadata"]["name"],
            "uid": fm["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


@pytest.mark.parametrize(("fm", "child"), CHILDREN, ids=CHILD_IDS)
def test_every_child_lives_in_the_fraud_models_namespace(
    fm: dict[str, Any], child: dict[str, Any]
) -> None:
    assert child["metadata"]["namespace"] == fm["metadata"]["namespace"]


# Training ConfigMap and Job


def test_configmap_holds_the_spec_the_job_trains_on() -> None:
    fm = model(training={"algorithm": "lightgbm", "hyperparameters": {"learning_rate": 0.05}})

    job_spec = json.loads(build_training_configmap(fm, CONFIG)["data"][SPEC_KEY])

    assert job_spec["data"] == fm["spec"]["data"]
    assert job_spec["training"]["algorithm"] == "lightgbm"
    assert job_spec["training"]["hyperparameters"] == {"learning_rate": 0.05}
    assert "validation" not in job_spec  # the gate Job reads it, when a candidate exists


def test_configmap_names_the_registered_model_after_namespace_and_name_by_default() -> None:
    job_spec = json.loads(build_training_configmap(model(), CONFIG)["data"][SPEC_KEY])

    assert job_spec["registry"]["modelName"] == "risk-card-fraud"


def test_configmap_uses_the_registered_model_name_of_the_spec() -> None:
    fm = model(registry={"modelName": "cards.eu"})

    job_spec = json.loads(build_training_configmap(fm, CONFIG)["data"][SPEC_KEY])

    assert job_spec["registry"]["modelName"] == "cards.eu"


def test_job_reads_its_spec_from_the_configmap_of_its_generation() -> None:
    fm = model()
    configmap = build_training_configmap(fm, CONFIG)

    job = build_training_job(fm, CONFIG)

    ref = env(container(job["spec"]["template"]["spec"]))["FRAUDOPS_JOB_SPEC"]
    assert ref["valueFrom"]["configMapKeyRef"] == {
        "name": configmap["metadata"]["name"],
        "key": SPEC_KEY,
    }


def test_job_retries_and_deadline_come_from_the_spec() -> None:
    fm = model(training={"backoffLimit": 3, "activeDeadlineSeconds": 900})

    job = build_training_job(fm, CONFIG)

    assert job["spec"]["backoffLimit"] == 3
    assert job["spec"]["activeDeadlineSeconds"] == 900


def test_job_retries_and_deadline_default_to_the_crds_defaults() -> None:
    fm = model()

    job = build_training_job(fm, CONFIG)

    assert job["spec"]["backoffLimit"] == fm["spec"]["training"]["backoffLimit"]
    assert job["spec"]["activeDeadlineSeconds"] == fm["spec"]["training"]["activeDeadlineSeconds"]


def test_finished_jobs_are_removed_after_the_operators_ttl() -> None:
    job = build_training_job(model(), CONFIG)

    assert job["spec"]["ttlSecondsAfterFinished"] == CONFIG.job_ttl_seconds


def test_job_fails_without_retrying_when_the_trainer_reports_a_user_or_storage_error() -> None:
    job = build_training_job(model(), CONFIG)

    (rule,) = job["spec"]["podFailurePolicy"]["rules"]
    trainer = container(job["spec"]["template"]["spec"])["name"]
    assert rule == {
        "action": "FailJob",
        "onExitCodes": {"containerName": trainer, "operator": "In", "values": [2, 3]},
    }
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_job_uses_the_resources_of_the_spec() -> None:
    wanted = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": 1, "memory": "1Gi"}}

    job = build_training_job(model(training={"resources": wanted}), CONFIG)

    assert container(job["spec"]["template"]["spec"])["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }


def test_job_is_bounded_by_default_resources_when_the_spec_sets_none() -> None:
    job = build_training_job(model(), CONFIG)

    resources = container(job["spec"]["template"]["spec"])["resources"]
    assert set(resources) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(resources["limits"])


def test_job_talks_to_the_tracking_uri_of_the_spec_when_set() -> None:
    fm = model(registry={"trackingUri": "http://mlflow.team-a:5000"})

    job = build_training_job(fm, CONFIG)

    variables = env(container(job["spec"]["template"]["spec"]))
    assert variables["MLFLOW_TRACKING_URI"]["value"] == "http://mlflow.team-a:5000"


def test_job_runs_under_the_restricted_security_profile() -> None:
    job = build_training_job(model(), CONFIG)

    assert_restricted(container(job["spec"]["template"]["spec"])["securityContext"])


# Retraining CronJob


def test_no_cronjob_without_a_retraining_schedule() -> None:
    assert build_retrain_cronjob(model(), CONFIG) is None


def test_cronjob_retrains_on_the_schedule_without_overlapping_runs() -> None:
    cronjob = build_retrain_cronjob(model(retraining={"schedule": "0 3 * * 1"}), CONFIG)

    assert cronjob is not None
    assert cronjob["spec"]["schedule"] == "0 3 * * 1"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"


def test_cronjob_runs_the_generations_job_with_the_reason_schedule() -> None:
    fm = model(retraining={"schedule": "@daily"})

    cronjob = build_retrain_cronjob(fm, CONFIG)

    assert cronjob is not None
    scheduled = cronjob["spec"]["jobTemplate"]["spec"]
    generation = build_training_job(fm, CONFIG)["spec"]
    scheduled_env = container(scheduled["template"]["spec"]).pop("env")
    generation_env = container(generation["template"]["spec"]).pop("env")
    assert scheduled_env[: len(generation_env)] == generation_env
    assert {"name": "FRAUDOPS_RETRAINING_REASON", "value": "Schedule"} in scheduled_env
    scheduled["template"]["metadata"]["labels"].pop("fraudops.io/retraining-reason")
    assert scheduled == generation


# Serving: Deployment, Service, HPA


def test_deployment_never_drops_below_its_ready_pods_while_rolling_out() -> None:
    strategy = build_deployment(model(), CONFIG)["spec"]["strategy"]

    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_deployment_is_ready_only_when_readyz_answers() -> None:
    predictor = container(build_deployment(model(), CONFIG)["spec"]["template"]["spec"])

    assert predictor["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert predictor["readinessProbe"]["httpGet"]["port"] == predictor["ports"][0]["containerPort"]


def test_deployment_is_restarted_when_healthz_stops_answering() -> None:
    predictor = container(build_deployment(model(), CONFIG)["spec"]["template"]["spec"])

    assert predictor["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert predictor["livenessProbe"]["httpGet"]["port"] == predictor["ports"][0]["containerPort"]


def test_deployment_pods_invite_prometheus_to_scrape_their_metrics() -> None:
    template = build_deployment(model(), CONFIG)["spec"]["template"]
    port = container(template["spec"])["ports"][0]["containerPort"]

    assert template["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": "/metrics",
    }


def test_deployment_runs_under_the_restricted_security_profile() -> None:
    pod_spec = build_deployment(model(), CONFIG)["spec"]["template"]["spec"]

    assert pod_spec["securityContext"]["runAsNonRoot"] is True
    assert_restricted(container(pod_spec)["securityContext"])


def test_deployment_selector_matches_its_pods() -> None:
    spec = build_deployment(model(), CONFIG)["spec"]

    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()


def test_deployment_does_not_select_the_pods_of_another_fraud_model() -> None:
    ours = build_deployment(fraud_model(MINIMAL_SPEC, name="cards"), CONFIG)
    theirs = build_deployment(fraud_model(MINIMAL_SPEC, name="wires"), CONFIG)

    selector = ours["spec"]["selector"]["matchLabels"]
    assert not selector.items() <= theirs["spec"]["template"]["metadata"]["labels"].items()


def test_serving_pods_get_the_operators_serving_environment() -> None:
    predictor = container(build_deployment(model(), CONFIG)["spec"]["template"]["spec"])

    assert env(predictor)["REDIS_URL"]["value"] == CONFIG.serving_env["REDIS_URL"]


def test_serving_pods_read_secret_variables_by_reference_never_by_value() -> None:
    config = OperatorConfig(serving_secrets={"DATABASE_URL": SecretKey("fraudops-db", "url")})
    predictor = container(build_deployment(model(), config)["spec"]["template"]["spec"])

    assert env(predictor)["DATABASE_URL"] == {
        "name": "DATABASE_URL",
        "valueFrom": {"secretKeyRef": {"name": "fraudops-db", "key": "url"}},
    }


def test_serving_pods_read_the_admin_token_from_the_fraud_models_secret() -> None:
    fm = model()
    secret = build_admin_secret(fm, "s3cret")

    predictor = container(build_deployment(fm, CONFIG)["spec"]["template"]["spec"])

    assert env(predictor)["ADMIN_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": secret["metadata"]["name"],
        "key": ADMIN_TOKEN_KEY,
    }
    assert secret["stringData"] == {ADMIN_TOKEN_KEY: "s3cret"}


def test_service_selects_the_deployments_pods_on_their_container_port() -> None:
    fm = model()
    deployment = build_deployment(fm, CONFIG)

    service = build_service(fm)

    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    ports = {p["containerPort"] for p in container(deployment["spec"]["template"]["spec"])["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports


@pytest.mark.parametrize("track", ["stable", "canary"])
def test_service_selects_both_kserve_revisions_on_their_container_port(track: str) -> None:
    fm = kserve_model(canaryTrafficPercent=20)
    isvc = build_inference_service(fm, CONFIG, "3", track)

    service = build_service(fm)

    assert service["spec"]["selector"].items() <= isvc["metadata"]["labels"].items()
    ports = {p["containerPort"] for p in container(isvc["spec"]["predictor"])["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports


def test_hpa_scales_the_deployment_between_the_specs_bounds_on_cpu() -> None:
    fm = model(serving={"minReplicas": 2, "maxReplicas": 9, "targetCPUUtilizationPercentage": 55})

    hpa = build_hpa(fm)

    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": build_deployment(fm, CONFIG)["metadata"]["name"],
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 9)
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 55}


# Serving: KServe InferenceService


def test_inference_service_scales_between_the_specs_bounds() -> None:
    fm = kserve_model(minReplicas=2, maxReplicas=6)

    predictor = build_inference_service(fm, CONFIG, "3")["spec"]["predictor"]

    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 6)


def test_inference_service_never_asks_kserve_for_its_canary_split() -> None:
    isvc = build_inference_service(kserve_model(canaryTrafficPercent=10), CONFIG, "3")

    assert "canaryTrafficPercent" not in isvc["spec"]["predictor"]


def test_the_canary_inference_service_is_a_second_one_labelled_with_its_track_and_version() -> None:
    fm = kserve_model(canaryTrafficPercent=10)

    stable = build_inference_service(fm, CONFIG, "3")
    canary = build_inference_service(fm, CONFIG, "4", "canary", (1, 1))

    assert canary["metadata"]["name"] == f"{stable['metadata']['name']}-canary"
    assert stable["metadata"]["labels"]["fraudops.io/track"] == "stable"
    assert canary["metadata"]["labels"]["fraudops.io/track"] == "canary"
    assert canary["metadata"]["labels"]["fraudops.io/model-version"] == "4"
    predictor = canary["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (1, 1)


def test_an_xgboost_model_without_an_image_is_served_by_the_slim_serving_image() -> None:
    deployment = build_deployment(model(training={"algorithm": "xgboost"}), CONFIG)

    assert container(deployment["spec"]["template"]["spec"])["image"] == SERVING_IMAGE


@pytest.mark.parametrize("algorithm", ["lightgbm", "random_forest", "logistic_regression"])
def test_a_model_served_from_its_estimator_gets_the_all_in_one_image(algorithm: str) -> None:
    deployment = build_deployment(model(training={"algorithm": algorithm}), CONFIG)

    assert container(deployment["spec"]["template"]["spec"])["image"] == ESTIMATOR_SERVING_IMAGE


def test_a_named_serving_image_is_used_whatever_the_algorithm() -> None:
    fm = model(training={"algorithm": "lightgbm"}, serving={"image": "registry.example/s:1"})

    deployment = build_deployment(fm, CONFIG)

    assert container(deployment["spec"]["template"]["spec"])["image"] == "registry.example/s:1"


def test_inference_service_runs_our_image_as_the_custom_predictor() -> None:
    fm = kserve_model(image="registry.example/fraudops:1.2.3")

    predictor = build_inference_service(fm, CONFIG, "3")["spec"]["predictor"]

    assert container(predictor)["image"] == "registry.example/fraudops:1.2.3"
    assert container(predictor)["name"] == "kserve-container"


def test_inference_service_port_is_one_knative_accepts() -> None:
    predictor = build_inference_service(kserve_model(), CONFIG, "3")["spec"]["predictor"]

    (port,) = container(predictor)["ports"]
    assert port.get("name", "") in {"", "http1", "h2c"}


def test_inference_service_asks_for_kserves_standard_mode_whatever_the_clusters_default() -> None:
    isvc = build_inference_service(kserve_model(), CONFIG, "3")

    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"


def test_inference_service_pods_run_as_non_root_owning_their_volumes() -> None:
    predictor = build_inference_service(kserve_model(), CONFIG, "3")["spec"]["predictor"]

    assert predictor["securityContext"] == {"runAsNonRoot": True, "fsGroup": 10001}


def test_the_kserve_endpoint_is_v2_infer_on_the_operators_service_in_front_of_both_revisions() -> (
    None
):
    fm = kserve_model()
    meta = fm["metadata"]

    assert endpoint(fm) == (
        f"http://{build_service(fm)['metadata']['name']}.{meta['namespace']}.svc.cluster.local"
        f":8080/v2/models/{meta['name']}/infer"
    )


def test_inference_service_sets_no_fieldref_env_which_knative_refuses_by_default() -> None:
    predictor = build_inference_service(kserve_model(), CONFIG, "3")["spec"]["predictor"]

    assert not [e for e in container(predictor)["env"] if "fieldRef" in e.get("valueFrom", {})]


# Bodies fit the clients' models


@pytest.mark.parametrize(("fm", "child"), CHILDREN, ids=CHILD_IDS)
def test_every_child_fits_its_client_model(fm: dict[str, Any], child: dict[str, Any]) -> None:
    built = check_body(child)

    assert built.kind == child["kind"]
    assert built.metadata.name == child["metadata"]["name"]


def test_model_check_catches_a_misspelt_key_in_an_inference_service() -> None:
    isvc = build_inference_service(kserve_model(), CONFIG, "3")
    isvc["spec"]["predictor"]["minReplica"] = isvc["spec"]["predictor"].pop("minReplicas")

    with pytest.raises(ModelMismatch, match=r"spec\.predictor\.minReplica: not a field"):
        check_body(isvc)


def test_model_check_catches_a_misspelt_key_deep_in_a_deployment() -> None:
    deployment = build_deployment(model(), CONFIG)
    container(deployment["spec"]["template"]["spec"])["readinesProbe"] = {}

    with pytest.raises(ModelMismatch, match=r"containers\[0\]\.readinesProbe: not a field"):
        check_body(deployment)


def test_model_check_catches_a_value_of_the_wrong_type() -> None:
    hpa = build_hpa(model())
    hpa["spec"]["minReplicas"] = "2"

    with pytest.raises(ModelMismatch, match=r"spec\.minReplicas: expected int"):
        check_body(hpa)


def test_model_check_catches_a_missing_required_field() -> None:
    job = build_training_job(model(), CONFIG)
    del container(job["spec"]["template"]["spec"])["name"]

    with pytest.raises(ModelMismatch, match="V1Container refused it"):
        check_body(job)


# Training data in object storage

S3_URI = "s3://training-data/cards/transactions.csv"


def s3_job(**s3: Any) -> dict[str, Any]:
    return build_training_job(model(data={"uri": S3_URI, **({"s3": s3} if s3 else {})}), CONFIG)


def test_an_s3_endpoint_and_region_reach_the_training_job_as_the_sdks_variables() -> None:
    job = s3_job(endpoint="http://object-store.fraudops-system.svc:8333", region="eu-west-1")

    variables = env(container(job["spec"]["template"]["spec"]))

    assert variables["AWS_ENDPOINT_URL_S3"]["value"] == (
        "http://object-store.fraudops-system.svc:8333"
    )
    assert variables["AWS_REGION"]["value"] == "eu-west-1"
    assert "AWS_ENDPOINT_URL" not in variables  # STS (IRSA) must keep AWS's own endpoint


def test_s3_credentials_reach_the_training_job_only_by_secret_reference() -> None:
    job = s3_job(credentialsSecret="training-data-keys")

    variables = env(container(job["spec"]["template"]["spec"]))

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert "value" not in variables[key]
        assert variables[key]["valueFrom"] == {
            "secretKeyRef": {"name": "training-data-keys", "key": key}
        }


def test_without_s3_settings_the_training_job_uses_the_sdks_default_chain() -> None:
    variables = env(container(s3_job()["spec"]["template"]["spec"]))

    assert not {name for name in variables if name.startswith("AWS_")}


def test_the_gate_job_fails_at_once_on_bad_input_only() -> None:
    (rule,) = build_gate_job(model(), CONFIG, "3")["spec"]["podFailurePolicy"]["rules"]

    assert rule["onExitCodes"]["values"] == [2]


def test_the_training_job_runs_under_the_service_account_the_spec_names() -> None:
    job = build_training_job(model(training={"serviceAccountName": "reads-training-data"}), CONFIG)

    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "reads-training-data"


def test_without_a_service_account_the_training_job_takes_the_namespaces_default() -> None:
    job = build_training_job(model(), CONFIG)

    assert "serviceAccountName" not in job["spec"]["template"]["spec"]


def test_a_new_service_account_runs_the_training_again_and_stays_out_of_its_configmap() -> None:
    fm = model(training={"serviceAccountName": "reads-training-data"})

    assert training_hash(fm["spec"]) != training_hash(model()["spec"])
    job_spec = json.loads(build_training_configmap(fm, CONFIG)["data"][SPEC_KEY])
    assert "serviceAccountName" not in job_spec["training"]
