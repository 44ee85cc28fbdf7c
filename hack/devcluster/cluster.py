"""Start and stop one devcluster: a control plane and one real node (kubelet on containerd).

Every component runs inside the cluster's own sandbox (network and mount namespaces, see
`sandbox.py` and `realnode.py`); the host reaches the API server through a forwarder on a free
127.0.0.1 port. Everything lives in one throw-away working directory (certificates, etcd data,
the node's containerd, kubeconfig, logs). A `DevCluster` is plain data, saved as `state.json` in
that directory, so another process (the CLI's `down`) can stop a cluster it did not start.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import binaries, kubeconfig, nodeconfig, realnode, sandbox
from .processes import StartupError, is_alive, process_tree, stop_tree, wait_until

NODE_NAME = "devcluster-node"
SERVICE_CIDR = "10.96.0.0/16"
#: The `kubernetes` Service's ClusterIP (first address of SERVICE_CIDR); never sent traffic.
KUBERNETES_SERVICE_IP = "10.96.0.1"
STATE_FILE = "state.json"
#: The bundled services' images (charts/fraudops/values-devcluster.yaml), from Debian's packages
#: and SeaweedFS's Go module: what `operator_install.install_platform` runs.
SERVICE_IMAGES = ("postgresql", "redis", "prometheus", "seaweedfs")
#: What a devcluster runs by default: the project's images, the node's add-ons (cluster DNS, the
#: metrics API the HPA reads), the bundled services and KServe's controller (`kserve.install`).
DEFAULT_IMAGES = (
    "operator",
    "training",
    "serving",
    "coredns",
    "metrics-server",
    *SERVICE_IMAGES,
    "kserve",
)
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
    # Claims of the chart's StatefulSets bind to the harness's volumes (volumes.py); the
    # protection controllers remove the finalizers that keep a claim or volume in use.
    "persistentvolume-binder",
    "pvc-protection",
    "pv-protection",
)


def _forwarder_env() -> dict[str, str]:
    """os.environ with this package importable, for `python -m devcluster.forward`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_HACK_DIR), env.get("PYTHONPATH")]))
    return env


@dataclass
class DevCluster:
    """A running devcluster: where to reach it and where its files are.

    `kubeconfig` is an admin kubeconfig for the built kubectl, helm and the Python client;
    `log_dir` holds each component's log (pods' logs are the kubelet's: `kubectl logs`).
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
    #: The sandbox (network namespace) every component and pod runs in.
    sandbox: str = ""
    #: Images imported into the real node: component -> reference.
    images: dict[str, str] = field(default_factory=dict)
    #: Host URLs of Services made reachable by `service_url`: "<ns>/<name>:<port>" -> URL.
    service_urls: dict[str, str] = field(default_factory=dict)

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

        A forwarder on the host listens on the node's address inside the sandbox
        (see `forward.py`) and a selectorless Service `name` in `namespace` with an EndpointSlice
        points at it, so pods use `http://<name>.<namespace>.svc:<port>` as on a cluster where
        the service runs in-cluster. Returns that DNS name.
        """
        node_ip = nodeconfig.NodeNetwork().node_ip
        env = _forwarder_env()
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

    def service_url(self, name: str, namespace: str, port: int) -> str:
        """A URL on the host's loopback that reaches Service `name` by its cluster DNS name.

        A forwarder inside the sandbox's network namespace accepts on a host port (the socket is
        made on the host and handed over) and, per connection, asks the cluster's DNS for
        `<name>.<namespace>.svc.cluster.local` and connects to the ClusterIP it gets, through
        kube-proxy's rules to one ready endpoint: a test's request travels as a pod's would.
        """
        known = self.service_urls.get(f"{namespace}/{name}:{port}")
        key = f"service-{namespace}-{name}-{port}"
        if known and key in self.pids and process_tree([self.pids[key]]):
            return known
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        host_port = listener.getsockname()[1]
        env = _forwarder_env()
        proc = subprocess.Popen(
            [
                "nsenter",
                f"--net=/run/netns/{self.sandbox}",
                "--",
                sys.executable,
                "-m",
                "devcluster.forward",
                "--fd",
                str(listener.fileno()),
                "--to",
                f"{name}.{namespace}.svc.cluster.local:{port}",
                "--dns",
                nodeconfig.NodeNetwork().cluster_dns,
            ],
            pass_fds=(listener.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=(self.log_dir / f"{key}.log").open("ab"),
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        listener.close()
        self.pids[key] = proc.pid
        url = self.service_urls[f"{namespace}/{name}:{port}"] = f"http://127.0.0.1:{host_port}"
        self.save()
        return url

    def alive(self) -> bool:
        """True when every component process is still running."""
        return all(process_tree([pid]) for pid in self.pids.values())


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
            name = "kubelet" if what == "node Ready" else "kube-controller-manager"
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
    timeout: float = 180,
    images: tuple[str, ...] = DEFAULT_IMAGES,
) -> DevCluster:
    """Start a devcluster and return once pods can run on it and its add-ons answer.

    `workdir` is created if needed (default: a new temporary folder); it is removed by `stop()`
    unless `keep_workdir`. `images` are Dockerfile targets and add-ons, built by
    hack/build-images.sh when not cached and imported into the node's containerd before the
    kubelet starts (nothing is ever pulled). On any failure everything started so far is stopped.
    """
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
        stop_tree(cluster.pids[name], grace=10)
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
