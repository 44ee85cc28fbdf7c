"""One audited prediction, encoded once as a line of PostgreSQL ``COPY`` text.

The line is built on the request path: about 10 us per row, paid evenly by every request. Built
later by the background writer instead, a batch of a thousand rows would be one stall of the
event loop, and that stall, not the model, would set the latency tail. The writer then only
concatenates lines, and the disk spool stores the very same lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import orjson
from pydantic import BaseModel

#: Columns of ``predictions`` in the order of a line's fields.
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
NULL = "\\N"
#: COPY text format: backslash, tab, newline and carriage return must be escaped in a field.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str) -> str:
    """A string as a COPY text field."""
    return value.translate(_COPY_ESCAPES)


def copy_json(document: str) -> str:
    """JSON text as a COPY text field: JSON never holds a raw control character, only ``\\``."""
    return document.replace("\\", "\\\\")


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

    def copy_line(self) -> bytes:
        """The row as one line of COPY text, fields in :data:`PREDICTION_COLUMNS` order."""
        transaction: Any = self.transaction
        features = dict(zip(self.feature_names, self.features.tolist(), strict=True))
        fields = (
            self.request_id,
            self.scored_at.isoformat(),
            self.route,
            NULL if transaction is None else copy_text(transaction.transaction_id),
            NULL if transaction is None else copy_text(transaction.customer_id),
            NULL if transaction is None else copy_json(transaction.model_dump_json()),
            copy_json(orjson.dumps(features).decode()),
            repr(self.fraud_probability),
            self.decision,
            copy_text(self.model_name),
            copy_text(self.model_version),
            repr(self.latency_ms),
            "t" if self.features_degraded else "f",
        )
        return ("\t".join(fields) + "\n").encode()
