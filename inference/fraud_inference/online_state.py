"""Per-customer online feature state in Redis: the service's copy of ``CustomerHistory``.

One Lua script per transaction reads the aggregates the transaction sees and then records it, so
concurrent requests for the same customer cannot interleave a read and a write. A batch sends its
scripts in one pipeline, in the order of the batch. Keys carry a TTL, so customers who stop
transacting age out. Keys carry the served model's name, so two models served from one Redis keep
separate state, and an update carries the transaction id: a retried request (or a replayed
stream) returns the reply of the first and changes nothing. When Redis is unreachable the caller
gets ``None`` and scores degraded; a circuit breaker keeps a dead Redis from costing every
request a timeout.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import redis.asyncio as aioredis
from fraud_training.features import AGGREGATE_FIELDS, MAX_WINDOW_MS, WINDOWS_MS
from redis.exceptions import RedisError

from fraud_inference.circuit_breaker import CircuitBreaker

log = logging.getLogger(__name__)

KEY_PREFIX = "fraudops"
DEFAULT_NAMESPACE = "default"
BREAKER_COOLDOWN_S = 2.0
SCRIPT = files("fraud_inference").joinpath("online_state.lua").read_text()
_OPTIONAL_FLOATS = {"prev_ts_ms", "prev_lat", "prev_lon"}


@dataclass(frozen=True)
class Observation:
    """What the online state needs of one transaction."""

    customer_id: str
    transaction_id: str
    ts_ms: int
    cents: int
    merchant_id: str
    device_id: str
    lat: float
    lon: float


def customer_keys(customer_id: str, namespace: str = DEFAULT_NAMESPACE) -> list[str]:
    """State, window, merchants, devices, seen-ids and replies keys of one customer of one
    model; the ``{}`` hash tag keeps them in one cluster slot."""
    base = f"{KEY_PREFIX}:{namespace}:customer:{{{customer_id}}}"
    return [
        f"{base}:{part}" for part in ("state", "window", "merchants", "devices", "seen", "replies")
    ]


class OnlineState:
    """Reads and updates customer histories in Redis, degrading to ``None`` when it is down."""

    def __init__(
        self, url: str, timeout_s: float, ttl_days: int, namespace: str = DEFAULT_NAMESPACE
    ) -> None:
        self._client = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry_on_timeout=False,
            health_check_interval=0,
        )
        self._script = self._client.register_script(SCRIPT)
        self._ttl_s = str(ttl_days * 86_400)
        self._namespace = namespace
        self._windows = [str(width) for width in WINDOWS_MS.values()]
        self.breaker = CircuitBreaker(BREAKER_COOLDOWN_S)

    async def observe(self, rows: Sequence[Observation]) -> dict[str, np.ndarray] | None:
        """Each row's aggregates (read before recording it); ``None`` if Redis is down."""
        if not self.breaker.allow():
            return None
        try:
            if len(rows) == 1:
                replies = [await self._script(*self._script_call(rows[0]))]
            else:
                async with self._client.pipeline(transaction=False) as pipe:
                    for row in rows:
                        await self._script(*self._script_call(row), client=pipe)
                    replies = await pipe.execute()
        except (RedisError, OSError) as error:
            if not self.breaker.is_open:
                log.warning("online feature state unavailable, scoring degraded: %s", error)
            self.breaker.record_failure()
            return None
        self.breaker.record_success()
        return _as_arrays(replies)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    def _script_call(self, row: Observation) -> tuple[list[str], list[str]]:
        """Keys and arguments of the script for one row (see online_state.lua)."""
        args = [
            str(row.ts_ms),
            str(row.cents),
            row.merchant_id,
            row.device_id,
            repr(float(row.lat)),
            repr(float(row.lon)),
            self._ttl_s,
            str(MAX_WINDOW_MS),
            row.transaction_id,
            *self._windows,
        ]
        return customer_keys(row.customer_id, self._namespace), args


def _as_arrays(replies: Sequence[Sequence[object]]) -> dict[str, np.ndarray]:
    """Script replies (one list per row, in ``AGGREGATE_FIELDS`` order) as float arrays."""
    table = np.empty((len(replies), len(AGGREGATE_FIELDS)), dtype=np.float64)
    for i, reply in enumerate(replies):
        for j, (name, value) in enumerate(zip(AGGREGATE_FIELDS, reply, strict=True)):
            table[i, j] = math.nan if value is None and name in _OPTIONAL_FLOATS else float(value)
    return {name: table[:, j] for j, name in enumerate(AGGREGATE_FIELDS)}
