"""Bringing a new champion to running serving pods without dropping a request.

Each ready pod is asked which version it serves (``GET /model``); a pod on another version is asked
to ``POST /reload`` the champion, which it loads beside the old model and swaps in atomically. New
pods load the champion alias at start, so scale-ups and restarts need nothing from here. A KServe
canary is judged on what its pods measured of their requests (``GET /metrics``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from fraud_operator.canary import RequestStats, parse_stats
from fraud_operator.naming import SERVING_PORT
from fraud_operator.observed import Serving, pods_not_starting, serving_ip

PROBE_TIMEOUT = httpx.Timeout(5.0)
RELOAD_TIMEOUT = httpx.Timeout(120.0, connect=5.0)


async def _served_version(http: httpx.AsyncClient, ip: str) -> str | None:
    try:
        answer = await http.get(f"http://{ip}:{SERVING_PORT}/model", timeout=PROBE_TIMEOUT)
        answer.raise_for_status()
    except httpx.HTTPError:
        return None
    version = answer.json().get("version")
    return None if version is None else str(version)


async def _reload(http: httpx.AsyncClient, ip: str, version: str, token: str) -> str | None:
    try:
        answer = await http.post(
            f"http://{ip}:{SERVING_PORT}/reload",
            json={"version": version},
            headers={"Authorization": f"Bearer {token}"},
            timeout=RELOAD_TIMEOUT,
        )
        answer.raise_for_status()
    except httpx.HTTPError:
        return None
    return str(answer.json().get("version"))


async def converge(
    pods: Sequence[Mapping[str, Any]], wanted_pods: int, champion: str, token: str | None
) -> Serving:
    """Ask every ready pod not on ``champion`` to reload it (without a ``token``, pods whose spec
    pins their version, none is); report what each pod serves."""
    ready_ips = [ip for p in pods if (ip := serving_ip(p))]
    async with httpx.AsyncClient() as http:
        versions = await asyncio.gather(*(_served_version(http, ip) for ip in ready_ips))
        current = dict(zip(ready_ips, versions, strict=True))
        if token is not None:
            stale = [ip for ip, v in current.items() if v != champion]
            reloaded = await asyncio.gather(*(_reload(http, ip, champion, token) for ip in stale))
            current.update(zip(stale, reloaded, strict=True))
    return Serving(
        ready_pods=len(ready_ips),
        wanted_pods=wanted_pods,
        pod_versions=current,
        not_starting=pods_not_starting(pods),
    )


async def _stats(http: httpx.AsyncClient, ip: str) -> RequestStats | None:
    try:
        answer = await http.get(f"http://{ip}:{SERVING_PORT}/metrics", timeout=PROBE_TIMEOUT)
        answer.raise_for_status()
        return parse_stats(answer.text)
    except (httpx.HTTPError, ValueError):
        return None


async def scrape(ips: Sequence[str]) -> dict[str, RequestStats | None]:
    """The scoring requests each pod answered since it started, read from its ``/metrics``."""
    async with httpx.AsyncClient() as http:
        found = await asyncio.gather(*(_stats(http, ip) for ip in ips))
    return dict(zip(ips, found, strict=True))
