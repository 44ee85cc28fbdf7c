"""pytest plugin: one devcluster for the whole test session.

Register it with `pytest_plugins = ["devcluster.pytest_plugin"]` (tests/conftest.py). The
session-scoped `devcluster` fixture starts the cluster on first use, points KUBECONFIG at it and
puts the built kubectl/helm first on PATH for the session (so subprocesses, the Python
`kubernetes` client and helm all talk to it), and stops it at the end, failing the session's
teardown if any of its processes, mounts, cgroups or its network namespace survived.
FRAUDOPS_DEVCLUSTER_KEEP=1 keeps its working directory (logs included) for a post-mortem.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from . import sandbox
from .cluster import DevCluster, start, stop

T = TypeVar("T")


def eventually(check: Callable[[], T], what: str, timeout: float = 90) -> T:
    """Poll `check` until it returns something truthy and return that; fail the test naming `what`.

    Controllers converge asynchronously, so cluster tests wait for a state instead of sleeping.
    The timeout only bounds the wait on a broken cluster: no test asserts how long anything took.
    Exceptions (a 404 before an object exists, say) count as "not yet".
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception as error:
            last_error = error
        else:
            if result:
                return result
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what} (last error: {last_error!r})")


def fresh_namespace(core: Any, prefix: str) -> Iterator[str]:
    """A namespace named ``<prefix>-<random>`` for one test, yielded once its default
    ServiceAccount exists (pods cannot be created before), deleted asynchronously afterwards.
    ``core`` is a ``kubernetes.client.CoreV1Api``; the client is imported here rather than at the
    top, so that loading this plugin (every test session does) does not import it."""
    from kubernetes import client

    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    eventually(
        lambda: core.read_namespaced_service_account("default", name),
        f"the default ServiceAccount in {name}",
    )
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="session")
def devcluster() -> Iterator[DevCluster]:
    """A running devcluster shared by every test of the session."""
    cluster = start(keep_workdir=os.environ.get("FRAUDOPS_DEVCLUSTER_KEEP") == "1")
    saved = {k: os.environ.get(k) for k in ("KUBECONFIG", "PATH")}
    os.environ.update(KUBECONFIG=str(cluster.kubeconfig), PATH=cluster.env()["PATH"])
    try:
        yield cluster
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        stop(cluster)
        left = sandbox.leftovers(cluster.sandbox, cluster.workdir)
        assert not left, f"the devcluster left behind: {left}"
