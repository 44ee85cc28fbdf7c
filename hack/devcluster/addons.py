"""The real node's add-ons as kind installs them: CoreDNS and metrics-server, as manifests.

Pure functions, image reference in, list of Kubernetes objects out; `realnode` applies them once
the node is Ready. Both run as ordinary pods from images built here (FROM scratch plus the binary,
see hack/build-images.sh), non-root with a read-only root filesystem. CoreDNS listens on 1053
(the kube-dns Service maps 53 to it), so it needs no NET_BIND_SERVICE capability.
"""

from __future__ import annotations

from typing import Any

Manifest = dict[str, Any]

COREFILE = """.:1053 {
    errors
    health {
        lameduck 2s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    cache 30
    loadbalance
}
"""

_RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _meta(name: str, namespace: str | None = "kube-system", **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    return meta


def coredns(image: str, cluster_dns_ip: str) -> list[Manifest]:
    """Cluster DNS: the `kube-dns` Service on `cluster_dns_ip` (the kubelet's clusterDNS)."""
    labels = {"k8s-app": "kube-dns"}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("coredns")},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta("system:coredns", None),
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["endpoints", "services", "pods", "namespaces"],
                    "verbs": ["list", "watch"],
                },
                {
                    "apiGroups": ["discovery.k8s.io"],
                    "resources": ["endpointslices"],
                    "verbs": ["list", "watch"],
                },
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta("system:coredns", None),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "system:coredns",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}],
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("coredns"),
            "data": {"Corefile": COREFILE},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta("coredns", **labels),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": "coredns",
                        "dnsPolicy": "Default",
                        "priorityClassName": "system-cluster-critical",
                        "containers": [
                            {
                                "name": "coredns",
                                "image": image,
                                "imagePullPolicy": "Never",
                                "args": ["-conf", "/etc/coredns/Corefile"],
                                "ports": [
                                    {"name": "dns", "containerPort": 1053, "protocol": "UDP"},
                                    {"name": "dns-tcp", "containerPort": 1053, "protocol": "TCP"},
                                ],
                                "readinessProbe": {
                                    "httpGet": {"path": "/ready", "port": 8181},
                                    "periodSeconds": 2,
                                },
                                "livenessProbe": {
                                    "httpGet": {"path": "/health", "port": 8080},
                                    "initialDelaySeconds": 10,
                                },
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "32Mi"},
                                    "limits": {"memory": "128Mi"},
                                },
                                "securityContext": _RESTRICTED,
                                "volumeMounts": [
                                    {
                                        "name": "config",
                                        "mountPath": "/etc/coredns",
                                        "readOnly": True,
                                    }
                                ],
                            }
                        ],
                        "volumes": [{"name": "config", "configMap": {"name": "coredns"}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("kube-dns", **labels),
            "spec": {
                "clusterIP": cluster_dns_ip,
                "selector": labels,
                "ports": [
                    {"name": "dns", "port": 53, "targetPort": 1053, "protocol": "UDP"},
                    {"name": "dns-tcp", "port": 53, "targetPort": 1053, "protocol": "TCP"},
                ],
            },
        },
    ]


def metrics_server(image: str) -> list[Manifest]:
    """The resource metrics API (`kubectl top`, HPAs), reading each kubelet's /metrics/resource
    and checking the kubelet's certificate against the cluster CA (no --kubelet-insecure-tls)."""
    labels = {"k8s-app": "metrics-server"}
    binding = "rbac.authorization.k8s.io"
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("metrics-server")},
        {
            "apiVersion": f"{binding}/v1",
            "kind": "ClusterRole",
            "metadata": _meta("system:metrics-server", None),
            "rules": [
                {"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
                {
                    "apiGroups": [""],
                    "resources": ["pods", "nodes"],
                    "verbs": ["get", "list", "watch"],
                },
            ],
        },
        {
            "apiVersion": f"{binding}/v1",
            "kind": "ClusterRole",
            "metadata": _meta(
                "system:aggregated-metrics-reader",
                None,
                **{
                    "rbac.authorization.k8s.io/aggregate-to-admin": "true",
                    "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                    "rbac.authorization.k8s.io/aggregate-to-view": "true",
                },
            ),
            "rules": [
                {
                    "apiGroups": ["metrics.k8s.io"],
                    "resources": ["pods", "nodes"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        },
        _sa_binding("ClusterRoleBinding", "system:metrics-server", "system:metrics-server"),
        _sa_binding(
            "ClusterRoleBinding", "metrics-server:system:auth-delegator", "system:auth-delegator"
        ),
        {
            **_sa_binding(
                "RoleBinding",
                "metrics-server-auth-reader",
                "extension-apiserver-authentication-reader",
            ),
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta("metrics-server", **labels),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": "metrics-server",
                        "priorityClassName": "system-cluster-critical",
                        "containers": [
                            {
                                "name": "metrics-server",
                                "image": image,
                                "imagePullPolicy": "Never",
                                "args": [
                                    "--cert-dir=/tmp",
                                    "--secure-port=10250",
                                    "--kubelet-preferred-address-types=InternalIP",
                                    "--kubelet-use-node-status-port",
                                    "--kubelet-certificate-authority=/etc/cluster-ca/ca.crt",
                                    "--metric-resolution=15s",
                                ],
                                "ports": [{"name": "https", "containerPort": 10250}],
                                "readinessProbe": {
                                    "httpGet": {
                                        "path": "/readyz",
                                        "port": 10250,
                                        "scheme": "HTTPS",
                                    },
                                    "periodSeconds": 5,
                                },
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "64Mi"},
                                    "limits": {"memory": "256Mi"},
                                },
                                "securityContext": _RESTRICTED,
                                "volumeMounts": [
                                    {"name": "tmp", "mountPath": "/tmp"},
                                    {"name": "cluster-ca", "mountPath": "/etc/cluster-ca"},
                                ],
                            }
                        ],
                        "volumes": [
                            {"name": "tmp", "emptyDir": {}},
                            {"name": "cluster-ca", "configMap": {"name": "kube-root-ca.crt"}},
                        ],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("metrics-server", **labels),
            "spec": {
                "selector": labels,
                "ports": [{"name": "https", "port": 443, "targetPort": "https"}],
            },
        },
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": _meta("v1beta1.metrics.k8s.io", None, **labels),
            "spec": {
                "service": {"name": "metrics-server", "namespace": "kube-system"},
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                # metrics-server serves a self-signed certificate, as in its upstream manifest.
                "insecureSkipTLSVerify": True,
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
            },
        },
    ]


def _sa_binding(kind: str, name: str, role: str) -> Manifest:
    role_kind = "Role" if kind == "RoleBinding" else "ClusterRole"
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": _meta(name, "kube-system" if kind == "RoleBinding" else None),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [
            {"kind": "ServiceAccount", "name": "metrics-server", "namespace": "kube-system"}
        ],
    }
