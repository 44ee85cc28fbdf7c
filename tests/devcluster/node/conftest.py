"""Fixtures of the node's own tests: the session's devcluster and a fresh namespace per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from devcluster import DevCluster
from devcluster.pytest_plugin import fresh_namespace
from kubernetes import client, config


@pytest.fixture(scope="session")
def node_cluster(devcluster: DevCluster) -> DevCluster:
    """The session's devcluster (its node is real: kubelet, containerd, the project's images)."""
    return devcluster


@pytest.fixture(scope="session")
def node_api(node_cluster: DevCluster) -> Iterator[client.ApiClient]:
    with config.new_client_from_config(config_file=str(node_cluster.kubeconfig)) as api_client:
        yield api_client


@pytest.fixture
def node_core(node_api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(node_api)


@pytest.fixture
def node_namespace(node_core: client.CoreV1Api) -> Iterator[str]:
    """A fresh namespace on the real node for one test, deleted afterwards."""
    yield from fresh_namespace(node_core, "n")
