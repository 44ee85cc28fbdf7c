"""The Helm chart renders the manifests' objects and installs the operator into the devcluster."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from built_children import child_resources
from crd_defaults import CRD_PATH, REPO, crd
from devcluster import K8S_VERSION, DevCluster
from devcluster.chart_values import operator_only
from fraud_operator.config import OperatorConfig, SecretKey

pytestmark = pytest.mark.cluster

CHART = REPO / "charts" / "fraudops"
MANIFESTS = REPO / "manifests"
RELEASE = "fraudops"
NAMESPACE = "fraudops-system"
#: The install tests' own release and namespace: the session's end-to-end operator is release
#: `fraudops` in fraudops-system (devcluster.operator_install).
INSTALLED_RELEASE = "fops-chart"
INSTALLED_NAMESPACE = "fops-chart"
SERVICE_ACCOUNT = f"system:serviceaccount:{INSTALLED_NAMESPACE}:{INSTALLED_RELEASE}-operator"
#: Labels Helm's templates add to the manifests' own; everything else must be identical.
#: The chart's default also installs the supporting services; the manifests assume them outside
#: the cluster, with the audit URL as a plain value. These settings render the chart that way.
AS_THE_MANIFESTS = operator_only(
    f"postgresql.{NAMESPACE}.svc", f"http://prometheus.{NAMESPACE}.svc:9090"
)
HELM_LABELS = {
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
}


def helm(cluster: DevCluster, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the devcluster's helm against it; a failure shows helm's own message."""
    result = subprocess.run(
        [str(cluster.bin_dir / "helm"), *args],
        capture_output=True,
        text=True,
        env=cluster.env(),
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def without_helm_labels(value: Any) -> Any:
    """``value`` with Helm's bookkeeping labels dropped from every ``labels`` map in it."""
    if isinstance(value, dict):
        return {
            key: (
                {k: v for k, v in item.items() if k not in HELM_LABELS}
                if key == "labels"
                else without_helm_labels(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [without_helm_labels(item) for item in value]
    return value


def manifest(kind: str) -> dict[str, Any]:
    """The one object of ``kind`` in manifests/crds, manifests/rbac or manifests/operator."""
    (found,) = [
        doc
        for folder in ("crds", "rbac", "operator")
        for path in sorted((MANIFESTS / folder).glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc["kind"] == kind
    ]
    return found


def allowed(cluster: DevCluster, verb: str, group: str, resource: str, namespace: str) -> bool:
    """The API server's RBAC verdict for the operator's ServiceAccount (a SubjectAccessReview,
    which unlike ``kubectl auth can-i`` needs no discovery, so KServe need not be installed)."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": SERVICE_ACCOUNT,
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{INSTALLED_NAMESPACE}"],
            "resourceAttributes": {
                "verb": verb,
                "group": group,
                "resource": resource,
                "namespace": namespace,
            },
        },
    }
    answer = cluster.kubectl("create", "-o", "json", "-f", "-", input=json.dumps(review))
    return json.loads(answer.stdout)["status"]["allowed"]


def template(cluster: DevCluster, *options: str) -> dict[str, dict[str, Any]]:
    """``helm template`` of the chart with ``options``: the CRD and the operator's objects by kind
    (the supporting services' objects, tested in tests/chart, are left out)."""
    output = helm(
        cluster,
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--kube-version",
        K8S_VERSION,
        *options,
    ).stdout
    return {
        doc["kind"]: doc
        for doc in yaml.safe_load_all(output)
        if doc
        and (
            doc["kind"] == "CustomResourceDefinition"
            or doc["metadata"]["name"] == f"{RELEASE}-operator"
        )
    }


@pytest.fixture(scope="module")
def rendered(devcluster: DevCluster) -> dict[str, dict[str, Any]]:
    """The chart with its CRDs and the manifests' assumptions, by kind."""
    return template(devcluster, "--include-crds", *AS_THE_MANIFESTS)


@pytest.fixture(scope="module")
def installed(devcluster: DevCluster) -> Iterator[str]:
    """The chart installed as a release of its own, uninstalled with its namespace afterwards.
    The operator watches only its own namespace, so it cannot act on the FraudModels of other
    tests while it runs. The supporting services are left out (AS_THE_MANIFESTS)."""
    helm(
        devcluster,
        "install",
        INSTALLED_RELEASE,
        str(CHART),
        "--namespace",
        INSTALLED_NAMESPACE,
        "--create-namespace",
        "--set",
        f"watchNamespace={INSTALLED_NAMESPACE}",
        *AS_THE_MANIFESTS,
    )
    try:
        yield INSTALLED_RELEASE
    finally:
        helm(devcluster, "uninstall", INSTALLED_RELEASE, "--namespace", INSTALLED_NAMESPACE)
        devcluster.kubectl("delete", "namespace", INSTALLED_NAMESPACE, "--wait=false")


def test_chart_installs_the_crd_of_the_manifests(rendered: dict[str, dict[str, Any]]) -> None:
    assert rendered["CustomResourceDefinition"] == yaml.safe_load(CRD_PATH.read_text())


@pytest.mark.parametrize(
    "kind", ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment"]
)
def test_chart_renders_the_manifests_object_with_default_values(
    rendered: dict[str, dict[str, Any]], kind: str
) -> None:
    assert without_helm_labels(rendered[kind]) == manifest(kind)


def test_a_named_database_secret_reaches_the_operator_as_a_reference_not_a_value(
    devcluster: DevCluster,
) -> None:
    chart = template(
        devcluster, *AS_THE_MANIFESTS, "--set", "serving.databaseUrlSecret.name=fraudops-db"
    )
    (operator,) = chart["Deployment"]["spec"]["template"]["spec"]["containers"]
    plain = {entry["name"]: entry["value"] for entry in operator["env"] if "value" in entry}

    config = OperatorConfig.from_env(plain)

    assert config.serving_secrets == {"DATABASE_URL": SecretKey("fraudops-db", "url")}
    assert "DATABASE_URL" not in config.serving_env


def test_helm_install_creates_an_established_crd(devcluster: DevCluster, installed: str) -> None:
    result = devcluster.kubectl(
        "get",
        "crd",
        crd()["metadata"]["name"],
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Established')].status}",
    )

    assert result.stdout == "True"


def test_helm_install_creates_the_operator_deployment(
    devcluster: DevCluster, installed: str
) -> None:
    name = f"{INSTALLED_RELEASE}-operator"
    result = devcluster.kubectl("get", "deployment", name, "-n", INSTALLED_NAMESPACE, "-o", "json")

    deployment = json.loads(result.stdout)
    assert deployment["metadata"]["annotations"]["meta.helm.sh/release-name"] == installed
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"


@pytest.mark.parametrize("namespace", [INSTALLED_NAMESPACE, "any-team"])
def test_installed_operator_may_create_every_kind_the_builders_make_only_where_it_watches(
    devcluster: DevCluster, installed: str, namespace: str
) -> None:
    resources = sorted(child_resources())

    verdicts = [
        allowed(devcluster, "create", group, resource, namespace) for group, resource in resources
    ]

    expected = namespace == INSTALLED_NAMESPACE  # installed with watchNamespace: a Role there only
    assert dict(zip(resources, verdicts, strict=True)) == dict.fromkeys(resources, expected)


def test_installed_operator_may_watch_and_patch_fraud_models_where_it_watches(
    devcluster: DevCluster, installed: str
) -> None:
    group, plural = crd()["spec"]["group"], crd()["spec"]["names"]["plural"]

    verdicts = [
        allowed(devcluster, verb, group, plural, INSTALLED_NAMESPACE) for verb in ("watch", "patch")
    ]

    assert verdicts == [True, True]


def test_installed_operator_may_not_list_secrets(devcluster: DevCluster, installed: str) -> None:
    assert not allowed(devcluster, "list", "", "secrets", INSTALLED_NAMESPACE)
