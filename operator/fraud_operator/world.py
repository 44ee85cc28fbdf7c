"""What a reconcile talks to: the cluster, the registry of a tracking URI, the serving pods.

Protocols and callables only, so the reconciler runs against the real API server, MLflow and pods
(:mod:`fraud_operator.main`) or against in-memory fakes (the unit tests) alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fraud_operator.canary import RequestStats
from fraud_operator.observed import Serving
from fraud_operator.registry import RegistryAPI


class ClusterAPI(Protocol):
    """The cluster calls the reconciler makes (:class:`fraud_operator.cluster.Cluster`, or an
    in-memory fake in tests)."""

    async def apply(self, body: Mapping[str, Any]) -> dict[str, Any]: ...

    async def create_if_absent(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]: ...

    async def get(
        self, api_version: str, kind: str, namespace: str, name: str
    ) -> dict[str, Any] | None: ...

    async def list(
        self, api_version: str, kind: str, namespace: str, labels: Mapping[str, str]
    ) -> list[dict[str, Any]]: ...

    async def delete(self, api_version: str, kind: str, namespace: str, name: str) -> None: ...


#: Serving pods, the replicas wanted, the champion and the admin token: what the pods serve once
#: each ready pod on another version was asked to reload the champion (no token: only asked).
Converge = Callable[[Sequence[Mapping[str, Any]], int, str, str | None], Awaitable[Serving]]
#: Pod IPs → the scoring requests each pod answered (None: its /metrics did not answer).
Scrape = Callable[[Sequence[str]], Awaitable[dict[str, RequestStats | None]]]


@dataclass(frozen=True)
class World:
    """What a reconcile talks to: the cluster, the registry of a tracking URI, the serving pods
    (to converge them on a version, and to read what they measured of their requests)."""

    cluster: ClusterAPI
    registry: Callable[[str], RegistryAPI]
    converge: Converge
    scrape: Scrape
