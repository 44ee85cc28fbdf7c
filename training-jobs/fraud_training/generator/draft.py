"""Rows as numbers: what behaviours and patterns produce before ids and strings exist.

Everything a row needs beyond these arrays follows from its merchant (category, country,
channel) or its customer (home), so a pattern cannot produce an online row at an in-store
merchant or a home that is not the customer's. Strings are made once, at the end, for the whole
stream.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

#: The device column's value for card-present rows: the merchant's terminal is the device.
TERMINAL = -1


@dataclass(frozen=True)
class Draft:
    """A block of transactions; all arrays have one entry per row."""

    customer: np.ndarray  # customer number
    ts_ms: np.ndarray  # epoch milliseconds, UTC
    amount: np.ndarray
    merchant: np.ndarray  # merchant number
    device: np.ndarray  # device code, or TERMINAL for card-present rows
    lat: np.ndarray
    lon: np.ndarray
    pattern: np.ndarray  # index into the pattern names; 0 is legit

    def __len__(self) -> int:
        return len(self.customer)

    @classmethod
    def concat(cls, drafts: list[Draft]) -> Draft:
        """One draft holding the rows of all, in the order given."""
        return cls(
            **{f.name: np.concatenate([getattr(d, f.name) for d in drafts]) for f in fields(cls)}
        )

    @classmethod
    def empty(cls) -> Draft:
        """A draft without rows."""
        return cls(**{f.name: np.zeros(0, dtype=np.int64) for f in fields(cls)})

    def take(self, rows: np.ndarray) -> Draft:
        """The rows at the given positions (a selection or a reordering)."""
        return Draft(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


def cents(amount: np.ndarray) -> np.ndarray:
    """Amounts rounded to cents, at least one cent."""
    return np.maximum(np.round(amount, 2), 0.01)
