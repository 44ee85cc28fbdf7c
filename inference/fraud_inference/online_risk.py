"""The risk features' online state in Redis: the service's copy of what
``fraud_training.risk_features.RiskFeatures.aggregates`` computes offline from training labels.

Keys (``<ns>`` is the served model's name, ``{...}`` a cluster hash tag):

* ``fraudops:<ns>:risk:<entity>:{<key>}:txns`` — sorted set of the entity's scored transactions
  (member: transaction id, score: its time); ``...:frauds`` — the same for its confirmed frauds.
  Both trimmed to the delay + longest window before the newest transaction; TTL
  ``max(ONLINE_STATE_TTL_DAYS, delay + longest window)`` from the last write.
* ``fraudops:<ns>:risk:card:{<card>}`` — the time of the card's earliest confirmed fraud; TTL
  ``ONLINE_STATE_TTL_DAYS``, renewed by every read of the card.
* ``fraudops:<ns>:risk:txn:{<transaction id>}`` — what feedback needs to apply a label: the
  transaction's time, card and entity keys (JSON), written once when it is scored; TTL as the
  entity sets. Feedback for a transaction whose record expired (or was never scored) is
  ``unknown`` to this state.

Scoring sends, per transaction, one script per entity (read the delayed counts, then record the
transaction: :file:`online_risk.lua`), a ``GETEX`` of the card and a ``SET NX`` of the record, all
in one pipeline: one round trip for a batch. Feedback reads the record, then applies the fraud
with :file:`online_risk_label.lua` per entity and for the card (atomic, idempotent) in a second
round trip. When Redis is unreachable the caller gets ``None`` (the score is degraded, the
counts are those of an entity never seen) and a circuit breaker spares later requests the timeout.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib.resources import files
from typing import Any

import numpy as np
import redis.asyncio as aioredis
from fraud_training.risk_features import RiskFeatures
from redis.exceptions import NoScriptError, RedisError

from fraud_inference.circuit_breaker import CircuitBreaker
from fraud_inference.online_state import BREAKER_COOLDOWN_S, DEFAULT_NAMESPACE, KEY_PREFIX

log = logging.getLogger(__name__)

OBSERVE_SCRIPT = files("fraud_inference").joinpath("online_risk.lua").read_text()
LABEL_SCRIPT = files("fraud_inference").joinpath("online_risk_label.lua").read_text()


@dataclass(frozen=True)
class RiskObservation:
    """What the risk state needs of one scored transaction."""

    transaction_id: str
    ts_ms: int
    card: str
    #: The row's key of each entity of the definition, in its order.
    entities: tuple[str, ...]


class LabelOutcome(StrEnum):
    """What applying a label did to the online risk state."""

    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"
    NOT_A_FRAUD = "not_a_fraud"
    UNKNOWN = "unknown_transaction"
    UNAVAILABLE = "unavailable"


def entity_keys(entity: str, key: str, namespace: str = DEFAULT_NAMESPACE) -> list[str]:
    """The transactions and confirmed-frauds sets of one entity (one hash slot)."""
    base = f"{KEY_PREFIX}:{namespace}:risk:{entity}:{{{key}}}"
    return [f"{base}:txns", f"{base}:frauds"]


def card_key(card: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The key holding the time of a card's earliest confirmed fraud."""
    return f"{KEY_PREFIX}:{namespace}:risk:card:{{{card}}}"


