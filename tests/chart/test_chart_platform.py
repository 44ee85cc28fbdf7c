"""The chart's supporting services, rendered offline for every values file it ships: restricted
pods, credentials only through Secrets, NetworkPolicies, helm test hooks, and a values file with a
service neither bundled nor external refused naming the missing value."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from platform_chart import (
    CHART,
    EKS_REQUIRED,
    NAMESPACE,
    VALUES_FILES,
    failure,
    helm,
    named,
    pod_specs,
    render,
)
from restricted_pss import violations

BUNDLED = ["postgresql", "redis", "object-store", "mlflow", "prometheus", "grafana"]
SECRET_ENV = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|DATABASE_URL", re.IGNORECASE)
#: The operator's variables that carry a Secret's "<name>/<key>", the reference and not the value.
SECRET_REFERENCE = "FRAUDOPS_SERVING_SECRET_"
#: A URL with a password in it, unless the password is a $(VAR) the kubelet fills from a Secret.
URL_WITH_PASSWORD = re.compile(r"://[^/@:]+:(?!\$\()[^/@]+@")


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Every shipped values file's objects (each rendered once for the module)."""
    return {name: render(name, settings) for name, settings in VALUES_FILES.items()}


@pytest.fixture(scope="module")
def default() -> list[dict[str, Any]]:
    return render()


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(spec.get("initContainers") or []), *spec["containers"]]


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_helm_lint_passes_for_each_values_file(values_file: str) -> None:
    args = ["lint", str(CHART), "--strict", "-f", str(CHART / values_file)]
    for setting in VALUES_FILES[values_file]:
        args += ["--set", setting]

    result = helm(*args)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_every_pod_meets_the_restricted_pod_security_standard(
    rendered: dict[str, list[dict[str, Any]]], values_file: str
) -> None:
    specs = pod_specs(rendered[values_file])

    assert specs
    assert {name: violations(spec) for name, spec in specs.items()} == {name: [] for name in specs}


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_no_container_gets_a_credential_as_a_plain_env_value(
    rendered: dict[str, list[dict[str, Any]]], values_file: str
) -> None:
    plain = [
        f"{pod}/{container['name']}: {entry['name']}"
        for pod, spec in pod_specs(rendered[values_file]).items()
        for container in containers(spec)
        for entry in container.get("env") or []
        if "valueFrom" not in entry
        and (
            (SECRET_ENV.search(entry["name"]) and not entry["name"].startswith(SECRET_REFERENCE))
            or URL_WITH_PASSWORD.search(entry["value"])
        )
    ]

    assert plain == []


def test_generated_credentials_appear_in_secrets_only(default: list[dict[str, Any]]) -> None:
    secrets = [o for o in default if o["kind"] == "Secret"]
    generated = {
        value
        for secret in secrets
        for key, value in secret["stringData"].items()
        if key in {"password", "accessKey", "secretKey", "admin-password"}
    }
    elsewhere = yaml.safe_dump_all([o for o in default if o["kind"] != "Secret"])

    assert len(generated) == 4
    assert [value for value in generated if value in elsewhere] == []


def test_credentials_are_random_on_each_fresh_render() -> None:
    def password() -> str:
        secret = named(render(), "Secret", "fraudops-postgresql")
        return secret["stringData"]["password"]

    first, second = password(), password()

    assert len(first) == 32
    assert first != second


def test_credential_secrets_are_read_back_with_lookup_and_kept_on_uninstall(
    default: list[dict[str, Any]],
) -> None:
    helpers = (CHART / "templates" / "_platform.tpl").read_text()
    kept = {
        o["metadata"]["name"]
        for o in default
        if o["kind"] == "Secret"
        and o["metadata"].get("annotations", {}).get("helm.sh/resource-policy") == "keep"
    }

    assert 'lookup "v1" "Secret" $root.Release.Namespace $name' in helpers
    assert kept == {"fraudops-postgresql", "fraudops-object-store", "fraudops-grafana"}


def test_the_audit_database_url_secret_is_written_into_every_serving_namespace() -> None:
    objects = render("values.yaml", ["serving.namespaces={fraud-demo,team-b}"])
    password = named(objects, "Secret", "fraudops-postgresql")["stringData"]["password"]

    urls = {
        o["metadata"]["namespace"]: o["stringData"]["url"]
        for o in objects
        if o["kind"] == "Secret" and o["metadata"]["name"] == "fraudops-database"
    }

    expected = f"postgresql://fraudops:{password}@postgresql.{NAMESPACE}.svc:5432/fraudops"
    assert urls == dict.fromkeys([NAMESPACE, "fraud-demo", "team-b"], expected)


