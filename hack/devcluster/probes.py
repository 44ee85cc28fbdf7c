"""httpGet probes, run against the pod's loopback IP the way the kubelet runs them.

Only `httpGet` is supported (`exec`, `tcpSocket` and `grpc` probes count as passing, so a pod
using them still becomes Ready); the timing fields keep the kubelet's defaults and meaning.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def _port(value: int | str, ports: Sequence[Mapping[str, Any]]) -> int:
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    for port in ports:
        if port.get("name") == value:
            return int(port["containerPort"])
    raise ValueError(f"no container port named {value!r}")


def http_get(
    spec: Mapping[str, Any], pod_ip: str, ports: Sequence[Mapping[str, Any]], timeout: float
) -> bool:
    """One httpGet probe: success is a 2xx/3xx answer within `timeout`, as for the kubelet."""
    host = spec.get("host") or pod_ip
    headers = {h["name"]: h["value"] for h in spec.get("httpHeaders") or []}
    conn_class = (
        http.client.HTTPSConnection if spec.get("scheme") == "HTTPS" else http.client.HTTPConnection
    )
    try:
        conn = conn_class(host, _port(spec["port"], ports), timeout=timeout)
        try:
            conn.request("GET", spec.get("path") or "/", headers=headers)
            return 200 <= conn.getresponse().status < 400
        finally:
            conn.close()
    except (OSError, ValueError, http.client.HTTPException):
        return False


@dataclass
class Prober:
    """One probe of one container: decides when to probe and keeps the success/failure streaks."""

    spec: Mapping[str, Any]
    started_at: float
    successes: int = 0
    failures: int = 0
    next_at: float = field(init=False)

    def __post_init__(self) -> None:
        self.next_at = self.started_at + self.spec.get("initialDelaySeconds", 0)

    @property
    def succeeded(self) -> bool:
        return self.successes >= self.spec.get("successThreshold", 1)

    @property
    def failed(self) -> bool:
        return self.failures >= self.spec.get("failureThreshold", 3)

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def run(self, pod_ip: str, ports: Sequence[Mapping[str, Any]]) -> None:
        """Probe now (call when `due`) and update the streaks."""
        self.next_at = time.monotonic() + self.spec.get("periodSeconds", 10)
        if "httpGet" not in self.spec:
            ok = True
        else:
            ok = http_get(self.spec["httpGet"], pod_ip, ports, self.spec.get("timeoutSeconds", 1))
        if ok:
            self.successes, self.failures = self.successes + 1, 0
        else:
            self.successes, self.failures = 0, self.failures + 1
