"""The plain manifests: they parse, fit the API's models, and grant the operator what it does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from built_children import child_resources
from crd_defaults import REPO, crd
from model_check import check_body

MANIFESTS = REPO / "manifests"
CHART = REPO / "charts" / "fraudops"
YAML_FILES = sorted(
    [*MANIFESTS.rglob("*.yaml"), CHART / "Chart.yaml", CHART / "values.yaml"],
    key=lambda path: str(path),
)


class StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key repeated in one mapping (plain YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        repeated = sorted({str(key) for key in keys if keys.count(key) > 1})
        if repeated:
            raise yaml.constructor.ConstructorError(
                None, None, f"repeated key(s) {repeated}", node.start_mark
            )
        return super().construct_mapping(node, deep=deep)


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.load_all(path.read_text(), StrictLoader) if doc is not None]


def only(folder: str, kind: str) -> dict[str, Any]:
    """The one object of ``kind`` among the YAML files of ``manifests/<folder>``."""
    (found,) = [
        doc
        for path in sorted((MANIFESTS / folder).glob("*.yaml"))
        for doc in documents(path)
        if doc["kind"] == kind
    ]
    return found


def granted(group: str, resource: str) -> set[str]:
    """The verbs the operator's ClusterRole grants on ``resource`` of ``group``."""
    verbs: set[str] = set()
    for rule in only("rbac", "ClusterRole")["rules"]:
        if group in rule["apiGroups"] and resource in rule["resources"]:
            verbs |= set(rule["verbs"])
    return verbs


def operator_container() -> dict[str, Any]:
    (container,) = only("operator", "Deployment")["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda path: str(path.relative_to(REPO)))
def test_every_yaml_file_parses_without_repeated_keys(path: Path) -> None:
    assert documents(path)


@pytest.mark.parametrize(
    "body",
    [
        doc
        for folder in ("rbac", "operator")
        for path in sorted((MANIFESTS / folder).glob("*.yaml"))
        for doc in documents(path)
    ],
    ids=lambda body: body["kind"],
)
def test_every_rbac_and_operator_object_fits_its_client_model(body: dict[str, Any]) -> None:
    assert check_body(body).metadata.name == body["metadata"]["name"]


@pytest.mark.parametrize(
    ("group", "resource"), sorted(child_resources()), ids=lambda part: part or "core"
)
def test_cluster_role_lets_the_operator_create_every_kind_the_builders_make(
    group: str, resource: str
) -> None:
    assert "create" in granted(group, resource)


def test_cluster_role_lets_kopf_watch_and_patch_fraud_models_everywhere() -> None:
    group, plural = crd()["spec"]["group"], crd()["spec"]["names"]["plural"]

    assert {"list", "watch", "patch"} <= granted(group, plural)
    assert "patch" in granted(group, f"{plural}/status")


def test_cluster_role_lets_the_operator_post_events() -> None:
    assert "create" in granted("", "events")


def test_cluster_role_cannot_enumerate_secrets() -> None:
    assert not {"list", "watch"} & granted("", "secrets")


def test_cluster_role_binding_grants_the_role_to_the_operators_service_account() -> None:
    binding = only("rbac", "ClusterRoleBinding")
    account = only("rbac", "ServiceAccount")

    assert binding["roleRef"]["name"] == only("rbac", "ClusterRole")["metadata"]["name"]
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": account["metadata"]["name"],
            "namespace": account["metadata"]["namespace"],
        }
    ]


def test_operator_runs_as_the_service_account_in_its_namespace() -> None:
    deployment = only("operator", "Deployment")
    account = only("rbac", "ServiceAccount")

    assert (
        deployment["spec"]["template"]["spec"]["serviceAccountName"]
        == (account["metadata"]["name"])
    )
    assert deployment["metadata"]["namespace"] == account["metadata"]["namespace"]
    assert only("operator", "Namespace")["metadata"]["name"] == account["metadata"]["namespace"]


def test_operator_runs_exactly_one_pod_at_a_time() -> None:
    spec = only("operator", "Deployment")["spec"]

    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}


def test_operator_runs_the_operator_module() -> None:
    assert operator_container()["command"] == ["python", "-m", "fraud_operator"]


def test_operator_liveness_probe_asks_kopfs_health_endpoint() -> None:
    container = operator_container()
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    probe = container["livenessProbe"]["httpGet"]
    env = {entry["name"]: entry.get("value") for entry in container["env"]}

    assert probe["path"] == "/healthz"
    assert ports[probe["port"]] == 8081
    assert env["FRAUDOPS_LIVENESS"].endswith(f":{ports[probe['port']]}{probe['path']}")


def test_operator_runs_under_the_restricted_security_profile() -> None:
    pod_spec = only("operator", "Deployment")["spec"]["template"]["spec"]
    context = operator_container()["securityContext"]

    assert pod_spec["securityContext"]["runAsNonRoot"] is True
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


def test_operator_is_told_where_mlflow_is() -> None:
    names = {entry["name"] for entry in operator_container()["env"]}

    assert "MLFLOW_TRACKING_URI" in names


@pytest.mark.parametrize(
    "path", sorted((MANIFESTS / "samples").glob("*.yaml")), ids=lambda path: path.name
)
def test_every_sample_is_a_namespace_less_fraud_model(path: Path) -> None:
    (sample,) = documents(path)
    version = crd()["spec"]["versions"][0]["name"]

    assert sample["apiVersion"] == f"{crd()['spec']['group']}/{version}"
    assert sample["kind"] == crd()["spec"]["names"]["kind"]
    assert "namespace" not in sample["metadata"]


@pytest.mark.parametrize("link", ["crds", "rbac"])
def test_the_chart_reads_the_manifests_through_a_relative_symlink(link: str) -> None:
    path = CHART / link

    assert path.is_symlink()
    assert not Path(path.readlink()).is_absolute()
    assert path.resolve() == (MANIFESTS / link).resolve()