def test_the_operator_hands_serving_pods_the_database_url_by_secret_reference(
    default: list[dict[str, Any]],
) -> None:
    operator = named(default, "Deployment", "fraudops-operator")
    env = {
        e["name"]: e.get("value")
        for e in operator["spec"]["template"]["spec"]["containers"][0]["env"]
    }

    assert env["FRAUDOPS_SERVING_SECRET_DATABASE_URL"] == "fraudops-database/url"
    assert env["MLFLOW_TRACKING_URI"] == f"http://mlflow.{NAMESPACE}.svc:5000"
    assert env["FRAUDOPS_SERVING_ENV_REDIS_URL"] == f"redis://redis.{NAMESPACE}.svc:6379/0"
    assert "FRAUDOPS_SERVING_ENV_DATABASE_URL" not in env


def test_every_bundled_service_has_a_service_and_an_ingress_network_policy(
    default: list[dict[str, Any]],
) -> None:
    services = {o["metadata"]["name"] for o in default if o["kind"] == "Service"}
    policies = {o["metadata"]["name"]: o["spec"] for o in default if o["kind"] == "NetworkPolicy"}

    assert services == set(BUNDLED)
    assert set(policies) == {f"fraudops-{name}" for name in BUNDLED}
    assert all(
        p["policyTypes"] == ["Ingress"] and p["ingress"][0]["from"] for p in policies.values()
    )


def test_only_mlflow_training_pods_and_helm_tests_may_reach_the_object_store(
    default: list[dict[str, Any]],
) -> None:
    policy = named(default, "NetworkPolicy", "fraudops-object-store")["spec"]

    mlflow, training, helm_test = policy["ingress"][0]["from"]

    assert mlflow["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "mlflow"
    assert "namespaceSelector" not in mlflow
    # training Jobs of FraudModels in any namespace read their spec.data.uri there
    assert training == {
        "namespaceSelector": {},
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/managed-by": "fraudops-operator",
                "app.kubernetes.io/component": "training",
            }
        },
    }
    assert helm_test["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "helm-test"
    assert "namespaceSelector" not in helm_test


def test_mlflow_serves_artifacts_from_the_object_store_and_allows_in_cluster_hosts(
    default: list[dict[str, Any]],
) -> None:
    (container,) = named(default, "Deployment", "fraudops-mlflow")["spec"]["template"]["spec"][
        "containers"
    ]
    options = dict(arg.split("=", 1) for arg in container["command"] if "=" in arg)
    env = {e["name"]: e for e in container["env"]}

    assert "--serve-artifacts" in container["command"]
    assert options["--artifacts-destination"] == "s3://fraudops/mlflow"
    assert f"mlflow.{NAMESPACE}.svc:5000" in options["--allowed-hosts"].split(",")
    assert env["MLFLOW_S3_ENDPOINT_URL"]["value"] == f"http://object-store.{NAMESPACE}.svc:8333"
    assert env["MLFLOW_BACKEND_STORE_URI"]["value"] == (
        f"postgresql+psycopg://$(PGUSER):$(PGPASSWORD)@postgresql.{NAMESPACE}.svc:5432/mlflow"
    )
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "fraudops-postgresql"


def test_mlflow_runs_the_configured_workers_without_the_job_runner() -> None:
    objects = render(settings=["mlflow.workers=1"])
    (container,) = named(objects, "Deployment", "fraudops-mlflow")["spec"]["template"]["spec"][
        "containers"
    ]
    env = {e["name"]: e.get("value") for e in container["env"]}

    assert "--workers=1" in container["command"]
    assert env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"


def test_an_image_tag_given_as_a_number_is_rendered_as_the_tag() -> None:
    objects = render(settings=["postgresql.image.tag=15", "redis.image.tag=7"])
    images = {name: spec["containers"][0]["image"] for name, spec in pod_specs(objects).items()}

    assert images["StatefulSet/fraudops-postgresql"] == "docker.io/library/postgres:15"
    assert images["Deployment/fraudops-redis"] == "docker.io/library/redis:7"


def test_postgresql_keeps_its_data_on_a_persistent_volume_claim(
    default: list[dict[str, Any]],
) -> None:
    statefulset = named(default, "StatefulSet", "fraudops-postgresql")["spec"]
    (claim,) = statefulset["volumeClaimTemplates"]
    (container,) = statefulset["template"]["spec"]["containers"]

    assert claim["spec"]["resources"]["requests"]["storage"] == "8Gi"
    assert {"name": "data", "mountPath": "/var/lib/postgresql/data"} in container["volumeMounts"]


def test_prometheus_mounts_the_rules_configmap_the_chart_renders(
    default: list[dict[str, Any]],
) -> None:
    spec = named(default, "Deployment", "fraudops-prometheus")["spec"]["template"]["spec"]
    rules = named(default, "ConfigMap", "fraudops-prometheus-rules")
    (volume,) = [v for v in spec["volumes"] if v["name"] == "rules"]
    config = yaml.safe_load(
        named(default, "ConfigMap", "fraudops-prometheus")["data"]["prometheus.yml"]
    )

    assert volume["configMap"]["name"] == rules["metadata"]["name"]
    assert [item["key"] for item in volume["configMap"]["items"]] == list(rules["data"])
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yaml"]
    assert "fraudops-pods" in [job["job_name"] for job in config["scrape_configs"]]


def test_grafana_provisions_the_prometheus_datasource_and_every_dashboard(
    default: list[dict[str, Any]],
) -> None:
    provisioning = named(default, "ConfigMap", "fraudops-grafana-provisioning")["data"]
    dashboards = named(default, "ConfigMap", "fraudops-grafana-dashboards")["data"]
    (datasource,) = yaml.safe_load(provisioning["datasources.yaml"])["datasources"]
    files = sorted(p.name for p in (CHART / "files" / "dashboards").glob("*.json"))

    assert datasource["url"] == f"http://prometheus.{NAMESPACE}.svc:9090"
    assert sorted(dashboards) == files
    assert all(json.loads(body)["panels"] for body in dashboards.values())


def test_the_devcluster_values_disable_grafana_and_pull_no_image(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["values-devcluster.yaml"]
    policies = {
        c["imagePullPolicy"] for spec in pod_specs(objects).values() for c in containers(spec)
    }

    assert not [o for o in objects if "grafana" in o["metadata"]["name"] and o["kind"] != "Secret"]
    assert policies == {"Never"}


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_helm_test_hooks_check_each_service_the_platform_uses(
    rendered: dict[str, list[dict[str, Any]]], values_file: str
) -> None:
    hooks = {
        o["spec"]["containers"][0]["command"][-1]
        for o in rendered[values_file]
        if o["kind"] == "Pod" and o["metadata"]["annotations"]["helm.sh/hook"] == "test"
    }

    expected = {"mlflow", "redis", "prometheus", "postgresql"}
    if values_file != "values-eks.yaml":  # S3 through IRSA: no static key to test with
        expected.add("object-store")
    assert hooks == expected


def test_eks_values_without_the_managed_services_fail_naming_every_missing_value() -> None:
    message = failure(values_file="values-eks.yaml")

    named_values = [setting.split("=")[0].replace("\\", "") for setting in EKS_REQUIRED]
    assert [v for v in named_values if v.split(".eks")[0] not in message] == []


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        (["postgresql.enabled=false"], "postgresql.external.host"),
        (["redis.enabled=false", "serving.redisUrl="], "serving.redisUrl"),
        (["objectStore.enabled=false"], "objectStore.external.bucket"),
        (["prometheus.enabled=false"], "prometheus.external.url"),
        (["mlflow.enabled=false", "mlflow.trackingUri="], "mlflow.trackingUri"),
        (["serving.databaseUrlSecret.name="], "serving.databaseUrlSecret.name"),
    ],
)
def test_a_service_neither_bundled_nor_external_fails_naming_the_value(
    settings: list[str], missing: str
) -> None:
    assert missing in failure(*settings)


