"""start() and stop() of a second, separate devcluster: stop leaves no process behind."""

from __future__ import annotations

import devcluster
import pytest
from devcluster.processes import is_alive, process_tree
from devcluster.pytest_plugin import eventually
from kubernetes import client, config

pytestmark = pytest.mark.cluster


def test_stop_leaves_no_process_behind() -> None:
    cluster = devcluster.start()
    try:
        with config.new_client_from_config(config_file=str(cluster.kubeconfig)) as api:
            core = client.CoreV1Api(api)
            core.create_namespaced_pod(
                "default",
                client.V1Pod(
                    metadata=client.V1ObjectMeta(name="sleeper"),
                    spec=client.V1PodSpec(
                        containers=[
                            client.V1Container(
                                name="main", image="ignored", command=["sleep", "600"]
                            )
                        ]
                    ),
                ),
            )
            eventually(
                lambda: core.read_namespaced_pod("sleeper", "default").status.phase == "Running",
                "the pod to run",
            )
        processes = process_tree(cluster.pids.values())
        names = {p.name() for p in processes}
    finally:
        devcluster.stop(cluster)

    assert {"etcd", "kube-apiserver", "sleep"} <= names
    assert [p for p in processes if is_alive(p)] == []
    assert not cluster.workdir.exists()
