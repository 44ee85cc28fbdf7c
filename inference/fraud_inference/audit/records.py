"""One audited prediction, and its row in the ``predictions`` table.

The request path only builds :class:`AuditRecord` objects (cheap: references to what it already
holds); turning them into rows, JSON included, happens in the background writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import orjson
from pydantic import BaseModel

#: Columns of ``predictions`` in the order rows are copied (and spooled).
PREDICTION_COLUMNS: tuple[str, ...] = (
    "request_id",
    "scored_at",
    "route",
    "transaction_id",
    "customer_id",
    "input",
    "features",
    "fraud_probability",
    "decision",
    "model_name",
    "model_version",
    "latency_ms",
    "features_degraded",
)

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What one scored row leaves behind."""

    request_id: str
    scored_at: datetime
    route: str
    transaction: BaseModel | None
    features: np.ndarray
    feature_names: tuple[str, ...]
    fraud_probability: float
    decision: str
    model_name: str
    model_version: str
    latency_ms: float
    features_degraded: bool

    def row(self) -> Row:
        """Values in :data:`PREDICTION_COLUMNS` order; JSON columns as JSON text."""
        transaction: Any = self.transaction
        features = dict(zip(self.feature_names, self.features.tolist(), strict=True))
        return (
            self.request_id,
            self.scored_at,
            self.route,
            transaction.transaction_id if transaction is not None else None,
            transaction.customer_id if transaction is not None else None,
            transaction.model_dump_json() if transaction is not None else None,
            orjson.dumps(features).decode(),
            self.fraud_probability,
            self.decision,
            self.model_name,
            self.model_version,
            self.latency_ms,
            self.features_degraded,
        )
