"""Raw transactions to scores, with the shared feature definitions and no pandas on the way.

The raw arrays come from :func:`fraud_training.features.raw_inputs_from_columns`, which the
offline frame path calls too (a test holds the two equal); aggregates come from the online state
in Redis, or, when it is unavailable, are those of a customer without history
(``CustomerHistory().aggregates`` and each entity's ``no_history``); the feature matrix is
:func:`fraud_training.features.derive_features`, the one definition both paths share. No feature
is computed anywhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from fraud_training.features import (
    ENTITY_HISTORIES,
    NUMERIC,
    RAW_COLUMNS,
    CustomerHistory,
    EntityHistory,
    derive_features,
    raw_inputs_from_columns,
)
from fraud_training.risk_features import RiskFeatures, key_text

from fraud_inference import online_risk, online_state
from fraud_inference.explain import top_contributions
from fraud_inference.metrics import ServiceMetrics
from fraud_inference.model_store import ServedModel
from fraud_inference.online_redis import Command
from fraud_inference.online_risk import OnlineRisk, RiskObservation
from fraud_inference.online_state import Observation, OnlineState
from fraud_inference.responses import ClientError
from fraud_inference.serving_bundle import ServableBundle

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
SCORABLE_FEATURE_SET = "transactions"
_CUSTOMER_NO_HISTORY = CustomerHistory().aggregates(0, "", "")


class UnscorableModel(Exception):
    """The served model's features cannot be built from a raw transaction."""


@dataclass(frozen=True)
class Scores:
    """What scoring a batch of transactions produced, row-aligned."""

    features: np.ndarray
    probabilities: np.ndarray
    decisions: np.ndarray
    top_features: list[list[dict[str, Any]]]
    degraded: bool


def model_entities(bundle: ServableBundle) -> tuple[EntityHistory, ...]:
    """The entity histories a model's features read: its built-in ones, then the user-named."""
    return bundle.inputs.histories


