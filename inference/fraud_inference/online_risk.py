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
transaction: :file:`online_risk.lua`), a ``GETEX`` of the card and a ``SET NX`` of the record, in
the one pipeline of the request that also carries the history state's scripts (``online_redis``):
one round trip for a batch. Feedback reads the record, then applies the fraud with
:file:`online_risk_label.lua` per entity and for the card (atomic, idempotent) in a second round
trip. When Redis is unreachable the caller gets ``None`` (the score is degraded, the counts are
those of an entity never seen).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from fraud_training.risk_features import RiskFeatures

from fraud_inference.online_redis import Command, OnlineRedis, Script, ScriptCall
from fraud_inference.online_state import DEFAULT_NAMESPACE, KEY_PREFIX

OBSERVE_SCRIPT = Script.named("online_risk.lua")
LABEL_SCRIPT = Script.named("online_risk_label.lua")


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
    """Reads and updates the risk state in Redis (through ``redis``, the connection it shares
    with the history state)."""

    def __init__(
        self, redis: OnlineRedis, ttl_days: int, namespace: str = DEFAULT_NAMESPACE
    ) -> None:
        self.redis = redis
        self._ttl_s = ttl_days * 86_400
        self._namespace = namespace

    def _state_ttl_s(self, spec: RiskFeatures) -> int:
        return max(self._ttl_s, -(-spec.retention_ms // 1000))

    async def observe(
        self, spec: RiskFeatures, rows: Sequence[RiskObservation]
    ) -> dict[str, np.ndarray] | None:
        """Each row's counts (read before recording it), by aggregate name; ``None`` if Redis
        is down."""
        replies = await self.redis.run(self.commands(spec, rows))
        return None if replies is None else as_arrays(spec, replies, len(rows))

    def commands(self, spec: RiskFeatures, rows: Sequence[RiskObservation]) -> list[Command]:
        """What reads and records ``rows``: per row, each entity's script call, the card's
        ``GETEX`` and the record's ``SET NX`` (the order :func:`as_arrays` reads)."""
        ttl = str(self._state_ttl_s(spec))
        windows = [str(width) for _, width in spec.windows_ms]
        fixed = [str(spec.label_delay_ms), str(spec.retention_ms), ttl]
        card_ttl = self._ttl_s
        names = [entity.name for entity in spec.entities]
        commands: list[Command] = []
        for row in rows:
            for entity, key in zip(spec.entities, row.entities, strict=True):
                commands.append(
                    ScriptCall(
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
        return commands

    async def apply_label(self, spec: RiskFeatures | None, transaction_id: str) -> LabelOutcome:
        """Apply a confirmed fraud of ``transaction_id`` to the entities and the card it was
        scored with (``spec``, the served model's definition, only sets how long the state
        lives). Idempotent: a label applied before reports :attr:`LabelOutcome.ALREADY_APPLIED`.
        """
        reply = await self.redis.run([("GET", record_key(transaction_id, self._namespace))])
        if reply is None:
            return LabelOutcome.UNAVAILABLE
        if reply[0] is None:
            return LabelOutcome.UNKNOWN
        record = json.loads(reply[0])
        ts = str(int(record["ts_ms"]))
        ttl = str(self._ttl_s if spec is None else self._state_ttl_s(spec))
        commands: list[Command] = [
            ScriptCall(
                LABEL_SCRIPT,
                [entity_keys(name, key, self._namespace)[1]],
                ["entity", ts, transaction_id, ttl],
            )
            for name, key in record["entities"].items()
        ]
        commands.append(
            ScriptCall(
                LABEL_SCRIPT,
                [card_key(record["card"], self._namespace)],
                ["card", ts, transaction_id, str(self._ttl_s)],
            )
        )
        changed = await self.redis.run(commands)
        if changed is None:
            return LabelOutcome.UNAVAILABLE
        return (
            LabelOutcome.APPLIED if any(int(c) for c in changed) else LabelOutcome.ALREADY_APPLIED
        )


def as_arrays(spec: RiskFeatures, replies: Sequence[Any], rows: int) -> dict[str, np.ndarray]:
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
