"""Per-customer and per-entity online feature state in Redis: the service's copy of
``CustomerHistory`` and of each ``EntityState`` (merchant, ...).

One Lua script per transaction reads the aggregates the transaction sees and then records it, so
concurrent requests for the same customer cannot interleave a read and a write. A batch sends its
scripts in one pipeline, in the order of the batch. Keys carry a TTL, so customers who stop
transacting age out. Keys carry the served model's name, so two models served from one Redis keep
separate state, and an update carries the transaction id: a retried request (or a replayed
stream) returns the reply of the first and changes nothing. Each entity the model uses (the
default ``fraud_training.features.ENTITY_HISTORIES`` and the key columns the user named) has its
own keys (its own hash slot, so the state also runs on Redis Cluster) and its own script call,
pipelined with the customer's: one round trip per request however many entities there are. An
entity's script costs the same for a merchant with millions of transactions a month as for one
with ten (its windows are bucketed, see ``online_entity.lua``). When Redis is unreachable the caller
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
from fraud_training.features import (
    AGGREGATE_FIELDS,
    ENTITY_HISTORIES,
    MAX_WINDOW_MS,
    WINDOWS_MS,
    EntityHistory,
)
from redis.exceptions import RedisError

from fraud_inference.circuit_breaker import CircuitBreaker

log = logging.getLogger(__name__)

KEY_PREFIX = "fraudops"
DEFAULT_NAMESPACE = "default"
BREAKER_COOLDOWN_S = 2.0
SCRIPT = files("fraud_inference").joinpath("online_state.lua").read_text()
ENTITY_SCRIPT = files("fraud_inference").joinpath("online_entity.lua").read_text()
_NAN_WHEN_ABSENT = {
    "prev_ts_ms",
    "prev_lat",
    "prev_lon",
}


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
    #: The row's key of each entity the state keeps (the ``entities`` :meth:`OnlineState.observe`
    #: is given), in that order; None where the row has no key (it then has no history).
    entities: tuple[str | None, ...] = ()
    #: For each of those entities, the row's values of its distinct-counted columns.
    members: tuple[tuple[str | None, ...], ...] = ()


def customer_keys(customer_id: str, namespace: str = DEFAULT_NAMESPACE) -> list[str]:
    """State, window, merchants, devices, seen-ids and replies keys of one customer of one
    model; the ``{}`` hash tag keeps them in one cluster slot."""
    base = f"{KEY_PREFIX}:{namespace}:customer:{{{customer_id}}}"
    return [
        f"{base}:{part}" for part in ("state", "window", "merchants", "devices", "seen", "replies")
    ]


def entity_keys(
    entity: str, key: str, namespace: str = DEFAULT_NAMESPACE, distinct: Sequence[str] = ()
) -> list[str]:
    """State (counters and buckets), seen-ids, replies and one last-seen set per
    distinct-counted column, of one entity (say a merchant) of one model."""
    base = f"{KEY_PREFIX}:{namespace}:{entity}:{{{key}}}"
    parts = ("state", "seen", "replies", *(f"distinct:{column}" for column in distinct))
    return [f"{base}:{part}" for part in parts]


class OnlineState:
    """Reads and updates customer histories in Redis, degrading to ``None`` when it is down."""

    def __init__(
        self,
        url: str,
        timeout_s: float,
        ttl_days: int,
        namespace: str = DEFAULT_NAMESPACE,
        entities: Sequence[EntityHistory] = ENTITY_HISTORIES,
    ) -> None:
        self._client = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry_on_timeout=False,
            health_check_interval=0,
        )
        self._script = self._client.register_script(SCRIPT)
        self._entity_script = self._client.register_script(ENTITY_SCRIPT)
        self._ttl_days = ttl_days
        self._ttl_s = str(ttl_days * 86_400)
        self._entities = tuple(entities)
        self._namespace = namespace
        self._windows = [str(width) for width in WINDOWS_MS.values()]
        self.breaker = CircuitBreaker(BREAKER_COOLDOWN_S)

    async def observe(
        self, rows: Sequence[Observation], entities: Sequence[EntityHistory] | None = None
    ) -> dict[str, np.ndarray] | None:
        """Each row's aggregates (read before recording it) of the customer and of ``entities``
        (default: those the state was built with); ``None`` if Redis is down."""
        entities = self._entities if entities is None else tuple(entities)
        if not self.breaker.allow():
            return None
        try:
            if len(rows) == 1 and all(key is None for key in rows[0].entities[: len(entities)]):
                replies = [await self._script(*self._script_call(rows[0]))]
            else:
                async with self._client.pipeline(transaction=False) as pipe:
                    for row in rows:
                        await self._script(*self._script_call(row), client=pipe)
                        for i, entity in enumerate(entities):
                            if row.entities[i] is not None:
                                call = self._entity_call(row, entity, i)
                                await self._entity_script(*call, client=pipe)
                    replies = await pipe.execute()
        except (RedisError, OSError) as error:
            if not self.breaker.is_open:
                log.warning("online feature state unavailable, scoring degraded: %s", error)
            self.breaker.record_failure()
            return None
        self.breaker.record_success()
        return _as_arrays(rows, replies, entities)

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

    def _entity_call(
        self, row: Observation, entity: EntityHistory, index: int
    ) -> tuple[list[str], list[str]]:
        """Keys and arguments of the entity script (see online_entity.lua) for one row's
        ``index``-th entity."""
        # an entity's state lives at least as long as its longest window
        ttl_s = max(self._ttl_days * 86_400, entity.longest_ms // 1000)
        args = [str(row.ts_ms), str(row.cents), str(ttl_s), row.transaction_id]
        args.append(str(len(entity.windows)))
        for window in entity.windows:
            args += (str(window.bucket_ms), str(window.buckets))
        members = row.members[index] if row.members else (None,) * len(entity.distinct)
        for value in members:
            args += ("0", "") if value is None else ("1", value)
        key = row.entities[index]
        assert key is not None
        return entity_keys(entity.name, key, self._namespace, entity.distinct), args


def reply_fields(entities: Sequence[EntityHistory]) -> tuple[str, ...]:
    """The aggregate names of one row's replies: the customer's, then each entity's."""
    return (*AGGREGATE_FIELDS, *(name for entity in entities for name in entity.aggregate_fields))


#: The reply fields of the default entities.
REPLY_FIELDS = reply_fields(ENTITY_HISTORIES)


def _as_arrays(
    rows: Sequence[Observation],
    replies: Sequence[Sequence[object]],
    entities: Sequence[EntityHistory],
) -> dict[str, np.ndarray]:
    """Script replies (per row the customer's, then each keyed entity's, each in its aggregate
    order) as float arrays by aggregate name; an entity a row has no key for has no history."""
    fields = reply_fields(entities)
    table = np.empty((len(rows), len(fields)), dtype=np.float64)
    pending = iter(replies)
    for i, row in enumerate(rows):
        values: list[object] = list(next(pending))
        for index, entity in enumerate(entities):
            if row.entities[index] is None:
                values += [None] * len(entity.aggregate_fields)
            else:
                values += next(pending)
        for j, (name, value) in enumerate(zip(fields, values, strict=True)):
            if value is None:
                table[i, j] = (
                    math.nan if name in _NAN_WHEN_ABSENT or name.endswith(":prev_ts_ms") else 0.0
                )
            else:
                table[i, j] = float(value)
    return {name: table[:, j] for j, name in enumerate(fields)}
