"""The private network and mount namespaces a real-node devcluster lives in, and their tear-down.

A kubelet, containerd and kube-proxy want fixed host paths (`/var/lib/kubelet`, `/run/containerd`,
`/var/log/pods`, `/run/netns`), write iptables rules and need a bridge with forwarding. None of
that may touch this machine's own network or file system, and two clusters must be able to
coexist, so every process of such a cluster runs inside one network namespace
(`fraudops-<id>`, made with `ip netns`) and one private mount namespace held open by a `sleep`
process: those fixed paths are bind mounts of the cluster's working directory that only its own
processes see. The host reaches the API server through a forwarder (see `forward.py`).

Tear-down is idempotent and also run at start-up for sandboxes nobody holds any more: kill every
process in the network namespace and in the cluster's cgroups, remove the cgroups, delete the
namespace. When the last process of the mount namespace is gone, its mounts go with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "fraudops-"
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: Node paths that are private bind mounts of `<workdir>/node/<name>` inside the sandbox.
PRIVATE_DIRS = {
    "/var/lib/kubelet": "kubelet",
    "/var/log/pods": "log-pods",
    "/var/log/containers": "log-containers",
    "/run/containerd": "run-containerd",
    "/run/netns": "run-netns",
    "/var/lib/cni": "lib-cni",
}
BRIDGE = "fraudops0"


class SandboxError(RuntimeError):
    """Setting up or tearing down the namespaces failed; the message says which command."""


@dataclass(frozen=True)
class Sandbox:
    """One cluster's namespaces: the netns name and the pid holding the mount namespace."""

    name: str
    holder_pid: int

    def exec_prefix(self) -> list[str]:
        """Prefix for a command that must run inside both namespaces."""
        return ["nsenter", "-t", str(self.holder_pid), "-m", "-n", "--"]


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise SandboxError(f"{' '.join(argv)} failed: {result.stderr.strip()}")
    return result


def netns_names() -> list[str]:
    """Every network namespace `ip netns` lists that belongs to a devcluster."""
    out = _run("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(PREFIX)]


def netns_pids(name: str) -> list[int]:
    out = _run("ip", "netns", "pids", name, check=False).stdout
    return [int(p) for p in out.split()]


def cgroup_name(name: str) -> str:
    """The kubelet's cgroupRoot for this sandbox (one folder under every controller)."""
    return f"/{name}"


def _cgroup_dirs(name: str) -> list[Path]:
    return [d / name for d in CGROUP_ROOT.iterdir() if (d / name).is_dir()]


def _cgroup_pids(name: str) -> set[int]:
    pids: set[int] = set()
    for top in _cgroup_dirs(name):
        for procs in top.rglob("cgroup.procs"):
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(p) for p in procs.read_text().split())
    return pids


def prepare_cgroups(name: str) -> None:
    """Create the cgroupRoot under every v1 controller (cpuset needs its parent's cpus and mems)."""
    for controller in CGROUP_ROOT.iterdir():
        if controller.name == "unified" or not controller.is_dir():
            continue
        path = controller / name
        path.mkdir(exist_ok=True)
        if controller.name == "cpuset":
            for knob in ("cpuset.cpus", "cpuset.mems"):
                (path / knob).write_text((controller / knob).read_text())


def _remove_cgroups(name: str) -> None:
    for top in _cgroup_dirs(name):
        for path in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if path.is_dir():
                with contextlib.suppress(OSError):
                    path.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


