"""Jobs run real Python commands as pods and finish the way the Job controller expects."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from devcluster import DevCluster
from devcluster.pytest_plugin import eventually
from kubernetes import client

pytestmark = pytest.mark.cluster


def job_manifest(name: str, script: str, *args: str) -> str:
    command = ["python", "-c", script, *args]
    return textwrap.dedent(f"""\
        apiVersion: batch/v1
        kind: Job
        metadata: {{name: {name}}}
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers:
                - name: main
                  image: fraudops/anything:ignored
                  command: {json.dumps(command)}
        """)


def job_condition(batch: client.BatchV1Api, namespace: str, name: str) -> str | None:
    conditions = batch.read_namespaced_job_status(name, namespace).status.conditions or []
    done = [c.type for c in conditions if c.type in ("Complete", "Failed") and c.status == "True"]
    return done[0] if done else None


def test_job_running_python_completes_and_leaves_its_side_effect(
    devcluster: DevCluster, api: client.ApiClient, namespace: str, tmp_path: Path
) -> None:
    output = tmp_path / "model.txt"
    script = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text('trained')"
    devcluster.kubectl(
        "apply", "-n", namespace, "-f", "-", input=job_manifest("train", script, str(output))
    )

    batch = client.BatchV1Api(api)
    condition = eventually(lambda: job_condition(batch, namespace, "train"), "the Job to finish")

    assert condition == "Complete"
    assert output.read_text() == "trained"


def test_failed_job_pod_reports_exit_code_and_log_tail(
    devcluster: DevCluster, api: client.ApiClient, core: client.CoreV1Api, namespace: str
) -> None:
    script = (
        "import sys; print('loading features'); "
        "print('ValueError: column amount is missing', file=sys.stderr); sys.exit(3)"
    )
    devcluster.kubectl("apply", "-n", namespace, "-f", "-", input=job_manifest("bad", script))

    batch = client.BatchV1Api(api)
    condition = eventually(lambda: job_condition(batch, namespace, "bad"), "the Job to finish")
    pod = core.list_namespaced_pod(namespace, label_selector="job-name=bad").items[0]
    terminated = pod.status.container_statuses[0].state.terminated

    assert condition == "Failed"
    assert pod.status.phase == "Failed"
    assert terminated.exit_code == 3
    assert terminated.reason == "Error"
    assert "ValueError: column amount is missing" in terminated.message
    assert "loading features" in devcluster.log_tail(namespace, pod.metadata.name, "main")
