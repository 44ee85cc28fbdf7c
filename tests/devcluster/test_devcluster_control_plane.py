"""The control plane is the real one: kubectl sees a Ready node, CRD validation is the API's."""

from __future__ import annotations

import json
import textwrap

import pytest
from devcluster import DevCluster

pytestmark = pytest.mark.cluster

CRD = textwrap.dedent("""\
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: widgets.devcluster.fraudops.dev
    spec:
      group: devcluster.fraudops.dev
      scope: Namespaced
      names: {plural: widgets, singular: widget, kind: Widget}
      versions:
        - name: v1
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
              properties:
                spec:
                  type: object
                  properties:
                    minReplicas: {type: integer}
                    maxReplicas: {type: integer}
                  x-kubernetes-validations:
                    - rule: self.minReplicas <= self.maxReplicas
                      message: minReplicas must not exceed maxReplicas
    """)


def test_kubectl_get_nodes_shows_the_node_ready(devcluster: DevCluster) -> None:
    result = devcluster.kubectl("get", "nodes", "-o", "json")
    nodes = json.loads(result.stdout)["items"]

    assert [n["metadata"]["name"] for n in nodes] == [devcluster.node_name]
    ready = {c["type"]: c["status"] for c in nodes[0]["status"]["conditions"]}["Ready"]
    assert ready == "True"
    assert " Ready " in devcluster.kubectl("get", "nodes").stdout


def test_crd_cel_rule_rejects_a_bad_object_with_the_api_servers_message(
    devcluster: DevCluster, namespace: str
) -> None:
    devcluster.kubectl("apply", "-f", "-", input=CRD)
    devcluster.kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/widgets.devcluster.fraudops.dev",
    )
    good = (
        "apiVersion: devcluster.fraudops.dev/v1\nkind: Widget\nmetadata: {name: good}\n"
        "spec: {minReplicas: 1, maxReplicas: 3}\n"
    )
    bad = good.replace("good", "bad").replace("minReplicas: 1", "minReplicas: 5")

    devcluster.kubectl("apply", "-n", namespace, "-f", "-", input=good)
    rejected = devcluster.kubectl("apply", "-n", namespace, "-f", "-", input=bad, check=False)

    assert rejected.returncode != 0
    assert '"bad" is invalid' in rejected.stderr
    assert "minReplicas must not exceed maxReplicas" in rejected.stderr