def test_installing_in_another_namespace_names_the_urls_to_set() -> None:
    message = failure(namespace="fraud-platform")

    assert "mlflow.trackingUri must be http://mlflow.fraud-platform.svc:5000" in message
    assert "serving.redisUrl must be redis://redis.fraud-platform.svc:6379/0" in message


def test_with_the_prometheus_operator_a_pod_monitor_scrapes_serving_pods_everywhere() -> None:
    objects = render(
        "values-eks.yaml",
        EKS_REQUIRED,
        "--api-versions",
        "monitoring.coreos.com/v1/PodMonitor",
    )

    monitor = named(objects, "PodMonitor", "fraudops-serving")["spec"]

    assert monitor["namespaceSelector"] == {"any": True}
    assert monitor["selector"]["matchLabels"]["app.kubernetes.io/component"] == "serving"
    assert [e["port"] for e in monitor["podMetricsEndpoints"]] == ["http", "http1"]


def test_with_the_prometheus_operator_a_pod_monitor_scrapes_the_operators_metrics_port() -> None:
    objects = render(
        "values-eks.yaml",
        EKS_REQUIRED,
        "--api-versions",
        "monitoring.coreos.com/v1/PodMonitor",
    )
    operator = named(objects, "Deployment", "fraudops-operator")["spec"]["template"]
    (container,) = operator["spec"]["containers"]

    monitor = named(objects, "PodMonitor", "fraudops-operator")["spec"]

    assert monitor["selector"]["matchLabels"].items() <= operator["metadata"]["labels"].items()
    assert [e["port"] for e in monitor["podMetricsEndpoints"]] == ["metrics"]
    assert {"name": "metrics", "containerPort": 8080, "protocol": "TCP"} in container["ports"]
    assert operator["metadata"]["annotations"]["prometheus.io/port"] == "8080"


def test_without_the_prometheus_operator_no_pod_monitor_is_rendered(
    default: list[dict[str, Any]],
) -> None:
    assert [o for o in default if o["kind"] == "PodMonitor"] == []
