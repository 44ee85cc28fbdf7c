"""A real node's sandbox (netns + private mount namespace) comes and goes without a trace."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from devcluster import sandbox
from devcluster.pytest_plugin import eventually


def test_a_sandbox_keeps_its_mounts_and_network_to_itself(tmp_path: Path) -> None:
    name = f"{sandbox.PREFIX}t{uuid.uuid4().hex[:6]}"
    box = sandbox.create(name, tmp_path, "10.250.0.1", 24)
    try:
        inside = subprocess.run(
            [*box.exec_prefix(), "sh", "-c", "cat /proc/self/mountinfo; ip -o addr"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        host_mounts = Path("/proc/self/mountinfo").read_text()

        assert "/var/lib/kubelet" in inside and "10.250.0.1/24" in inside
        assert str(tmp_path / "node") not in host_mounts
        assert name in sandbox.netns_names()
    finally:
        sandbox.destroy(name)


def test_tearing_down_twice_or_a_sandbox_that_never_was_is_harmless(tmp_path: Path) -> None:
    name = f"{sandbox.PREFIX}u{uuid.uuid4().hex[:6]}"
    sandbox.create(name, tmp_path, "10.250.1.1", 24)

    sandbox.destroy(name)
    sandbox.destroy(name)

    assert name not in sandbox.netns_names()
    assert not list(Path("/sys/fs/cgroup").glob(f"*/{name}"))
    assert name not in Path("/proc/self/mountinfo").read_text()


def test_an_abandoned_sandbox_is_removed_at_the_next_start(tmp_path: Path) -> None:
    name = f"{sandbox.PREFIX}v{uuid.uuid4().hex[:6]}"
    box = sandbox.create(name, tmp_path, "10.250.2.1", 24)
    try:
        subprocess.run(["kill", "-9", str(box.holder_pid)], check=True)
        eventually(lambda: not sandbox.netns_pids(name), "the killed holder to leave the netns", 10)

        removed = sandbox.destroy_abandoned()

        assert name in removed
        assert name not in sandbox.netns_names()
    finally:
        sandbox.destroy(name)


@pytest.fixture(autouse=True)
def _needs_namespaces() -> None:
    if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        pytest.skip("ip netns is not usable here")
