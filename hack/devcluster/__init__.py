"""FraudOps devcluster: a real Kubernetes control plane as local processes, for tests and demos.

    cluster = devcluster.start()      # etcd, kube-apiserver, kube-controller-manager, pod runner
    cluster.kubeconfig                # admin kubeconfig for kubectl, helm, kubernetes client, kopf
    cluster.pod_log_path("ns", "pod", "container")
    devcluster.stop(cluster)          # leaves no process behind

The binaries are built once per machine by `make devcluster-bin` (see hack/build-devcluster.sh);
pods run as local processes on the node `devcluster-node` (see `devcluster.podrunner`).
"""

from .binaries import MissingBinaryError, bin_dir
from .cluster import NODE_NAME, DevCluster, start, stop
from .logs import log_tail, pod_log_path
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
    "log_tail",
    "pod_log_path",
    "start",
    "stop",
]
