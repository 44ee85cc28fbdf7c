"""What the monitoring tests' audit trails hold: a fixed "now" and the features of a known
reference (an arbitrary feature set: the monitor must not care which one produced them)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REFERENCE_ROWS = 20_000


def features(rows: int, seed: int, amount_shift: float = 0.0) -> dict[str, np.ndarray]:
    """Three features of an arbitrary feature set; ``amount_shift`` moves the log-amount."""
    rng = np.random.default_rng(seed)
    return {
        "amount": rng.lognormal(3.0 + amount_shift, 1.0, rows),
        "txns_last_hour": rng.poisson(1.5, rows).astype(float),
        "is_foreign": (rng.random(rows) < 0.1).astype(float),
    }
