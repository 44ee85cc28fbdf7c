"""A devcluster whose node is real: upstream kubelet on containerd + runc, kube-scheduler and
kube-proxy, the control plane beside them, all inside one sandbox (see `sandbox.py`).

Inside the sandbox every component has fixed, well-known ports (etcd 2379, API server 6443,
kubelet 10250): the namespace is the cluster's own, so nothing can collide. The host reaches the
API server only through the forwarder on a free 127.0.0.1 port; pods reach it through the
`kubernetes` Service, as anywhere. Images come from `hack/build-images.sh`'s OCI archives and are
imported into the node's containerd before anything runs (nothing is ever pulled).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from . import addons, binaries, kubeconfig, nodeconfig, pki, sandbox
from .processes import StartupError, launch, wait_until

ETCD_URL = "http://127.0.0.1:2379"
API_PORT = 6443
_HACK_DIR = Path(__file__).resolve().parent.parent
#: The sandbox ("pause") image every pod's network namespace is held by (built from pause.c).
PAUSE_IMAGE = "localhost/fraudops/pause:devcluster"


def new_sandbox_name() -> str:
    return f"{sandbox.PREFIX}{uuid.uuid4().hex[:8]}"


def image_manifest(workdir: Path, components: tuple[str, ...]) -> list[tuple[str, str, Path]]:
    """Build (or find in the cache) the images and return (component, reference, archive) rows."""
    manifest = workdir / "images.txt"
    result = subprocess.run(
        [str(_HACK_DIR / "build-images.sh"), "--manifest", str(manifest), *components],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        output = result.stdout[-2000:] + result.stderr[-4000:]
        raise StartupError(f"building images failed:\n{output}")
    rows = []
    for line in manifest.read_text().splitlines():
        component, ref, archive = line.split()
        rows.append((component, ref, Path(archive)))
    return rows


class RealNode:
    """Starts the components of a real-node cluster one by one, remembering their processes."""

    def __init__(self, workdir: Path, node_name: str, service_ip: str, service_cidr: str) -> None:
        self.workdir = workdir
        self.log_dir = workdir / "logs"
        self.node_name = node_name
        self.service_ip = service_ip
        self.network = nodeconfig.NodeNetwork(service_cidr=service_cidr)
        self.name = new_sandbox_name()
        self.box: sandbox.Sandbox | None = None
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.credentials: pki.Pki | None = None
        self.inner_kubeconfig = workdir / "kubeconfig-node"

    # -- helpers -----------------------------------------------------------------------------
    def _launch(self, name: str, argv: list[str | Path]) -> subprocess.Popen[bytes]:
        assert self.box is not None
        proc = launch([*self.box.exec_prefix(), *argv], self.log_dir / f"{name}.log")
        self.procs[name] = proc
        return proc

    def inside(self, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run a command inside the sandbox and return its result (raises with its output)."""
        assert self.box is not None
        result = subprocess.run(
            [*self.box.exec_prefix(), *argv], capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise StartupError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")
        return result

    def _wait(self, name: str, ready, timeout: float = 90) -> None:
        wait_until(
            ready,
            name,
            timeout=timeout,
            process=self.procs.get(name),
            log_path=self.log_dir / f"{name}.log",
        )

    def _probe(self, url: str, insecure: bool = False) -> bool:
        args = ["curl", "-sf", "-o", "/dev/null", "--max-time", "2"]
        if insecure:
            args.append("-k")
        elif self.credentials:
            args += [
                "--cacert",
                str(self.credentials.ca_cert),
                "--cert",
                str(self.credentials.admin_cert),
                "--key",
                str(self.credentials.admin_key),
            ]
        assert self.box is not None
        return subprocess.run([*self.box.exec_prefix(), *args, url], check=False).returncode == 0

    # -- the sequence ------------------------------------------------------------------------
    def create_sandbox(self) -> None:
        sandbox.destroy_abandoned()
        self.box = sandbox.create(
            self.name,
            self.workdir,
            self.network.node_ip,
            self.network.prefix_len,
            self.network.service_cidr,
        )
        self.credentials = pki.generate(
            self.workdir / "pki", self.service_ip, self.network.node_ip, self.node_name
        )

    def start_etcd(self) -> None:
        self._launch(
            "etcd",
            [
                binaries.binary("etcd"),
                "--name=devcluster",
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls={ETCD_URL}",
                f"--advertise-client-urls={ETCD_URL}",
                "--listen-peer-urls=http://127.0.0.1:2380",
                "--initial-advertise-peer-urls=http://127.0.0.1:2380",
                "--initial-cluster=devcluster=http://127.0.0.1:2380",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        self._wait("etcd", lambda: self._probe(f"{ETCD_URL}/health"), timeout=30)

    def start_apiserver(self) -> None:
        p = self.credentials
        assert p is not None
        self._launch(
            "kube-apiserver",
            [
                binaries.binary("kube-apiserver"),
                f"--etcd-servers={ETCD_URL}",
                "--bind-address=0.0.0.0",
                f"--advertise-address={self.network.node_ip}",
                f"--secure-port={API_PORT}",
                f"--tls-cert-file={p.serving_cert}",
                f"--tls-private-key-file={p.serving_key}",
                f"--client-ca-file={p.ca_cert}",
                f"--service-account-key-file={p.service_account_pub}",
                f"--service-account-signing-key-file={p.service_account_key}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-cluster-ip-range={self.network.service_cidr}",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NodeRestriction",
                "--allow-privileged=true",
                f"--kubelet-client-certificate={p.kubelet_client_cert}",
                f"--kubelet-client-key={p.kubelet_client_key}",
                f"--kubelet-certificate-authority={p.ca_cert}",
                "--kubelet-preferred-address-types=InternalIP",
                f"--requestheader-client-ca-file={p.ca_cert}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-username-headers=X-Remote-User",
                f"--proxy-client-cert-file={p.front_proxy_cert}",
                f"--proxy-client-key-file={p.front_proxy_key}",
                "--enable-aggregator-routing=true",
                "--profiling=false",
                "--v=1",
            ],
        )
        self._wait(
            "kube-apiserver", lambda: self._probe(f"https://127.0.0.1:{API_PORT}/readyz"), 120
        )
        inner_url = f"https://127.0.0.1:{API_PORT}"
        kubeconfig.write(self.inner_kubeconfig, inner_url, p)

    def start_forwarder(self, host_port_socket: socket.socket) -> None:
        """The host's door to the API server: the listening socket is the host's own."""
        assert self.box is not None
        proc = subprocess.Popen(
            [
                *self.box.exec_prefix(),
                "env",
                f"PYTHONPATH={_HACK_DIR}",
                sys.executable,
                "-m",
                "devcluster.forward",
                "--fd",
                str(host_port_socket.fileno()),
                "--to",
                f"127.0.0.1:{API_PORT}",
            ],
            pass_fds=(host_port_socket.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=(self.log_dir / "forward.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs["forward"] = proc

    def start_controller_manager(self, controllers: tuple[str, ...]) -> None:
        p = self.credentials
        assert p is not None
        config = self.inner_kubeconfig
        self._launch(
            "kube-controller-manager",
            [
                binaries.binary("kube-controller-manager"),
                f"--kubeconfig={config}",
                f"--authentication-kubeconfig={config}",
                f"--authorization-kubeconfig={config}",
                "--bind-address=127.0.0.1",
                "--secure-port=10257",
                "--leader-elect=false",
                f"--controllers={','.join(controllers)}",
                f"--service-account-private-key-file={p.service_account_key}",
                f"--root-ca-file={p.ca_cert}",
                f"--service-cluster-ip-range={self.network.service_cidr}",
                "--horizontal-pod-autoscaler-sync-period=5s",
                "--horizontal-pod-autoscaler-downscale-stabilization=30s",
                "--kube-api-qps=200",
                "--kube-api-burst=400",
                "--profiling=false",
                "--v=1",
            ],
        )

    def start_scheduler(self) -> None:
        config = self.inner_kubeconfig
        self._launch(
            "kube-scheduler",
            [
                binaries.binary("kube-scheduler"),
                f"--kubeconfig={config}",
                f"--authentication-kubeconfig={config}",
                f"--authorization-kubeconfig={config}",
                "--bind-address=127.0.0.1",
                "--secure-port=10259",
                "--leader-elect=false",
                "--profiling=false",
                "--v=1",
            ],
        )

    def start_containerd(self) -> None:
        node = self.workdir / "node"
        cni_dir = node / "cni-conf"
        cni_dir.mkdir(parents=True, exist_ok=True)
        (cni_dir / "10-fraudops.conflist").write_text(nodeconfig.cni_conflist(self.network))
        config = node / "containerd.toml"
        config.write_text(
            nodeconfig.containerd_config(
                node / "containerd-root", node / "containerd-state", cni_dir, PAUSE_IMAGE
            )
        )
        self._launch("containerd", ["containerd", "--config", config, "--log-level", "warn"])
        self._wait("containerd", self._containerd_answers, timeout=60)

    def _containerd_answers(self) -> bool:
        assert self.box is not None
        version = [*self.box.exec_prefix(), "ctr", "-a", nodeconfig.CONTAINERD_SOCKET, "version"]
        return subprocess.run(version, capture_output=True, check=False).returncode == 0

    def import_images(self, archives: list[Path]) -> None:
        """Load OCI archives into the node's containerd, where the kubelet finds them."""
        for archive in archives:
            self.inside(
                "ctr",
                "-a",
                nodeconfig.CONTAINERD_SOCKET,
                "-n",
                "k8s.io",
                "images",
                "import",
                str(archive),
            )

    def start_kubelet(self) -> None:
        p = self.credentials
        assert p is not None and p.kubelet_cert and p.kubelet_key
        node = self.workdir / "node"
        resolv = node / "resolv.conf"
        resolv.write_text("# the devcluster has no upstream resolver\noptions ndots:1\n")
        config = node / "kubelet.yaml"
        config.write_text(
            nodeconfig.kubelet_config(
                self.network,
                p.ca_cert,
                p.kubelet_cert,
                p.kubelet_key,
                sandbox.cgroup_name(self.name),
                resolv,
            )
        )
        self._launch(
            "kubelet",
            [
                binaries.binary("kubelet"),
                f"--config={config}",
                f"--kubeconfig={self.inner_kubeconfig}",
                f"--node-ip={self.network.node_ip}",
                f"--hostname-override={self.node_name}",
                "--node-labels=fraudops.dev/devcluster=true",
                "--v=1",
            ],
        )

    def start_kube_proxy(self) -> None:
        config = self.workdir / "node" / "kube-proxy.yaml"
        config.write_text(
            nodeconfig.kube_proxy_config(self.network, self.inner_kubeconfig, self.node_name)
        )
        self._launch("kube-proxy", [binaries.binary("kube-proxy"), f"--config={config}", "--v=1"])

    def start_addons(
        self,
        cluster_kubectl: Callable[..., subprocess.CompletedProcess[str]],
        images: dict[str, str],
        timeout: float,
    ) -> None:
        """Apply CoreDNS and metrics-server (those whose images were imported), wait for them."""
        manifests = []
        deployments = []
        if "coredns" in images:
            manifests += addons.coredns(images["coredns"], self.network.cluster_dns)
            deployments.append("coredns")
        if "metrics-server" in images:
            manifests += addons.metrics_server(images["metrics-server"])
            deployments.append("metrics-server")
        if not manifests:
            return
        cluster_kubectl(
            "apply",
            "-f",
            "-",
            input=json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests}),
        )
        for name in deployments:
            cluster_kubectl(
                "-n",
                "kube-system",
                "rollout",
                "status",
                f"deployment/{name}",
                f"--timeout={int(timeout)}s",
                timeout=timeout + 10,
            )
        if "metrics-server" in images:
            wait_until(
                lambda: (
                    cluster_kubectl(
                        "get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes", check=False
                    ).returncode
                    == 0
                ),
                "the metrics API",
                timeout=timeout,
            )
