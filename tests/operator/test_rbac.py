"""Least privilege: the operator's RBAC grants exactly what its code does, in both modes.

The needs are derived by running the operator's code (:mod:`rbac_needs`); the rules are checked
twice: as written (exactly those needs, nothing more), and as the API server judges them for the
ServiceAccount (a SubjectAccessReview, as ``kubectl auth can-i --as`` asks it; no kubelet
needed), for the chart in
cluster mode and in namespaced mode (``watchNamespace``: a Role there, nothing elsewhere).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from crd_defaults import REPO
from devcluster import K8S_VERSION, DevCluster
from rbac_needs import CLUSTER_KOPF_NEEDS, Need, operator_needs

CLUSTER_ROLE = REPO / "manifests" / "rbac" / "clusterrole.yaml"
CHART = REPO / "charts" / "fraudops"


def granted(rules: list[dict[str, Any]]) -> set[Need]:
    return {
        (verb, group, resource)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_the_cluster_role_grants_exactly_what_the_operator_needs() -> None:
    rules = yaml.safe_load(CLUSTER_ROLE.read_text())["rules"]

    assert granted(rules) == operator_needs(cluster_wide=True)


def test_the_operator_never_needs_to_list_or_watch_secrets() -> None:
    assert not {("list", "", "secrets"), ("watch", "", "secrets")} & operator_needs()


# As the API server judges them.


#: The operator alone: the chart's bundled services off (their URLs must otherwise name the
#: release's namespace), with the external endpoints they then need.
OPERATOR_ONLY = (
    "--set",
    "mlflow.enabled=false,postgresql.enabled=false,redis.enabled=false,objectStore.enabled=false",
    "--set",
    "prometheus.enabled=false,grafana.enabled=false,serving.databaseUrlSecret.name=",
    "--set",
    "postgresql.external.host=postgresql.example,prometheus.external.url=http://prometheus.example",
)


def render(cluster: DevCluster, release: str, namespace: str, *options: str) -> list[dict]:
    output = subprocess.run(
        [
            str(cluster.bin_dir / "helm"),
            "template",
            release,
            str(CHART),
            *("-n", namespace, "--kube-version", K8S_VERSION),
            *OPERATOR_ONLY,
            *options,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=cluster.env(),
        timeout=120,
    ).stdout
    return [doc for doc in yaml.safe_load_all(output) if doc]


def can_i(cluster: DevCluster, account: str, need: Need, namespace: str) -> bool:
    """The API server's verdict for ``account``: what ``kubectl auth can-i --as`` asks, sent as
    a SubjectAccessReview because can-i resolves resources through discovery and answers "no"
    for kinds the cluster does not serve yet (KServe's, or FraudModels before the CRD)."""
    verb, group, resource = need
    name, _, sub = resource.partition("/")
    namespace_of_account = account.split(":")[2]
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": account,
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace_of_account}"],
            "resourceAttributes": {
                "verb": verb,
                "group": group,
                "resource": name,
                "subresource": sub,
                "namespace": namespace,
            },
        },
    }
    answer = cluster.kubectl("create", "-o", "json", "-f", "-", input=json.dumps(review))
    return json.loads(answer.stdout)["status"]["allowed"]


RBAC_KINDS = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}


def install_rbac(cluster: DevCluster, docs: list[dict], namespace: str) -> None:
    """Apply the rendered RBAC objects only (no operator Deployment: nothing runs)."""
    cluster.kubectl("create", "namespace", namespace, check=False)
    rbac = [doc for doc in docs if doc["kind"] in RBAC_KINDS]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(rbac))


def remove(cluster: DevCluster, docs: list[dict], *namespaces: str) -> None:
    for doc in docs:
        if doc["kind"] in {"ClusterRole", "ClusterRoleBinding"}:
            cluster.kubectl("delete", doc["kind"], doc["metadata"]["name"], check=False)
    for namespace in namespaces:
        cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.fixture(scope="module")
def cluster_mode(devcluster: DevCluster) -> Iterator[str]:
    """The chart's RBAC, cluster mode, as release rbac-cw in namespace rbac-cw."""
    docs = render(devcluster, "rbac-cw", "rbac-cw")
    install_rbac(devcluster, docs, "rbac-cw")
    yield "system:serviceaccount:rbac-cw:rbac-cw-operator"
    remove(devcluster, docs, "rbac-cw")


@pytest.fixture(scope="module")
def namespaced_mode(devcluster: DevCluster) -> Iterator[tuple[str, list[dict]]]:
    """The chart's RBAC watching namespace rbac-team only, release rbac-ns in rbac-ns."""
    docs = render(devcluster, "rbac-ns", "rbac-ns", "--set", "watchNamespace=rbac-team")
    devcluster.kubectl("create", "namespace", "rbac-team", check=False)
    install_rbac(devcluster, docs, "rbac-ns")
    yield "system:serviceaccount:rbac-ns:rbac-ns-operator", docs
    remove(devcluster, docs, "rbac-ns", "rbac-team")


@pytest.mark.cluster
def test_in_cluster_mode_the_service_account_may_do_everything_the_code_does(
    devcluster: DevCluster, cluster_mode: str
) -> None:
    needs = sorted(operator_needs(cluster_wide=True))

    denied = [n for n in needs if not can_i(devcluster, cluster_mode, n, "any-team")]

    assert denied == []


@pytest.mark.cluster
@pytest.mark.parametrize(
    "need",
    [("list", "", "secrets"), ("get", "", "nodes"), ("delete", "fraudops.io", "fraudmodels")],
    ids=lambda need: f"{need[0]}-{need[2]}",
)
def test_in_cluster_mode_the_service_account_may_do_nothing_else(
    devcluster: DevCluster, cluster_mode: str, need: Need
) -> None:
    assert not can_i(devcluster, cluster_mode, need, "any-team")


@pytest.mark.cluster
def test_in_namespaced_mode_the_chart_grants_no_cluster_wide_rights(
    namespaced_mode: tuple[str, list[dict]],
) -> None:
    _, docs = namespaced_mode

    kinds = {doc["kind"] for doc in docs}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
    assert {doc["metadata"]["namespace"] for doc in docs if doc["kind"] == "Role"} == {"rbac-team"}


@pytest.mark.cluster
def test_in_namespaced_mode_the_service_account_may_do_everything_there_and_nothing_elsewhere(
    devcluster: DevCluster, namespaced_mode: tuple[str, list[dict]]
) -> None:
    account, _ = namespaced_mode
    needs = sorted(operator_needs(cluster_wide=False) - CLUSTER_KOPF_NEEDS)

    denied_there = [n for n in needs if not can_i(devcluster, account, n, "rbac-team")]
    allowed_elsewhere = [n for n in needs if can_i(devcluster, account, n, "other-team")]

    assert (denied_there, allowed_elsewhere) == ([], [])
