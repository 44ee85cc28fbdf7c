"""Fixtures of the real-node tests: one kubelet-on-containerd devcluster for the session.

These tests need the node's binaries, Debian packages and images (`make test-node` installs and
builds them); they run when FRAUDOPS_REAL_NODE=1 and are skipped, saying so, otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from devcluster import DevCluster, sandbox, start, stop
from devcluster.pytest_plugin import fresh_namespace
from kubernetes import client, config

#: The Dockerfile targets the real-node tests run.
IMAGES = ("operator", "training", "serving", "coredns", "metrics-server")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("FRAUDOPS_REAL_NODE") == "1":
        return
    skip = pytest.mark.skip(reason="real-node tests: run `make test-node` (FRAUDOPS_REAL_NODE=1)")
    for item in items:
        if "realnode" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def node_cluster() -> Iterator[DevCluster]:
    """A devcluster with a real node, the project's images imported into its containerd.

    FRAUDOPS_NODE_WORKDIR=<dir of a running real-node cluster> reuses that cluster and leaves it
    running, for iterating on these tests without paying a cluster start each time.
    """
    reuse = os.environ.get("FRAUDOPS_NODE_WORKDIR")
    if reuse:
        yield DevCluster.load(Path(reuse))
        return
    cluster = start(node="kubelet", images=IMAGES, timeout=180)
    try:
        yield cluster
    finally:
        stop(cluster)
        left = sandbox.leftovers(cluster.sandbox, cluster.workdir)
        assert not left, f"the real node left behind: {left}"


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
