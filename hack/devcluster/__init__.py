"""FraudOps devcluster: a Kubernetes cluster of one real node on this machine, for tests and demos.

    cluster = devcluster.start()      # control plane, kubelet on containerd, DNS, metrics-server
    cluster.kubeconfig                # admin kubeconfig for kubectl, helm and the Python client
    cluster.service_url("svc", "ns", 8080)   # a host URL that reaches a Service by its DNS name
    devcluster.stop(cluster)          # leaves no process, mount, bridge or cgroup behind

The binaries are built once per machine by `make devcluster-bin` and `make devcluster-node-bin`,
the images by `make images` (see README.md here).
"""

from .binaries import MissingBinaryError, bin_dir
from .cluster import NODE_NAME, DevCluster, start, stop
from .processes import StartupError
from .versions import HELM_VERSION, K8S_VERSION

__all__ = [
    "HELM_VERSION",
    "K8S_VERSION",
    "NODE_NAME",
    "DevCluster",
    "MissingBinaryError",
    "StartupError",
    "bin_dir",
    "start",
    "stop",
]
