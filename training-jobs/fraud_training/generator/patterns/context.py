"""What every fraud pattern draws on: the victims' real histories and shared helpers.

Fraud is interleaved into real customers' streams: a victim is a customer with honest history
before the fraud starts, and fraud rows carry the victim's customer number (so home, country and
history are theirs). Victims are spread over patterns without repeats while there are enough.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fraud_training.generator.config import DAY_MS, GeneratorConfig
from fraud_training.generator.draft import Draft
from fraud_training.generator.geography import CITIES
from fraud_training.generator.population import Population

#: Honest transactions a victim has made before any fraud on the card.
MIN_HISTORY = 3
HOUR_MS = 3_600_000


@dataclass
class FraudContext:
    """The population, the honest stream and the random generator, shared by the patterns."""

    config: GeneratorConfig
    population: Population
    legit: Draft
    rng: np.random.Generator
    history_from_ms: np.ndarray  # per customer: time of the MIN_HISTORY-th honest purchase
    typical_amount: np.ndarray  # per customer: mean honest amount
    victimised: np.ndarray = field(init=False)
    next_device: int = field(init=False)

    def __post_init__(self) -> None:
        self.victimised = np.zeros(len(self.population.customers), dtype=bool)
        self.next_device = self.population.first_free_device

    @classmethod
    def of(
        cls,
        config: GeneratorConfig,
        population: Population,
        legit: Draft,
        rng: np.random.Generator,
    ) -> FraudContext:
        """Summarise each customer's honest history once, for all patterns."""
        n = len(population.customers)
        order = np.lexsort((legit.ts_ms, legit.customer))
        customer = legit.customer[order]
        counts = np.bincount(customer, minlength=n)
        first_row = np.concatenate(([0], np.cumsum(counts)[:-1]))
        has_history = counts >= MIN_HISTORY
        history_from = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        history_from[has_history] = legit.ts_ms[order][first_row[has_history] + MIN_HISTORY - 1]
        amount_sum = np.bincount(customer, weights=legit.amount[order], minlength=n)
        typical = amount_sum / np.maximum(counts, 1)
        return cls(config, population, legit, rng, history_from, typical)

    def victims(self, n: int, duration_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` victims with enough history to fit an event of ``duration_ms`` after it, and
        the earliest start of each one's event. Unused customers first."""
        eligible = self.history_from_ms < self.config.end_ms - duration_ms - HOUR_MS
        fresh = np.flatnonzero(eligible & ~self.victimised)
        if len(fresh) >= n:
            chosen = self.rng.choice(fresh, size=n, replace=False)
        else:
            reused = self.rng.choice(np.flatnonzero(eligible), size=n - len(fresh))
            chosen = np.concatenate((fresh, reused))
        self.victimised[chosen] = True
        return chosen, self.history_from_ms[chosen] + 1

    def event_starts(
        self,
        customer: np.ndarray,
        earliest_ms: np.ndarray,
        duration_ms: int,
        local_hour: np.ndarray | None = None,
    ) -> np.ndarray:
        """A start per event, uniform between ``earliest_ms`` and the last start that still
        fits; moved to ``local_hour`` (the victim's local time) on that day, or the day before
        or after, when given and that fits."""
        latest = self.config.end_ms - duration_ms
        start = earliest_ms + (self.rng.random(len(customer)) * (latest - earliest_ms)).astype(
            np.int64
        )
        if local_hour is None:
            return start
        utc_hour = np.mod(local_hour - self.population.customers.utc_offset_h[customer], 24.0)
        day_start = start - (start - self.config.start_ms) % DAY_MS
        moved = day_start + (utc_hour * HOUR_MS).astype(np.int64)
        moved = np.where(moved < earliest_ms, moved + DAY_MS, moved)
        moved = np.where(moved > latest, moved - DAY_MS, moved)
        return np.where((moved >= earliest_ms) & (moved <= latest), moved, start)

    def row_times(
        self, start_ms: np.ndarray, gap_ms: np.ndarray, event: np.ndarray, step: np.ndarray
    ) -> np.ndarray:
        """Row times: each event's start plus the gaps of its earlier rows, kept in the period
        (a long tail of gaps must not push a row past its end)."""
        gap_ms = np.where(step == 0, 0, gap_ms)
        elapsed = np.cumsum(gap_ms)
        first = np.flatnonzero(step == 0)
        times = start_ms[event] + elapsed - elapsed[first][event]
        return np.minimum(times, self.config.end_ms - 1)

    def new_devices(self, n: int) -> np.ndarray:
        """Device codes never seen before (the fraudsters' phones and browsers)."""
        codes = np.arange(self.next_device, self.next_device + n, dtype=np.int64)
        self.next_device += n
        return codes

    def fraudster_cities(self, customer: np.ndarray) -> np.ndarray:
        """Where fraudsters connect from: a city in a country other than the victim's."""
        return CITIES.foreign_city(self.rng, self.population.customers.country[customer])

    def near(self, lat: np.ndarray, lon: np.ndarray, spread_deg: float) -> tuple[np.ndarray, ...]:
        """Locations scattered around the given ones, rounded like the rest of the stream."""
        n = len(lat)
        return (
            np.round(lat + self.rng.normal(0.0, spread_deg, n), 6),
            np.round(lon + self.rng.normal(0.0, spread_deg, n), 6),
        )


def event_sizes(rng: np.random.Generator, rows: int, low: int, high: int) -> np.ndarray:
    """Sizes of events of ``low``..``high`` rows that add up to exactly ``rows`` (the last event
    is cut short when needed, so a pattern never over- or under-shoots its share)."""
    if rows <= 0:
        return np.zeros(0, dtype=np.int64)
    sizes = rng.integers(low, high + 1, size=rows // low + 1)
    total = np.cumsum(sizes)
    n_events = int(np.searchsorted(total, rows)) + 1
    sizes = sizes[:n_events].copy()
    sizes[-1] -= total[n_events - 1] - rows
    return sizes


def positions_in_events(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row of events laid end to end: its event number and its step within the event."""
    event = np.repeat(np.arange(len(sizes)), sizes)
    first_row = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    return event, np.arange(int(sizes.sum())) - first_row[event]
