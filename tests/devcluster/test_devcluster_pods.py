"""The pod runner gives pods what the kubelet would: environment, restarts, graceful deletion."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import psutil
import pytest
from devcluster.pytest_plugin import eventually
from kubernetes import client

pytestmark = pytest.mark.cluster


def python_pod(
    name: str,
    script: str,
    *args: str,
    restart: str = "Never",
    env: list[client.V1EnvVar] | None = None,
    env_from: list[client.V1EnvFromSource] | None = None,
    grace: int | None = None,
) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(
            restart_policy=restart,
            termination_grace_period_seconds=grace,
            containers=[
                client.V1Container(
                    name="main",
                    image="ignored",
                    command=["python", "-c", script, *args],
                    env=env,
                    env_from=env_from,
                )
            ],
        ),
    )


def phase(core: client.CoreV1Api, namespace: str, name: str) -> str:
    return core.read_namespaced_pod_status(name, namespace).status.phase


def gone(core: client.CoreV1Api, namespace: str, name: str) -> bool:
    return name not in {p.metadata.name for p in core.list_namespaced_pod(namespace).items}


def test_env_from_secret_configmap_and_fieldref_reaches_the_process(
    core: client.CoreV1Api, namespace: str, tmp_path: Path
) -> None:
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="db"), string_data={"password": "s3cret"}
        ),
    )
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="settings"),
            data={"threshold": "0.7", "MODEL_STAGE": "production"},
        ),
    )
    ref = client.V1EnvVarSource
    env = [
        client.V1EnvVar(name="LITERAL", value="plain"),
        client.V1EnvVar(
            name="DB_PASSWORD",
            value_from=ref(secret_key_ref=client.V1SecretKeySelector(name="db", key="password")),
        ),
        client.V1EnvVar(
            name="THRESHOLD",
            value_from=ref(
                config_map_key_ref=client.V1ConfigMapKeySelector(name="settings", key="threshold")
            ),
        ),
        client.V1EnvVar(
            name="MY_NAME",
            value_from=ref(field_ref=client.V1ObjectFieldSelector(field_path="metadata.name")),
        ),
        client.V1EnvVar(
            name="MY_NAMESPACE",
            value_from=ref(field_ref=client.V1ObjectFieldSelector(field_path="metadata.namespace")),
        ),
        client.V1EnvVar(
            name="MY_IP",
            value_from=ref(field_ref=client.V1ObjectFieldSelector(field_path="status.podIP")),
        ),
    ]
    env_from = [client.V1EnvFromSource(config_map_ref=client.V1ConfigMapEnvSource(name="settings"))]
    names = [
        "LITERAL",
        "DB_PASSWORD",
        "THRESHOLD",
        "MY_NAME",
        "MY_NAMESPACE",
        "MY_IP",
        "POD_IP",
        "MODEL_STAGE",
    ]
    script = (
        "import json, os, sys; "
        f"env = {{n: os.environ.get(n) for n in {names}}}; "
        "open(sys.argv[1], 'w').write(json.dumps(env))"
    )
    out = tmp_path / "env.json"
    core.create_namespaced_pod(
        namespace, python_pod("env", script, str(out), env=env, env_from=env_from)
    )

    eventually(lambda: phase(core, namespace, "env") == "Succeeded", "the pod to succeed")
    seen = json.loads(out.read_text())
    pod_ip = core.read_namespaced_pod("env", namespace).status.pod_ip

    assert pod_ip.startswith("127.")
    assert seen == {
        "LITERAL": "plain",
        "DB_PASSWORD": "s3cret",
        "THRESHOLD": "0.7",
        "MY_NAME": "env",
        "MY_NAMESPACE": namespace,
        "MY_IP": pod_ip,
        "POD_IP": pod_ip,
        "MODEL_STAGE": "production",
    }


def test_container_runs_in_the_projects_python(
    core: client.CoreV1Api, namespace: str, tmp_path: Path
) -> None:
    out = tmp_path / "python.txt"
    script = "import sys; open(sys.argv[1], 'w').write(sys.prefix)"
    core.create_namespaced_pod(namespace, python_pod("which", script, str(out)))

    eventually(lambda: phase(core, namespace, "which") == "Succeeded", "the pod to succeed")

    assert out.read_text() == sys.prefix


def test_on_failure_restart_policy_restarts_until_success(
    core: client.CoreV1Api, namespace: str, tmp_path: Path
) -> None:
    marker = tmp_path / "attempted"
    script = (
        "import pathlib, sys; m = pathlib.Path(sys.argv[1]); "
        "first = not m.exists(); m.touch(); sys.exit(1 if first else 0)"
    )
    core.create_namespaced_pod(
        namespace, python_pod("flaky", script, str(marker), restart="OnFailure")
    )

    eventually(lambda: phase(core, namespace, "flaky") == "Succeeded", "the pod to succeed")
    status = core.read_namespaced_pod_status("flaky", namespace).status.container_statuses[0]

    assert status.restart_count == 1
    assert status.last_state.terminated.exit_code == 1


def test_deleting_a_pod_sends_sigterm_to_its_process(
    core: client.CoreV1Api, namespace: str, tmp_path: Path
) -> None:
    record = tmp_path / "signals.txt"
    script = (
        "import pathlib, signal, sys, time; out = pathlib.Path(sys.argv[1]); "
        "signal.signal(signal.SIGTERM, lambda *_: (out.write_text('SIGTERM'), sys.exit(0)));"
        " out.write_text('started'); time.sleep(600)"
    )
    core.create_namespaced_pod(
        namespace, python_pod("graceful", script, str(record), restart="Always")
    )
    eventually(lambda: record.exists() and record.read_text() == "started", "the process")

    core.delete_namespaced_pod("graceful", namespace)
    eventually(lambda: gone(core, namespace, "graceful"), "the pod to be deleted")

    assert record.read_text() == "SIGTERM"


def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period(
    core: client.CoreV1Api, namespace: str, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    script = (
        "import os, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(600)"
    )
    core.create_namespaced_pod(
        namespace, python_pod("stubborn", script, str(pid_file), restart="Always", grace=1)
    )
    eventually(lambda: pid_file.exists() and pid_file.read_text(), "the process")
    pid = int(pid_file.read_text())

    core.delete_namespaced_pod("stubborn", namespace)
    eventually(lambda: gone(core, namespace, "stubborn"), "the pod to be deleted")

    assert not psutil.pid_exists(pid)
