"""The API server itself refuses a bad FraudModel, with a message that names the field and problem.

Every object goes through the real ``kubectl apply -f -`` (strict field validation is kubectl's
default) against the devcluster's kube-apiserver, so the CRD's schema, defaults and CEL rules are
what is tested, not a reimplementation of them.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from crd_defaults import CRD_PATH, REPO, apply_defaults, crd, openapi_schema
from devcluster import DevCluster

pytestmark = pytest.mark.cluster

SAMPLES = sorted((REPO / "manifests" / "samples").glob("*.yaml"))
GOOD_SPEC: dict[str, Any] = {
    "data": {"synthetic": {"rows": 20_000, "fraudRate": 0.02}},
    "serving": {"minReplicas": 1, "maxReplicas": 2},
}


def fraud_model(spec: dict[str, Any], name: str = "fm-under-test") -> dict[str, Any]:
    version = crd()["spec"]["versions"][0]["name"]
    return {
        "apiVersion": f"{crd()['spec']['group']}/{version}",
        "kind": crd()["spec"]["names"]["kind"],
        "metadata": {"name": name},
        "spec": spec,
    }


def changed(path: str, value: Any) -> dict[str, Any]:
    """The good spec with the dotted ``path`` set to ``value`` (``...`` removes it)."""
    spec = copy.deepcopy(GOOD_SPEC)
    *parents, leaf = path.split(".")
    node = spec
    for key in parents:
        node = node.setdefault(key, {})
    if value is ...:
        del node[leaf]
    else:
        node[leaf] = value
    return spec


#: (case id, spec, the part of the API server's message a person needs to read)
BAD_SPECS = [
    ("unknown-algorithm", changed("training.algorithm", "sklearn"), 'Unsupported value: "sklearn"'),
    (
        "unknown-imbalance",
        changed("training.imbalance", "oversample"),
        'Unsupported value: "oversample"',
    ),
    ("unknown-runtime", changed("serving.runtime", "triton"), 'Unsupported value: "triton"'),
    (
        "negative-replicas",
        changed("serving.minReplicas", -1),
        "spec.serving.minReplicas in body should be greater than or equal to 1",
    ),
    (
        "min-above-max-replicas",
        changed("serving.minReplicas", 5),
        "serving.minReplicas must not exceed serving.maxReplicas",
    ),
    (
        "too-many-replicas",
        changed("serving.maxReplicas", 500),
        "spec.serving.maxReplicas in body should be less than or equal to 100",
    ),
    (
        "zero-cpu-target",
        changed("serving.targetCPUUtilizationPercentage", 0),
        "spec.serving.targetCPUUtilizationPercentage in body should be greater than or equal to 1",
    ),
    (
        "roc-auc-above-one",
        changed("validation.minRocAuc", 1.5),
        "spec.validation.minRocAuc in body should be less than or equal to 1",
    ),
    (
        "negative-regression",
        changed("validation.maxRegression", -0.1),
        "spec.validation.maxRegression in body should be greater than or equal to 0",
    ),
    (
        "fraud-rate-too-high",
        changed("data.synthetic.fraudRate", 0.5),
        "spec.data.synthetic.fraudRate in body should be less than or equal to 0.05",
    ),
    (
        "too-few-rows",
        changed("data.synthetic.rows", 10),
        "spec.data.synthetic.rows in body should be greater than or equal to 1000",
    ),
    (
        "rows-not-a-number",
        changed("data.synthetic.rows", "many"),
        "spec.data.synthetic.rows in body must be of type integer",
    ),
    (
        "test-fraction-too-large",
        changed("training.split.testFraction", 0.9),
        "spec.training.split.testFraction in body should be less than or equal to 0.5",
    ),
    (
        "test-fraction-zero",
        changed("training.split.testFraction", 0),
        "spec.training.split.testFraction in body should be greater than 0",
    ),
    (
        "backoff-limit-too-high",
        changed("training.backoffLimit", 11),
        "spec.training.backoffLimit in body should be less than or equal to 10",
    ),
    (
        "canary-with-fastapi",
        changed("serving.canaryTrafficPercent", 10),
        "serving.canaryTrafficPercent needs serving.runtime: kserve",
    ),
    (
        "canary-of-all-traffic",
        {**GOOD_SPEC, "serving": {"runtime": "kserve", "canaryTrafficPercent": 100}},
        "spec.serving.canaryTrafficPercent in body should be less than or equal to 99",
    ),
    (
        "canary-of-no-traffic",
        {**GOOD_SPEC, "serving": {"runtime": "kserve", "canaryTrafficPercent": 0}},
        "spec.serving.canaryTrafficPercent in body should be greater than or equal to 1",
    ),
    (
        "canary-error-margin-above-one",
        {
            **GOOD_SPEC,
            "serving": {
                "runtime": "kserve",
                "canaryTrafficPercent": 20,
                "canary": {"maxErrorRateIncrease": 2},
            },
        },
        "spec.serving.canary.maxErrorRateIncrease in body should be less than or equal to 1",
    ),
    (
        "cron-not-five-fields",
        {**GOOD_SPEC, "retraining": {"schedule": "every day"}},
        "retraining.schedule must be a five-field cron expression",
    ),
    (
        "cron-minute-out-of-range",
        {**GOOD_SPEC, "retraining": {"schedule": "61 3 * * *"}},
        "retraining.schedule: the minute field takes values 0-59",
    ),
    (
        "cron-day-of-week-out-of-range",
        {**GOOD_SPEC, "retraining": {"schedule": "0 3 * * 7"}},
        "retraining.schedule: the day-of-week field takes values 0-6 or sun-sat",
    ),
    ("unknown-spec-field", {**GOOD_SPEC, "foo": 1}, 'unknown field "spec.foo"'),
    (
        "unknown-nested-field",
        changed("serving.replicas", 2),
        'unknown field "spec.serving.replicas"',
    ),
    ("missing-data", changed("data", ...), "spec.data: Required value"),
    (
        "synthetic-and-uri",
        changed("data.uri", "s3://data/transactions.parquet"),
        "data must set exactly one of synthetic or uri",
    ),
    (
        "neither-synthetic-nor-uri",
        changed("data.synthetic", ...),
        "data must set exactly one of synthetic or uri",
    ),
    (
        "relative-uri",
        {**GOOD_SPEC, "data": {"uri": "data/transactions.csv"}},
        "data.uri must be an s3://bucket/key URI: a local path or file:// URI is not readable",
    ),
    (
        "local-path-uri",
        {**GOOD_SPEC, "data": {"uri": "/data/transactions.csv"}},
        "a local path or file:// URI is not readable inside the cluster",
    ),
    (
        "file-uri",
        {**GOOD_SPEC, "data": {"uri": "file:///data/transactions.csv"}},
        "a local path or file:// URI is not readable inside the cluster",
    ),
    (
        "s3-uri-without-a-key",
        {**GOOD_SPEC, "data": {"uri": "s3://data"}},
        "data.uri must be s3://bucket/key",
    ),
    (
        "s3-uri-naming-a-folder",
        {**GOOD_SPEC, "data": {"uri": "s3://data/cards/"}},
        "data.uri must be s3://bucket/key",
    ),
    (
        "s3-uri-with-an-upper-case-bucket",
        {**GOOD_SPEC, "data": {"uri": "s3://Data/cards.csv"}},
        "data.uri must be s3://bucket/key",
    ),
    (
        "s3-settings-without-a-uri",
        changed("data.s3", {"region": "eu-west-1"}),
        "data.s3 only applies to an s3:// data.uri",
    ),
    (
        "s3-endpoint-that-is-not-a-url",
        {**GOOD_SPEC, "data": {"uri": "s3://data/x.csv", "s3": {"endpoint": "object-store:8333"}}},
        "data.s3.endpoint must be an http:// or https:// URL",
    ),
    (
        "s3-unknown-field",
        {**GOOD_SPEC, "data": {"uri": "s3://data/x.csv", "s3": {"accessKey": "AKIA"}}},
        'unknown field "spec.data.s3.accessKey"',
    ),
    (
        "mapped-format-without-mapping",
        {**GOOD_SPEC, "data": {"uri": "s3://data/bank.csv", "format": "mapped"}},
        "data.format mapped needs data.columnMapping",
    ),
    (
        "mapping-without-mapped-format",
        {**GOOD_SPEC, "data": {"uri": "s3://data/bank.csv", "columnMapping": {"amount": "AMT"}}},
        "data.columnMapping is only used with data.format: mapped",
    ),
    (
        "mapping-names-an-unknown-field",
        {
            **GOOD_SPEC,
            "data": {
                "uri": "s3://data/bank.csv",
                "format": "mapped",
                "columnMapping": {"amout": "A"},
            },
        },
        'unknown field "spec.data.columnMapping.amout"',
    ),
    (
        "mapping-column-both-feature-and-entity",
        {
            **GOOD_SPEC,
            "data": {
                "uri": "s3://data/bank.csv",
                "format": "mapped",
                "columnMapping": {"amount": "AMT", "features": ["ip"], "entities": ["ip"]},
            },
        },
        "a column is either in features or in entities, not both",
    ),
    (
        "mapping-unknown-timestamp-unit",
        {
            **GOOD_SPEC,
            "data": {
                "uri": "s3://data/bank.csv",
                "format": "mapped",
                "columnMapping": {"amount": "AMT", "timestampUnit": "days"},
            },
        },
        'Unsupported value: "days"',
    ),
    (
        "unknown-data-format",
        {**GOOD_SPEC, "data": {"uri": "s3://data/bank.csv", "format": "excel"}},
        'Unsupported value: "excel"',
    ),
    (
        "bad-model-name",
        changed("registry.modelName", "-fraud model"),
        "spec.registry.modelName in body should match",
    ),
    (
        "service-account-not-a-name",
        changed("training.serviceAccountName", "Training Data"),
        "spec.training.serviceAccountName in body should match",
    ),
    (
        "pair-window-not-a-duration",
        changed("training.pairWindows", ["a day"]),
        "spec.training.pairWindows[0] in body should match",
    ),
    (
        "monitoring-window-not-a-duration",
        changed("monitoring.window", "an hour"),
        "monitoring.window must be a number and s, m, h or d",
    ),
    (
        "monitoring-schedule-not-cron",
        changed("monitoring.schedule", "hourly"),
        "monitoring.schedule must be a five-field cron expression",
    ),
    (
        "monitoring-too-few-rows",
        changed("monitoring.minRows", 10),
        "spec.monitoring.minRows: Invalid value",
    ),
    (
        "psi-bands-inverted",
        changed("monitoring.psiBands", {"moderate": 0.3, "major": 0.2}),
        "monitoring.psiBands.moderate must be below monitoring.psiBands.major",
    ),
    (
        "drift-cooldown-not-a-duration",
        changed("retraining.drift", {"cooldown": "tomorrow"}),
        "retraining.drift.cooldown must be a number and s, m, h or d",
    ),
    (
        "performance-without-min-precision",
        changed("retraining.performance", {"minLabelledRows": 100}),
        "spec.retraining.performance.minPrecision: Required value",
    ),
    (
        "precision-above-one",
        changed("retraining.performance", {"minPrecision": 1.5}),
        "spec.retraining.performance.minPrecision: Invalid value",
    ),
]
BAD_NAMES = [
    ("name-with-dots", "fraud.model"),
    ("name-longer-than-a-label", "f" * 64),
]


def kubectl_apply(cluster: DevCluster, namespace: str, body: dict[str, Any]) -> tuple[int, str]:
    """(exit code, stdout + stderr) of ``kubectl apply -f -`` with ``body`` on stdin."""
    result = cluster.kubectl(
        "apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(body), check=False
    )
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def fraudmodel_crd(devcluster: DevCluster) -> str:
    """The CRD applied from manifests/crds/ and Established: the API server serves FraudModels."""
    name = crd()["metadata"]["name"]
    devcluster.kubectl("apply", "-f", str(CRD_PATH))
    devcluster.kubectl("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")
    return name


@pytest.fixture(scope="module")
def namespace(devcluster: DevCluster, fraudmodel_crd: str) -> Iterator[str]:
    """A namespace of this module's own, deleted with everything in it afterwards.

    The deletion is not waited for: the end-to-end operator of the same session may be
    reconciling the valid objects created here (Jobs, finalizers), and how long it takes to let
    go is not what this module tests."""
    name = f"crd-{uuid.uuid4().hex[:8]}"
    devcluster.kubectl("create", "namespace", name)
    yield name
    devcluster.kubectl("delete", "namespace", name, "--wait=false")


@pytest.mark.parametrize(
    ("spec", "message"),
    [pytest.param(spec, message, id=case) for case, spec, message in BAD_SPECS],
)
def test_api_server_refuses_a_bad_spec_naming_the_problem(
    devcluster: DevCluster, namespace: str, spec: dict[str, Any], message: str
) -> None:
    code, output = kubectl_apply(devcluster, namespace, fraud_model(spec))

    assert code != 0
    assert message in output


@pytest.mark.parametrize(("name"), [pytest.param(name, id=case) for case, name in BAD_NAMES])
def test_api_server_refuses_a_name_that_cannot_name_the_children(
    devcluster: DevCluster, namespace: str, name: str
) -> None:
    code, output = kubectl_apply(devcluster, namespace, fraud_model(GOOD_SPEC, name=name))

    assert code != 0
    assert "metadata.name must be at most 63 lower-case letters" in output


def test_api_server_fills_in_the_crds_defaults(devcluster: DevCluster, namespace: str) -> None:
    code, output = kubectl_apply(devcluster, namespace, fraud_model(GOOD_SPEC, name="defaults"))
    assert code == 0, output

    stored = json.loads(
        devcluster.kubectl("get", "fm", "defaults", "-n", namespace, "-o", "json").stdout
    )

    assert stored["spec"]["training"]["algorithm"] == "xgboost"
    assert stored["spec"]["serving"]["runtime"] == "fastapi"
    assert stored["spec"]["data"]["synthetic"]["seed"] == 42
    spec_schema = openapi_schema()["properties"]["spec"]
    assert stored["spec"] == apply_defaults(GOOD_SPEC, spec_schema)


@pytest.mark.parametrize(
    "hyperparameters",
    [{"learning_rate": 0.05}, {"max_depth": 6}, {"class_weight": "balanced"}, {"early_stop": True}],
    ids=["float", "integer", "string", "boolean"],
)
def test_api_server_accepts_scalar_hyperparameters(
    devcluster: DevCluster, namespace: str, hyperparameters: dict[str, Any]
) -> None:
    spec = changed("training.hyperparameters", hyperparameters)

    code, output = kubectl_apply(devcluster, namespace, fraud_model(spec, name="hyperparameters"))

    assert code == 0, output


@pytest.mark.parametrize(
    "schedule", ["*/15 * * * *", "0 3 * * mon-fri", "30 2 1,15 jan-jun *", "@daily"]
)
def test_api_server_accepts_a_valid_schedule(
    devcluster: DevCluster, namespace: str, schedule: str
) -> None:
    spec = {**GOOD_SPEC, "retraining": {"schedule": schedule}}

    code, output = kubectl_apply(devcluster, namespace, fraud_model(spec, name="scheduled"))

    assert code == 0, output


def test_api_server_accepts_a_mapping_with_features_entities_and_risk_entities(
    devcluster: DevCluster, namespace: str
) -> None:
    mapping = {
        "customer_id": "card1",
        "timestamp": "TransactionDT",
        "timestampUnit": "s",
        "amount": "TransactionAmt",
        "is_fraud": "isFraud",
        "features": ["C1", "ProductCD"],
        "entities": ["P_emaildomain"],
    }
    spec = {
        **GOOD_SPEC,
        "data": {"uri": "s3://data/ieee.csv", "format": "mapped", "columnMapping": mapping},
        "training": {"riskFeatures": {"entities": ["P_emaildomain"]}},
    }

    code, output = kubectl_apply(devcluster, namespace, fraud_model(spec, name="mapped"))

    assert code == 0, output


def test_api_server_accepts_s3_data_with_its_settings(
    devcluster: DevCluster, namespace: str
) -> None:
    s3 = {
        "endpoint": "http://object-store.fraudops-system.svc:8333",
        "region": "eu-west-1",
        "credentialsSecret": "training-data-keys",
    }
    spec = {**GOOD_SPEC, "data": {"uri": "s3://training-data/cards/tx.csv.gz", "s3": s3}}

    code, output = kubectl_apply(devcluster, namespace, fraud_model(spec, name="s3-data"))

    assert code == 0, output


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_api_server_accepts_every_sample(
    devcluster: DevCluster, namespace: str, path: Path
) -> None:
    result = devcluster.kubectl("apply", "-n", namespace, "-f", str(path), check=False)

    assert result.returncode == 0, result.stderr


def test_kubectl_get_shows_the_printer_columns(devcluster: DevCluster, namespace: str) -> None:
    code, output = kubectl_apply(devcluster, namespace, fraud_model(GOOD_SPEC, name="columns"))
    assert code == 0, output

    header = devcluster.kubectl("get", "fm", "-n", namespace).stdout.splitlines()[0]

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