def record_key(transaction_id: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The key of what feedback needs to know about a scored transaction."""
    return f"{KEY_PREFIX}:{namespace}:risk:txn:{{{transaction_id}}}"


class OnlineRisk:
    """Reads and updates the risk state in Redis, degrading to ``None`` when it is down."""

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
        self._ttl_s = ttl_days * 86_400
        self._namespace = namespace
        self._scripts = {OBSERVE_SCRIPT: "", LABEL_SCRIPT: ""}
        self.breaker = CircuitBreaker(BREAKER_COOLDOWN_S)

    def _state_ttl_s(self, spec: RiskFeatures) -> int:
        return max(self._ttl_s, -(-spec.retention_ms // 1000))

    async def observe(
        self, spec: RiskFeatures, rows: Sequence[RiskObservation]
    ) -> dict[str, np.ndarray] | None:
        """Each row's counts (read before recording it), by aggregate name; ``None`` if Redis
        is down."""
        if not self.breaker.allow():
            return None
        ttl = str(self._state_ttl_s(spec))
        windows = [str(width) for _, width in spec.windows_ms]
        fixed = [str(spec.label_delay_ms), str(spec.retention_ms), ttl]
        card_ttl = self._ttl_s
        names = [entity.name for entity in spec.entities]
        commands: list[tuple[Any, ...]] = []
        for row in rows:
            for entity, key in zip(spec.entities, row.entities, strict=True):
                commands.append(
                    (
                        OBSERVE_SCRIPT,
                        entity_keys(entity.name, key, self._namespace),
                        [str(row.ts_ms), row.transaction_id, *fixed, *windows],
                    )
                )
            commands.append(("GETEX", card_key(row.card, self._namespace), "EX", card_ttl))
            record = json.dumps(
                {
                    "ts_ms": row.ts_ms,
                    "card": row.card,
                    "entities": dict(zip(names, row.entities, strict=True)),
                }
            )
            commands.append(
                ("SET", record_key(row.transaction_id, self._namespace), record, "NX", "EX", ttl)
            )
        replies = await self._run(commands)
        if replies is None:
            return None
        return _as_arrays(spec, replies, len(rows))

    async def apply_label(self, spec: RiskFeatures | None, transaction_id: str) -> LabelOutcome:
        """Apply a confirmed fraud of ``transaction_id`` to the entities and the card it was
        scored with (``spec``, the served model's definition, only sets how long the state
        lives). Idempotent: a label applied before reports :attr:`LabelOutcome.ALREADY_APPLIED`.
        """
        if not self.breaker.allow():
            return LabelOutcome.UNAVAILABLE
        reply = await self._run([("GET", record_key(transaction_id, self._namespace))])
        if reply is None:
            return LabelOutcome.UNAVAILABLE
        if reply[0] is None:
            return LabelOutcome.UNKNOWN
        record = json.loads(reply[0])
        ts = str(int(record["ts_ms"]))
        ttl = str(self._ttl_s if spec is None else self._state_ttl_s(spec))
        commands: list[tuple[Any, ...]] = [
            (
                LABEL_SCRIPT,
                [entity_keys(name, key, self._namespace)[1]],
                ["entity", ts, transaction_id, ttl],
            )
            for name, key in record["entities"].items()
        ]
        commands.append(
            (
                LABEL_SCRIPT,
                [card_key(record["card"], self._namespace)],
                ["card", ts, transaction_id, str(self._ttl_s)],
            )
        )
        changed = await self._run(commands)
        if changed is None:
            return LabelOutcome.UNAVAILABLE
        return (
            LabelOutcome.APPLIED if any(int(c) for c in changed) else LabelOutcome.ALREADY_APPLIED
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def _run(self, commands: Sequence[tuple[Any, ...]]) -> list[Any] | None:
        """Send ``commands`` in one pipeline (scripts as EVALSHA, loaded on a NOSCRIPT reply
        and sent once more); ``None`` if Redis is down."""
        try:
            try:
                replies = await self._pipeline(commands)
            except NoScriptError:
                for source in self._scripts:
                    self._scripts[source] = await self._client.script_load(source)
                replies = await self._pipeline(commands)
        except (RedisError, OSError) as error:
            if not self.breaker.is_open:
                log.warning("online risk state unavailable, scoring degraded: %s", error)
            self.breaker.record_failure()
            return None
        self.breaker.record_success()
        return replies

    async def _pipeline(self, commands: Sequence[tuple[Any, ...]]) -> list[Any]:
        async with self._client.pipeline(transaction=False) as pipe:
            for command in commands:
                if command[0] in self._scripts:
                    source, keys, args = command
                    sha = self._scripts[source] or _UNLOADED
                    pipe.evalsha(sha, len(keys), *keys, *args)
                else:
                    pipe.execute_command(*command)
            return await pipe.execute()


#: The sha of a script not loaded yet: Redis answers NOSCRIPT, and the scripts are loaded.
_UNLOADED = "0" * 40


def _as_arrays(spec: RiskFeatures, replies: Sequence[Any], rows: int) -> dict[str, np.ndarray]:
    """Pipeline replies (per row: each entity's counts, the card's reply, the record's) as
    float arrays by aggregate name."""
    fields = spec.aggregate_fields
    per_row = len(spec.entities) + 2
    table = np.empty((rows, len(fields)), dtype=np.float64)
    for i in range(rows):
        part = replies[i * per_row : (i + 1) * per_row]
        values = [float(v) for counts in part[: len(spec.entities)] for v in counts]
        card = part[len(spec.entities)]
        values.append(np.nan if card is None else float(card))
        table[i] = values
    return {name: table[:, j] for j, name in enumerate(fields)}
