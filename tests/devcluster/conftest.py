"""Fixtures of the devcluster's own tests: API clients and a fresh namespace per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from devcluster import DevCluster
from devcluster.pytest_plugin import fresh_namespace
from kubernetes import client, config


@pytest.fixture(scope="session")
def api(devcluster: DevCluster) -> Iterator[client.ApiClient]:
    """A Python `kubernetes` client for the devcluster, loaded from its kubeconfig."""
    with config.new_client_from_config(config_file=str(devcluster.kubeconfig)) as api_client:
        yield api_client


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def namespace(core: client.CoreV1Api) -> Iterator[str]:
    """A fresh namespace for one test, deleted (asynchronously) afterwards."""
    yield from fresh_namespace(core, "t")
