"""Per-customer and per-entity online feature state in Redis: the service's copy of
``CustomerHistory`` and of each ``EntityState`` (merchant, ...).

One Lua script per transaction reads the aggregates the transaction sees and then records it, so
concurrent requests for the same customer cannot interleave a read and a write. A batch sends its
scripts in one pipeline, in the order of the batch. Keys carry a TTL, so customers who stop
transacting age out. Keys carry the served model's name, so two models served from one Redis keep
separate state, and an update carries the transaction id: a retried request (or a replayed
stream) returns the reply of the first and changes nothing. Each entity the model uses (its
built-in histories, ``fraud_training.features.builtin_histories``, and the key columns the user
named) has its own keys (its own hash slot, so the state also runs on Redis Cluster; named
after the entity and its bucket layout, so versions with other windows never share buckets) and
its own script call, sent in the one pipeline of the request (``online_redis``), with the risk
state's: one round trip per request however many entities there are. No script walks a window:
an entity's windows are bucketed and keep running totals (``online_entity.lua``), so a merchant
with millions of transactions a month costs what one with ten does, and the customer's script
reads a window's count and sum off the running sums stored in its first and newest entries
(``online_state.lua``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from fraud_training.features import (
    AGGREGATE_FIELDS,
    ENTITY_HISTORIES,
    MAX_WINDOW_MS,
    WINDOWS_MS,
    EntityHistory,
)

from fraud_inference.online_redis import OnlineRedis, Script, ScriptCall

KEY_PREFIX = "fraudops"
DEFAULT_NAMESPACE = "default"
SCRIPT = Script.named("online_state.lua")
ENTITY_SCRIPT = Script.named("online_entity.lua")
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
    """State, window entries, merchants, devices, seen-ids and replies keys of one customer of
    one model; the ``{}`` hash tag keeps them in one cluster slot."""
    base = f"{KEY_PREFIX}:{namespace}:customer:{{{customer_id}}}"
    return [
        f"{base}:{part}" for part in ("state", "entries", "merchants", "devices", "seen", "replied")
    ]


def entity_keys(
    entity: str, key: str, namespace: str = DEFAULT_NAMESPACE, distinct: Sequence[str] = ()
) -> list[str]:
    """State (counters and buckets), seen-ids, replies and one last-seen set per
    distinct-counted column, of one entity (say a merchant) of one model."""
    base = f"{KEY_PREFIX}:{namespace}:{entity}:{{{key}}}"
    parts = ("state", "seen", "replied", *(f"distinct:{column}" for column in distinct))
    return [f"{base}:{part}" for part in parts]


class OnlineState:
    """Reads and updates customer and entity histories in Redis (through ``redis``, the
    connection it shares with the risk state)."""

    def __init__(
        self,
        redis: OnlineRedis,
        ttl_days: int,
        namespace: str = DEFAULT_NAMESPACE,
        entities: Sequence[EntityHistory] = ENTITY_HISTORIES,
    ) -> None:
        self.redis = redis
        self._ttl_days = ttl_days
        self._ttl_s = str(ttl_days * 86_400)
        self._entities = tuple(entities)
        self._namespace = namespace
        self._windows = [str(width) for width in WINDOWS_MS.values()]

    async def observe(
        self, rows: Sequence[Observation], entities: Sequence[EntityHistory] | None = None
    ) -> dict[str, np.ndarray] | None:
        """Each row's aggregates (read before recording it) of the customer and of ``entities``
        (default: those the state was built with); ``None`` if Redis is down."""
        entities = self._entities if entities is None else tuple(entities)
        replies = await self.redis.run(self.commands(rows, entities))
        return None if replies is None else as_arrays(rows, replies, entities)

    def commands(
        self, rows: Sequence[Observation], entities: Sequence[EntityHistory]
    ) -> list[ScriptCall]:
        """The script calls that read and record ``rows``: per row, the customer's, then one per
        entity the row has a key of (the order :func:`as_arrays` reads the replies in)."""
        calls = []
        for row in rows:
            calls.append(self._customer_call(row))
            calls += (
                self._entity_call(row, entity, i)
                for i, entity in enumerate(entities)
                if row.entities[i] is not None
            )
        return calls

    def _customer_call(self, row: Observation) -> ScriptCall:
        """The customer script's call for one row (see online_state.lua)."""
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
        return ScriptCall(SCRIPT, customer_keys(row.customer_id, self._namespace), args)

    def _entity_call(self, row: Observation, entity: EntityHistory, index: int) -> ScriptCall:
        """The entity script's call (see online_entity.lua) for one row's ``index``-th entity."""
        # an entity's state lives at least as long as its longest window
        ttl_s = max(self._ttl_days * 86_400, entity.longest_ms // 1000)
        args = [str(row.ts_ms), str(row.cents), str(ttl_s), row.transaction_id]
        args += _window_args(entity)
        members = row.members[index] if row.members else (None,) * len(entity.distinct)
        for value in members:
            args += ("0", "") if value is None else ("1", value)
        key = row.entities[index]
        assert key is not None
        keys = entity_keys(entity.state_name, key, self._namespace, entity.distinct)
        return ScriptCall(ENTITY_SCRIPT, keys, args)


@lru_cache(maxsize=64)
def _window_args(entity: EntityHistory) -> tuple[str, ...]:
    """The entity script's window arguments, the same for every row: how many windows, then each
    one's bucket size and bucket count."""
    sizes = (str(value) for w in entity.windows for value in (w.bucket_ms, w.buckets))
    return (str(len(entity.windows)), *sizes)


def reply_fields(entities: Sequence[EntityHistory]) -> tuple[str, ...]:
    """The aggregate names of one row's replies: the customer's, then each entity's."""
    return (*AGGREGATE_FIELDS, *(name for entity in entities for name in entity.aggregate_fields))


#: The reply fields of the default entities.
REPLY_FIELDS = reply_fields(ENTITY_HISTORIES)


def as_arrays(
    rows: Sequence[Observation],
    replies: Sequence[Sequence[object]],
    entities: Sequence[EntityHistory],
) -> dict[str, np.ndarray]:
    """Script replies (per row the customer's, then each keyed entity's, each in its aggregate
    order) as float arrays by aggregate name; an entity a row has no key for has no history."""
    fields = reply_fields(entities)
    absent = _absent_values(fields)
    table = np.empty((len(rows), len(fields)), dtype=np.float64)
    pending = iter(replies)
    for i, row in enumerate(rows):
        values: list[object] = list(next(pending))
        for index, entity in enumerate(entities):
            if row.entities[index] is None:
                values += [None] * len(entity.aggregate_fields)
            else:
                values += next(pending)
        table[i] = [
            default if value is None else float(value)  # type: ignore[arg-type]
            for value, default in zip(values, absent, strict=True)
        ]
    return {name: table[:, j] for j, name in enumerate(fields)}


@lru_cache(maxsize=64)
def _absent_values(fields: tuple[str, ...]) -> tuple[float, ...]:
    """What each aggregate is where the state has nothing: NaN for a previous transaction's time
    or place, else 0."""
    return tuple(
        math.nan if name in _NAN_WHEN_ABSENT or name.endswith(":prev_ts_ms") else 0.0
        for name in fields
    )
