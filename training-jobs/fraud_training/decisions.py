"""The decision a score leads to, and the thresholds that draw it: free of the training stack.

A module of its own so that the scoring service, which loads a bundle's serving payload without
scikit-learn, XGBoost or LightGBM, shares this one definition with the bundle (which re-exports
it) instead of importing the learners to reach it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DECISIONS = ("approve", "review", "decline")


@dataclass(frozen=True)
class Thresholds:
    """Score cut-offs: at or above ``review`` a transaction is reviewed, at or above ``decline``
    it is declined. ``review`` minimises the expected cost on the hold-out."""

    review: float
    decline: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.review <= self.decline <= 1.0:
            raise ValueError(f"thresholds must satisfy 0 <= review <= decline <= 1, got {self}")

    def decide(self, probability: np.ndarray) -> np.ndarray:
        """approve / review / decline for each probability."""
        index = (probability >= self.review).astype(np.int64) + (probability >= self.decline)
        return np.asarray(DECISIONS, dtype=object)[index]