def raw_fields(
    rows: Sequence[Any], entities: Sequence[EntityHistory] = ENTITY_HISTORIES
) -> tuple[dict[str, np.ndarray], list[Observation]]:
    """The raw arrays ``derive_features`` reads, and what the online state records, per row,
    for the histories of ``entities``."""
    ts_ms = np.array([(row.timestamp - EPOCH) // ONE_MS for row in rows], dtype=np.int64)
    raw = raw_inputs_from_columns(
        ts_ms, {name: [getattr(row, name) for row in rows] for name in RAW_COLUMNS}
    )
    observations = [
        Observation(
            customer_id=row.customer_id,
            transaction_id=row.transaction_id,
            ts_ms=int(ts_ms[i]),
            cents=int(raw["amount_cents"][i]),
            merchant_id=row.merchant_id,
            device_id=row.device_id,
            lat=float(raw["lat"][i]),
            lon=float(raw["lon"][i]),
            entities=tuple(
                entity.key_of([_field_value(row, column) for column in entity.columns])
                for entity in entities
            ),
            members=tuple(
                tuple(entity.member_of(_field_value(row, column)) for column in entity.distinct)
                for entity in entities
            ),
        )
        for i, row in enumerate(rows)
    ]
    return raw, observations


def risk_observations(
    risk: RiskFeatures, rows: Sequence[Any], ts_ms: np.ndarray
) -> list[RiskObservation]:
    """What the risk state records of each row: its time, card and entity keys."""
    return [
        RiskObservation(
            transaction_id=row.transaction_id,
            ts_ms=int(ts_ms[i]),
            card=key_text(_field_value(row, risk.card_column)),
            entities=tuple(
                entity.key_of([_field_value(row, column) for column in entity.columns])
                for entity in risk.entities
            ),
        )
        for i, row in enumerate(rows)
    ]


def pass_through_inputs(bundle: ServableBundle, rows: Sequence[Any]) -> np.ndarray:
    """The model's pass-through inputs from the requests' fields (``model_extra`` for the
    user's own columns); a field a request leaves out is missing to the model. A value that
    cannot be a number where the model was trained on numbers is the client's mistake: 422."""
    columns: dict[str, list[Any]] = {}
    for column in bundle.inputs.columns:
        values = [_field_value(row, column.name) for row in rows]
        if column.kind == NUMERIC:
            for i, value in enumerate(values):
                if value is not None and not _is_number(value):
                    raise ClientError(
                        422,
                        f"transactions[{i}].{column.name}: must be a number (the model was "
                        f"trained on numbers), got {value!r}",
                    )
            values = [None if v is None else float(v) for v in values]
        columns[column.name] = values
    return bundle.inputs.encode(columns, len(rows))


def _field_value(row: Any, name: str) -> Any:
    if name in type(row).model_fields:
        return getattr(row, name)
    return (row.model_extra or {}).get(name)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return bool(np.isfinite(value))
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def no_history(
    rows: int, entities: Sequence[EntityHistory] = ENTITY_HISTORIES
) -> dict[str, np.ndarray]:
    """Aggregates of customers (and entities) without history: what a degraded score uses."""
    values = {
        **_CUSTOMER_NO_HISTORY,
        **{name: value for entity in entities for name, value in entity.no_history().items()},
    }
    return {name: np.full(rows, value, dtype=np.float64) for name, value in values.items()}


class Scorer:
    """Scores raw transactions with the model it is handed, reading and updating online state."""

    def __init__(
        self,
        online: OnlineState | None,
        metrics: ServiceMetrics,
        top_k: int,
        risk: OnlineRisk | None = None,
    ) -> None:
        if online is not None and risk is not None and risk.redis is not online.redis:
            # a request reads both in one pipeline, on the history state's connection
            raise ValueError("the history and risk states must share one OnlineRedis")
        self._online = online
        self._metrics = metrics
        self._top_k = top_k
        self._risk = risk

    async def score(self, model: ServedModel, rows: Sequence[Any], explain: bool) -> Scores:
        """Features, probabilities, decisions and (if ``explain``) top contributions of ``rows``."""
        bundle = model.bundle
        if bundle.feature_set != SCORABLE_FEATURE_SET:
            raise UnscorableModel(
                f"the served model uses the {bundle.feature_set!r} feature set, which raw "
                "transactions cannot build; send its feature matrix to the V2 infer endpoint"
            )
        entities = model_entities(bundle)
        raw, observations = raw_fields(rows, entities)
        risk = bundle.risk
        aggregates: dict[str, np.ndarray] | None = None
        risk_counts: dict[str, np.ndarray] | None = None
        if self._online is not None:
            with_risk = (
                None if risk is None else (risk, risk_observations(risk, rows, raw["ts_ms"]))
            )
            aggregates, risk_counts = await read_online_state(
                self._online, observations, entities, self._risk, with_risk
            )
        degraded = aggregates is None or (risk is not None and risk_counts is None)
        if degraded:
            self._metrics.features_degraded.inc(len(rows))
        if aggregates is None:
            aggregates = no_history(len(rows), entities)
        features = derive_features(raw, aggregates, bundle.inputs.entities, bundle.inputs.builtin)
        if risk is not None:
            counts = risk.no_history(len(rows)) if risk_counts is None else risk_counts
            features = np.column_stack([features, risk.derive(raw["ts_ms"], counts)])
        if bundle.inputs.columns:
            features = np.column_stack([features, pass_through_inputs(bundle, rows)])
        probabilities = model.predictor.probability(features)
        decisions = bundle.thresholds.decide(probabilities)
        top: list[list[dict[str, Any]]] = [[] for _ in rows]
        if explain and self._top_k:
            contributions = model.explainer.contributions(features)
            top = top_contributions(contributions, features, bundle.feature_names, self._top_k)
        return Scores(features, probabilities, decisions, top, degraded)


async def read_online_state(
    online: OnlineState,
    observations: Sequence[Observation],
    entities: Sequence[EntityHistory],
    risk_state: OnlineRisk | None = None,
    risk: tuple[RiskFeatures, Sequence[RiskObservation]] | None = None,
) -> tuple[dict[str, np.ndarray] | None, dict[str, np.ndarray] | None]:
    """The history aggregates of ``observations`` and, given a risk definition and its rows, the
    risk counts, read and recorded in one round trip on ``online``'s connection (which
    ``risk_state`` shares); ``None`` for what Redis could not answer."""
    commands: list[Command] = [*online.commands(observations, entities)]
    split = len(commands)
    if risk_state is not None and risk is not None:
        commands += risk_state.commands(*risk)
    replies = await online.redis.run(commands)
    if replies is None:
        return None, None
    aggregates = online_state.as_arrays(observations, replies[:split], entities)
    if risk_state is None or risk is None:
        return aggregates, None
    spec, rows = risk
    return aggregates, online_risk.as_arrays(spec, replies[split:], len(rows))
