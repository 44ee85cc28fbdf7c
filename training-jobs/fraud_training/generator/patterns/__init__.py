"""The fraud patterns an issuer sees, one module each, and the share of fraud rows each gets.

A pattern is a function ``generate(context, rows, code) -> Draft`` that produces exactly ``rows``
fraudulent rows tagged with ``code``; its ``NAME`` is what the ``fraud_pattern`` column says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fraud_training.generator.draft import Draft
from fraud_training.generator.patterns import (
    account_takeover,
    card_testing,
    lost_stolen,
    merchant_compromise,
    terminal_compromise,
)
from fraud_training.generator.patterns.context import FraudContext
from fraud_training.schema import LEGIT_PATTERN


@dataclass(frozen=True)
class FraudPattern:
    """A named fraud generator and its share of the fraudulent rows."""

    name: str
    share: float
    generate: Callable[[FraudContext, int, int], Draft]


PATTERNS: tuple[FraudPattern, ...] = (
    FraudPattern(card_testing.NAME, 0.21, card_testing.generate),
    FraudPattern(account_takeover.NAME, 0.18, account_takeover.generate),
    FraudPattern(merchant_compromise.NAME, 0.22, merchant_compromise.generate),
    FraudPattern(lost_stolen.NAME, 0.21, lost_stolen.generate),
    FraudPattern(terminal_compromise.NAME, 0.18, terminal_compromise.generate),
)
#: ``fraud_pattern`` values by code: legit rows have code 0.
PATTERN_NAMES: tuple[str, ...] = (LEGIT_PATTERN, *(p.name for p in PATTERNS))


def split_rows(rows: int) -> np.ndarray:
    """Fraud rows per pattern, proportional to the shares and adding up to exactly ``rows``."""
    shares = np.array([p.share for p in PATTERNS])
    counts = np.floor(rows * shares / shares.sum()).astype(np.int64)
    counts[np.argsort(-(rows * shares / shares.sum() - counts))[: rows - counts.sum()]] += 1
    return counts
