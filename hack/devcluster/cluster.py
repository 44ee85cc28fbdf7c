"""Start and stop one devcluster: etcd, kube-apiserver, kube-controller-manager, pod runner.

Everything listens on loopback on ports the kernel picked free, and lives in one throw-away
working directory (certificates, etcd data, kubeconfig, logs, pods' scratch folders). A
`DevCluster` is plain data, saved as `state.json` in that directory, so another process (the CLI's
`down`) can stop a cluster it did not start.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import binaries, kubeconfig, nodeconfig, pki, realnode, sandbox
from .logs import log_tail, pod_log_path
from .processes import (
    StartupError,
    free_port,
    is_alive,
    launch,
    process_tree,
    stop_tree,
    wait_until,
)

NODE_NAME = "devcluster-node"
SERVICE_CIDR = "10.96.0.0/16"
#: The `kubernetes` Service's ClusterIP (first address of SERVICE_CIDR); never sent traffic.
KUBERNETES_SERVICE_IP = "10.96.0.1"
STATE_FILE = "state.json"
_HACK_DIR = Path(__file__).resolve().parent.parent
#: Controllers the project relies on; nodelifecycle and the cloud ones are left out on purpose.
CONTROLLERS = (
    "job",
    "cronjob",
    "deployment",
    "replicaset",
    "statefulset",
    "daemonset",
    "garbagecollector",
    "endpoint",
    "endpointslice",
    "endpointslicemirroring",
    "serviceaccount",
    "serviceaccount-token",
    "namespace",
    "ttl-after-finished",
    "horizontalpodautoscaling",
    "disruption",
    "resourcequota",
    "podgc",
    "root-ca-cert-publisher",
    "clusterrole-aggregation",
)


@dataclass
class DevCluster:
    """A running devcluster: where to reach it and where its files are.

    `kubeconfig` is an admin kubeconfig for the built kubectl, helm, the Python client and kopf;
    `log_dir` holds each component's log and each pod container's log (see `pod_log_path`).
    """

    workdir: Path
    kubeconfig: Path
    api_url: str
    log_dir: Path
    bin_dir: Path
    node_name: str
    pids: dict[str, int]
    api_ready_seconds: float = 0.0
    start_seconds: float = 0.0
    keep_workdir: bool = False
    #: "podrunner" (pods as local processes) or "kubelet" (a real node in a sandbox).
    node: str = "podrunner"
    #: The real node's sandbox (network namespace) name, "" for the pod runner.
    sandbox: str = ""
    #: Images imported into the real node: component -> reference.
    images: dict[str, str] = field(default_factory=dict)

    def pod_log_path(self, namespace: str, pod: str, container: str) -> Path:
        """The file holding a pod container's stdout and stderr."""
        return pod_log_path(self.log_dir, namespace, pod, container)

    def log_tail(self, namespace: str, pod: str, container: str, lines: int = 20) -> str:
        """The last lines of a pod container's log (what the operator shows for a failed Job)."""
        return log_tail(self.log_dir, namespace, pod, container, lines)

    def env(self) -> dict[str, str]:
        """os.environ pointed at this cluster: KUBECONFIG set, the built binaries first on PATH."""
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        return env

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run the built kubectl against this cluster and capture its output as text."""
        return subprocess.run(
            [str(self.bin_dir / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
            check=check,
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
        )

    def save(self) -> Path:
        """Write this handle to `<workdir>/state.json` and return that path."""
        data = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        path = self.workdir / STATE_FILE
        path.write_text(json.dumps(data, indent=2))
        return path

    @classmethod
    def load(cls, workdir: Path) -> DevCluster:
        """The handle saved in `workdir` by `save()`."""
        data = json.loads((workdir / STATE_FILE).read_text())
        for key in ("workdir", "kubeconfig", "log_dir", "bin_dir"):
            data[key] = Path(data[key])
        return cls(**data)

    def expose_host_port(self, name: str, namespace: str, port: int, host_port: int) -> str:
        """Make a service the harness runs on the host's loopback reachable from pods.

        Real node only. A forwarder on the host listens on the node's address inside the sandbox
        (see `forward.py`) and a selectorless Service `name` in `namespace` with an EndpointSlice
        points at it, so pods use `http://<name>.<namespace>.svc:<port>` as on a cluster where
        the service runs in-cluster. Returns that DNS name.
        """
        if self.node != "kubelet":
            raise ValueError("expose_host_port needs the real node (node='kubelet')")
        node_ip = nodeconfig.NodeNetwork().node_ip
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_HACK_DIR), env.get("PYTHONPATH")]))
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devcluster.forward",
                "--into",
                self.sandbox,
                "--listen",
                f"{node_ip}:{port}",
                "--to",
                f"127.0.0.1:{host_port}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=(self.log_dir / f"expose-{namespace}-{name}.log").open("ab"),
            env=env,
            start_new_session=True,
            text=True,
        )
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "listening":
            raise StartupError(
                f"forwarder for {namespace}/{name} did not start: see {self.log_dir}"
            )
        proc.stdout.close()
        self.pids[f"expose-{namespace}-{name}"] = proc.pid
        self.save()
        objects = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"ports": [{"name": "tcp", "port": port, "targetPort": port}]},
            },
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"{name}-host",
                    "namespace": namespace,
                    "labels": {"kubernetes.io/service-name": name},
                },
                "addressType": "IPv4",
                "ports": [{"name": "tcp", "port": port, "protocol": "TCP"}],
                "endpoints": [{"addresses": [node_ip], "conditions": {"ready": True}}],
            },
        ]
        self.kubectl(
            "apply",
            "-f",
            "-",
            input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
        )
        return f"{name}.{namespace}.svc"

    def alive(self) -> bool:
        """True when every component process is still running."""
        return all(process_tree([pid]) for pid in self.pids.values())


def _https_ok(url: str, p: pki.Pki) -> bool:
    context = ssl.create_default_context(cafile=str(p.ca_cert))
    context.load_cert_chain(str(p.admin_cert), str(p.admin_key))
    with urllib.request.urlopen(url, context=context, timeout=2) as response:
        return response.status == 200


def _start_etcd(workdir: Path, log_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    client_port, peer_port = free_port(), free_port()
    client_url, peer_url = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
    log_path = log_dir / "etcd.log"
    proc = launch(
        [
            binaries.binary("etcd"),
            "--name",
            "devcluster",
            "--data-dir",
            workdir / "etcd",
            "--listen-client-urls",
            client_url,
            "--advertise-client-urls",
            client_url,
            "--listen-peer-urls",
            peer_url,
            "--initial-advertise-peer-urls",
            peer_url,
            "--initial-cluster",
            f"devcluster={peer_url}",
            # Throw-away data: durability buys nothing and fsync dominates on slow disks.
            "--unsafe-no-fsync",
            "--log-level",
            "warn",
        ],
        log_path,
    )
    wait_until(
        lambda: urllib.request.urlopen(f"{client_url}/health", timeout=1).status == 200,
        "etcd",
        timeout=30,
        process=proc,
        log_path=log_path,
    )
    return proc, client_url


def _start_apiserver(
    p: pki.Pki, etcd_url: str, port: int, log_dir: Path
) -> subprocess.Popen[bytes]:
    log_path = log_dir / "kube-apiserver.log"
    proc = launch(
        [
            binaries.binary("kube-apiserver"),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--tls-cert-file={p.serving_cert}",
            f"--tls-private-key-file={p.serving_key}",
            f"--client-ca-file={p.ca_cert}",
            f"--service-account-key-file={p.service_account_pub}",
            f"--service-account-signing-key-file={p.service_account_key}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=RBAC",
            "--allow-privileged=true",
            "--profiling=false",
            "--v=1",
        ],
        log_path,
    )
    wait_until(
        lambda: _https_ok(f"https://127.0.0.1:{port}/readyz", p),
        "kube-apiserver",
        timeout=90,
        process=proc,
        log_path=log_path,
    )
    return proc


def _start_controller_manager(p: pki.Pki, config: Path, log_dir: Path) -> subprocess.Popen[bytes]:
    return launch(
        [
            binaries.binary("kube-controller-manager"),
            f"--kubeconfig={config}",
            f"--authentication-kubeconfig={config}",
            f"--authorization-kubeconfig={config}",
            "--bind-address=127.0.0.1",
            f"--secure-port={free_port()}",
            "--leader-elect=false",
            f"--controllers={','.join(CONTROLLERS)}",
            f"--service-account-private-key-file={p.service_account_key}",
            f"--root-ca-file={p.ca_cert}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--kube-api-qps=200",
            "--kube-api-burst=400",
            "--profiling=false",
            "--v=1",
        ],
        log_dir / "kube-controller-manager.log",
    )


def _start_pod_runner(
    config: Path, workdir: Path, log_dir: Path, api_port: int
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_HACK_DIR), env.get("PYTHONPATH")]))
    env.pop("KUBECONFIG", None)
    return launch(
        [
            sys.executable,
            "-m",
            "devcluster.podrunner",
            "--kubeconfig",
            config,
            "--node-name",
            NODE_NAME,
            "--log-dir",
            log_dir,
            "--pods-dir",
            workdir / "pods",
            # A random 127.N per cluster, so two clusters on one machine never share pod IPs.
            "--ip-prefix",
            f"127.{random.randint(64, 254)}",
            "--api-port",
            str(api_port),
        ],
        log_dir / "podrunner.log",
        env=env,
    )


def _wait_usable(
    cluster: DevCluster, procs: dict[str, subprocess.Popen[bytes]], timeout: float
) -> None:
    """Ready means: node Ready and the `default` ServiceAccount exists (pods can be created)."""
    from kubernetes import client

    from .kube import api_client, call_json

    api = api_client(cluster.kubeconfig, pool_size=2)
    core = client.CoreV1Api(api)

    def node_ready() -> bool:
        conditions = call_json(core.read_node, NODE_NAME)["status"].get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def default_service_account() -> bool:
        call_json(core.read_namespaced_service_account, "default", "default")
        return True

    try:
        for what, ready in (
            ("node Ready", node_ready),
            ("default ServiceAccount", default_service_account),
        ):
            name = cluster.node if what == "node Ready" else "kube-controller-manager"
            wait_until(
                ready,
                what,
                timeout=timeout,
                process=procs[name],
                log_path=cluster.log_dir / f"{name}.log",
            )
    finally:
        api.close()


def start(
    workdir: Path | None = None,
    keep_workdir: bool = False,
    timeout: float = 90,
    node: str = "podrunner",
    images: tuple[str, ...] = (),
) -> DevCluster:
    """Start a devcluster and return once pods can run on it.

    `workdir` is created if needed (default: a new temporary folder); it is removed by `stop()`
    unless `keep_workdir`. On any failure everything started so far is stopped again.
    `node="kubelet"` gives a real node (see `realnode.py`) with `images` (Dockerfile targets, built
    by hack/build-images.sh when not cached) imported before it reports Ready.
    """
    if node == "kubelet":
        return _start_real(workdir, keep_workdir, timeout, images)
    if node != "podrunner":
        raise ValueError(f"node must be 'podrunner' or 'kubelet', not {node!r}")
    t0 = time.monotonic()
    workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="fraudops-devcluster-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log_dir = workdir / "logs"
    log_dir.mkdir(exist_ok=True)
    api_port = free_port()
    cluster = DevCluster(
        workdir=workdir,
        kubeconfig=workdir / "kubeconfig",
        api_url=f"https://127.0.0.1:{api_port}",
        log_dir=log_dir,
        bin_dir=binaries.bin_dir(),
        node_name=NODE_NAME,
        pids={},
        keep_workdir=keep_workdir,
    )
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        credentials = pki.generate(workdir / "pki", KUBERNETES_SERVICE_IP)
        procs["etcd"], etcd_url = _start_etcd(workdir, log_dir)
        cluster.pids["etcd"] = procs["etcd"].pid
        procs["kube-apiserver"] = _start_apiserver(credentials, etcd_url, api_port, log_dir)
        cluster.pids["kube-apiserver"] = procs["kube-apiserver"].pid
        cluster.api_ready_seconds = round(time.monotonic() - t0, 2)
        kubeconfig.write(cluster.kubeconfig, cluster.api_url, credentials)
        procs["kube-controller-manager"] = _start_controller_manager(
            credentials, cluster.kubeconfig, log_dir
        )
        cluster.pids["kube-controller-manager"] = procs["kube-controller-manager"].pid
        procs["podrunner"] = _start_pod_runner(cluster.kubeconfig, workdir, log_dir, api_port)
        cluster.pids["podrunner"] = procs["podrunner"].pid
        cluster.save()
        _wait_usable(cluster, procs, timeout)
    except BaseException:
        stop(cluster)
        raise
    cluster.start_seconds = round(time.monotonic() - t0, 2)
    cluster.save()
    return cluster


def _start_real(
    workdir: Path | None, keep_workdir: bool, timeout: float, images: tuple[str, ...]
) -> DevCluster:
    t0 = time.monotonic()
    workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="fraudops-devcluster-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log_dir = workdir / "logs"
    log_dir.mkdir(exist_ok=True)
    door = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    door.bind(("127.0.0.1", 0))
    door.listen(128)
    api_url = f"https://127.0.0.1:{door.getsockname()[1]}"
    real = realnode.RealNode(workdir, NODE_NAME, KUBERNETES_SERVICE_IP, SERVICE_CIDR)
    cluster = DevCluster(
        workdir=workdir,
        kubeconfig=workdir / "kubeconfig",
        api_url=api_url,
        log_dir=log_dir,
        bin_dir=binaries.bin_dir(),
        node_name=NODE_NAME,
        pids={},
        keep_workdir=keep_workdir,
        node="kubelet",
        sandbox=real.name,
    )
    try:
        manifest = realnode.image_manifest(workdir, ("pause", *images))
        cluster.images = {component: ref for component, ref, _ in manifest}
        real.create_sandbox()
        cluster.save()
        real.start_etcd()
        real.start_apiserver()
        cluster.api_ready_seconds = round(time.monotonic() - t0, 2)
        real.start_forwarder(door)
        assert real.credentials is not None
        kubeconfig.write(cluster.kubeconfig, api_url, real.credentials)
        real.start_controller_manager((*CONTROLLERS, "nodelifecycle"))
        real.start_scheduler()
        real.start_containerd()
        real.import_images([archive for _, _, archive in manifest])
        real.start_kubelet()
        real.start_kube_proxy()
        cluster.pids.update({name: proc.pid for name, proc in real.procs.items()})
        cluster.save()
        _wait_usable(cluster, real.procs, timeout)
        real.start_addons(cluster.kubectl, cluster.images, timeout)
    except BaseException:
        cluster.pids.update({name: proc.pid for name, proc in real.procs.items()})
        stop(cluster)
        raise
    finally:
        door.close()
    cluster.start_seconds = round(time.monotonic() - t0, 2)
    cluster.save()
    return cluster


def stop(cluster: DevCluster, keep_workdir: bool | None = None) -> None:
    """Stop every process of `cluster` (pods first, etcd last) and remove its working directory.

    Raises `StartupError` naming the survivors if any process of the cluster is still alive
    afterwards: a leaked process would hold ports and files for the rest of the machine's life.
    """
    order = (
        "podrunner",
        "kube-proxy",
        "kubelet",
        "containerd",
        "kube-scheduler",
        "kube-controller-manager",
        "forward",
        "kube-apiserver",
        "etcd",
    )
    everything = process_tree(cluster.pids.values())
    names = [n for n in order if n in cluster.pids]
    names += [n for n in cluster.pids if n not in order]
    for name in names:
        stop_tree(cluster.pids[name], grace=15 if name == "podrunner" else 10)
    if cluster.sandbox:
        # Pods' processes, containerd's shims and the mount namespace's holder live on in the
        # sandbox after their parents stop: removing the sandbox ends them all.
        sandbox.destroy(cluster.sandbox)
    survivors = [p for p in everything if is_alive(p)]
    keep = cluster.keep_workdir if keep_workdir is None else keep_workdir
    if not keep:
        shutil.rmtree(cluster.workdir, ignore_errors=True)
    if survivors:
        raise StartupError(f"devcluster processes survived stop(): {survivors}")