def _kill_all(pids: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def destroy(name: str, timeout: float = 30) -> None:
    """Remove everything of sandbox `name`: processes, cgroups, the netns. Safe to repeat."""
    deadline = time.monotonic() + timeout
    while True:
        pids = set(netns_pids(name)) | _cgroup_pids(name)
        pids.discard(os.getpid())
        if not pids:
            break
        if time.monotonic() > deadline:
            raise SandboxError(f"sandbox {name}: processes {sorted(pids)} survived SIGKILL")
        _kill_all(pids)
        time.sleep(0.2)
    for _ in range(50):
        _remove_cgroups(name)
        if not _cgroup_dirs(name):
            break
        time.sleep(0.1)
    if _cgroup_dirs(name):
        raise SandboxError(f"sandbox {name}: cgroups {_cgroup_dirs(name)} could not be removed")
    if name in netns_names():
        _run("ip", "netns", "delete", name)


def destroy_abandoned() -> list[str]:
    """Tear down every devcluster sandbox no process holds any more; return their names.

    A sandbox whose holder is alive belongs to a running cluster (maybe another session's) and is
    left alone; one whose netns is empty, or whose cgroups outlived their netns, is a leftover of
    a cluster that was killed.
    """
    removed = []
    for name in netns_names():
        if not netns_pids(name):
            destroy(name)
            removed.append(name)
    live = set(netns_names())
    for controller in (CGROUP_ROOT / "memory", CGROUP_ROOT / "pids"):
        if not controller.is_dir():
            continue
        for path in controller.glob(f"{PREFIX}*"):
            if path.is_dir() and path.name not in live:
                destroy(path.name)
                removed.append(path.name)
    return removed


def create(
    name: str, workdir: Path, node_ip: str, prefix_len: int, service_cidr: str = ""
) -> Sandbox:
    """Make the netns (loopback up, the node bridge with `node_ip`, forwarding on) and the mount
    namespace with the node's private paths, and return the handle. On failure, undo it all.

    `service_cidr` gets a route through the bridge, so the node's own processes (the API server
    reaching an aggregated API, say) can open ClusterIPs: without a route, connect() fails before
    kube-proxy's OUTPUT rules could rewrite the address.
    """
    service_route = (
        f"ip route add {service_cidr} dev {BRIDGE} src {node_ip}; " if service_cidr else ""
    )
    node_dirs = workdir / "node"
    for host_path, sub in PRIVATE_DIRS.items():
        (node_dirs / sub).mkdir(parents=True, exist_ok=True)
        Path(host_path).mkdir(parents=True, exist_ok=True)
    _run("ip", "netns", "add", name)
    try:
        mounts = " && ".join(
            f"mount --bind {node_dirs / sub} {host_path}" for host_path, sub in PRIVATE_DIRS.items()
        )
        script = (
            f"set -e; {mounts}; "
            "ip link set lo up; "
            f"ip link add {BRIDGE} type bridge; "
            f"ip addr add {node_ip}/{prefix_len} dev {BRIDGE}; "
            f"ip link set {BRIDGE} up; "
            f"{service_route}"
            "sysctl -qw net.ipv4.ip_forward=1; "
            "sysctl -qw net.bridge.bridge-nf-call-iptables=1 || true; "
            "echo ready; exec sleep infinity"
        )
        holder = subprocess.Popen(
            [
                "nsenter",
                f"--net=/run/netns/{name}",
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                script,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert holder.stdout is not None
        line = holder.stdout.readline().strip()
        if line != "ready":
            holder.wait(5)
            raise SandboxError(f"sandbox {name} did not come up: {holder.stderr.read().strip()}")
        prepare_cgroups(name)
        # `unshare` execs sh, which execs sleep: the pid is the holder itself.
        return Sandbox(name=name, holder_pid=holder.pid)
    except BaseException:
        destroy(name)
        raise


def leftovers(name: str, workdir: Path) -> list[str]:
    """What a torn-down sandbox must not leave on the host: its netns, cgroups, mounts, processes.

    Empty when the tear-down was complete; the tests' fixtures fail on anything listed.
    """
    found = [f"netns {name}"] if name in netns_names() else []
    found += [f"cgroup {path}" for path in _cgroup_dirs(name)]
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mount_point = line.split()[4]
        if name in line or mount_point.startswith(str(workdir)):
            found.append(f"mount {mount_point}")
    found += [f"process {pid}" for pid in sorted(set(netns_pids(name)) | _cgroup_pids(name))]
    marker = str(workdir).encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if marker in (proc / "cmdline").read_bytes():
                found.append(f"process {proc.name}: {(proc / 'comm').read_text().strip()}")
    return found
