"""Configuration files of the real node's components, as pure functions (settings in, text out).

Each choice that differs from a kind node's defaults is explained where it is made; everything
else is upstream's default. Paths are those the components see inside the sandbox (see
`sandbox.py`), where `/var/lib/kubelet`, `/run/containerd` and friends are private to the cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
CNI_BIN_DIR = "/usr/lib/cni"


@dataclass(frozen=True)
class NodeNetwork:
    """The node's addresses: the bridge carries the node IP and is every pod's gateway."""

    node_ip: str = "10.244.0.1"
    pod_cidr: str = "10.244.0.0/24"
    service_cidr: str = "10.96.0.0/16"
    cluster_dns: str = "10.96.0.10"
    bridge: str = "fraudops0"

    @property
    def prefix_len(self) -> int:
        return int(self.pod_cidr.split("/")[1])


def containerd_config(root: Path, state: Path, cni_conf_dir: Path, sandbox_image: str) -> str:
    """containerd 1.6's config (version 2 schema) for a kubelet on cgroup v1 with cgroupfs.

    `restrict_oom_score_adj`: root here lacks CAP_SYS_RESOURCE, so without it runc fails every
    sandbox trying to lower oom_score_adj. The sandbox image is imported, never pulled.
    """
    return f"""version = 2
root = "{root}"
state = "{state}"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "{CONTAINERD_SOCKET}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    discard_unpacked_layers = true
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{cni_conf_dir}"
"""


def cni_conflist(network: NodeNetwork) -> str:
    """Pod networking as kind's kindnet gives it: one bridge, host-local addresses, a default route
    through the node. `hairpinMode` lets a pod reach itself through its own Service."""
    gateway = network.node_ip
    config = {
        "cniVersion": "1.0.0",
        "name": "fraudops",
        "plugins": [
            {
                "type": "bridge",
                "bridge": network.bridge,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": network.pod_cidr, "gateway": gateway}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(config, indent=2)


def kubelet_config(
    network: NodeNetwork,
    ca_cert: Path,
    tls_cert: Path,
    tls_key: Path,
    cgroup_root: str,
    resolv_conf: Path,
) -> str:
    """KubeletConfiguration for a node on this machine's cgroup v1 hybrid hierarchy.

    cgroupfs driver (no systemd here), cgroup v1 allowed, swap tolerated, iptables chains left to
    kube-proxy; `cgroupRoot` puts every pod cgroup under one folder the tear-down removes. Webhook
    authentication and authorization as on kind, so `kubectl logs`/`exec` and metrics-server go
    through the API server's RBAC. Eviction thresholds are low because the disk and memory are
    shared with other work on this machine: the node should not evict on their account.
    """
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": network.node_ip,
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca_cert)},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(tls_cert),
        "tlsPrivateKeyFile": str(tls_key),
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": cgroup_root,
        "failCgroupV1": False,
        "failSwapOn": False,
        "makeIPTablesUtilChains": False,
        "containerRuntimeEndpoint": f"unix://{CONTAINERD_SOCKET}",
        "clusterDNS": [network.cluster_dns],
        "clusterDomain": "cluster.local",
        "resolvConf": str(resolv_conf),
        "maxPods": 110,
        "serializeImagePulls": False,
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
        },
        "nodeStatusReportFrequency": "10s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "10s",
        "shutdownGracePeriod": "0s",
        "enableControllerAttachDetach": True,
        "localStorageCapacityIsolation": True,
    }
    return yaml.safe_dump(config, sort_keys=False)


def kube_proxy_config(network: NodeNetwork, kubeconfig: Path, node_name: str) -> str:
    """kube-proxy in iptables mode, as on kind. Conntrack sizing is left to the host (those
    sysctls are the machine's, not the sandbox's)."""
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "hostnameOverride": node_name,
        "clusterCIDR": network.pod_cidr,
        "bindAddress": "0.0.0.0",
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
        "iptables": {"masqueradeAll": False, "syncPeriod": "5s", "minSyncPeriod": "0s"},
    }
    return yaml.safe_dump(config, sort_keys=False)
