"""A container's environment, resolved the way the kubelet resolves it.

Supports literal `value` (with `$(VAR)` references to earlier variables), `valueFrom`
`secretKeyRef` / `configMapKeyRef` / `fieldRef`, and `envFrom` `configMapRef` / `secretRef`
(with `prefix`). What cannot be resolved raises `ContainerConfigError`, which the pod runner
reports as the kubelet does: the container waits with reason `CreateContainerConfigError`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

Pod = dict[str, Any]
#: Reads a Secret's or ConfigMap's `data` as text: (kind, namespace, name) -> data or None.
DataReader = Callable[[str, str, str], Mapping[str, str] | None]

_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


class ContainerConfigError(ValueError):
    """The container's environment cannot be built (missing Secret/ConfigMap/key, bad field)."""


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion: known names are replaced, unknown ones kept, `$$` -> `$`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _REFERENCE.sub(replace, text)


def _field(pod: Pod, path: str) -> str:
    meta, spec, status = pod["metadata"], pod["spec"], pod.get("status") or {}
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.podIP": status.get("podIP"),
        "status.hostIP": status.get("hostIP"),
        "status.podIPs": ",".join(ip["ip"] for ip in status.get("podIPs") or []),
        "status.hostIPs": ",".join(ip["ip"] for ip in status.get("hostIPs") or []),
    }
    if path in simple:
        return simple[path] or ""
    keyed = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if keyed:
        return (meta.get(keyed.group(1)) or {}).get(keyed.group(2), "")
    raise ContainerConfigError(f"unsupported fieldRef {path!r}")


def _ref_value(kind: str, ref: Mapping[str, Any], namespace: str, read: DataReader) -> str | None:
    data = read(kind, namespace, ref["name"])
    optional = bool(ref.get("optional"))
    if data is None:
        if optional:
            return None
        raise ContainerConfigError(f"{kind} {ref['name']!r} not found")
    if ref["key"] not in data:
        if optional:
            return None
        raise ContainerConfigError(
            f"couldn't find key {ref['key']} in {kind} {namespace}/{ref['name']}"
        )
    return data[ref["key"]]


def container_env(pod: Pod, container: Mapping[str, Any], read: DataReader) -> dict[str, str]:
    """The variables the pod spec gives `container`, in the kubelet's order (envFrom, then env)."""
    namespace = pod["metadata"]["namespace"]
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            ref = source.get(key)
            if ref is None:
                continue
            data = read(kind, namespace, ref["name"])
            if data is None:
                if ref.get("optional"):
                    continue
                raise ContainerConfigError(f"{kind} {ref['name']!r} not found")
            env.update({prefix + k: v for k, v in data.items()})
    for var in container.get("env") or []:
        name, source = var["name"], var.get("valueFrom")
        if source is None:
            env[name] = expand(var.get("value", ""), env)
        elif "fieldRef" in source:
            env[name] = _field(pod, source["fieldRef"]["fieldPath"])
        elif "secretKeyRef" in source:
            value = _ref_value("Secret", source["secretKeyRef"], namespace, read)
            if value is not None:
                env[name] = value
        elif "configMapKeyRef" in source:
            value = _ref_value("ConfigMap", source["configMapKeyRef"], namespace, read)
            if value is not None:
                env[name] = value
        else:
            raise ContainerConfigError(f"env {name}: unsupported valueFrom {sorted(source)}")
    return env


def decode_secret_data(data: Mapping[str, str] | None) -> dict[str, str]:
    """A Secret's base64 `data` as text, as a process sees it in its environment."""
    return {k: base64.b64decode(v).decode(errors="replace") for k, v in (data or {}).items()}
