"""Terminal compromise: a terminal in a shop is taken over for weeks and re-charges its cards.

A tampered or colluding point-of-sale terminal keeps the card data of a share of the cards that
pay at it and, a day to a few days later, charges them again at the same terminal, at the same
time of day as the genuine visit, with an amount like the terminal's ordinary ones. For the card
this is a merchant it already paid at, an ordinary amount and an ordinary hour: nothing in the
card's own history gives it away. The merchant's side does (its volume rises against its own past
while the compromise lasts and, once its first frauds are confirmed, its fraud rate), and so does
the card x merchant history: the card paid at this terminal a whole number of days ago at the same
hour. Measured (benchmarks/bench_quality.py, 150k rows): leaving out the card x merchant history
costs more PR-AUC than leaving out the merchant-side history and risk features together.
"""

from __future__ import annotations

import numpy as np

from fraud_training.generator.config import DAY_MS
from fraud_training.generator.draft import TERMINAL, Draft
from fraud_training.generator.patterns.context import FraudContext, positions_in_events

NAME = "terminal_compromise"
DURATION_MIN_MS, DURATION_MAX_MS = 7 * DAY_MS, 21 * DAY_MS
#: Share of the cards paying at a compromised terminal that are charged again.
VICTIM_SHARE = 0.5
MAX_DAYS_LATER = 3
TIME_JITTER_MS = 20 * 60_000
COMPROMISES_PER_BATCH = 16
MAX_EMPTY_BATCHES = 1_000


def generate(context: FraudContext, rows: int, code: int) -> Draft:
    """``rows`` re-charges at compromised terminals (compromises drawn until filled)."""
    visits = _TerminalVisits(context)
    batches: list[Draft] = []
    remaining, empty = rows, 0
    while remaining > 0:
        batch = _compromise_batch(context, visits, remaining, code)
        empty = 0 if len(batch) else empty + 1
        if empty > MAX_EMPTY_BATCHES:
            raise ValueError("too few card-present visits for a terminal compromise")
        batches.append(batch)
        remaining -= len(batch)
    return Draft.concat(batches) if batches else Draft.empty()


class _TerminalVisits:
    """The honest card-present visits, sorted by merchant then time."""

    def __init__(self, context: FraudContext) -> None:
        legit, config = context.legit, context.config
        in_store = np.flatnonzero(~context.population.merchants.online[legit.merchant])
        self.rows = in_store[np.lexsort((legit.ts_ms[in_store], legit.merchant[in_store]))]
        self.span = config.end_ms - config.start_ms + 1
        self.key = legit.merchant[self.rows] * self.span + (
            legit.ts_ms[self.rows] - config.start_ms
        )
        latest_start = config.end_ms - (MAX_DAYS_LATER + 1) * DAY_MS
        self.startable = np.flatnonzero(legit.ts_ms[self.rows] < latest_start)
        if len(self.startable) == 0:
            raise ValueError("the period is too short for a terminal compromise")


def _compromise_batch(
    context: FraudContext, visits: _TerminalVisits, budget: int, code: int
) -> Draft:
    """Up to ``budget`` fraud rows from one batch of compromised terminals."""
    rng, config, legit = context.rng, context.config, context.legit
    start = rng.choice(visits.startable, size=COMPROMISES_PER_BATCH)
    duration = rng.integers(DURATION_MIN_MS, DURATION_MAX_MS, COMPROMISES_PER_BATCH)
    lo = np.searchsorted(visits.key, visits.key[start], side="left")
    hi = np.searchsorted(visits.key, visits.key[start] + duration, side="left")
    compromise, offset = positions_in_events(hi - lo)
    visit = visits.rows[lo[compromise] + offset]
    charged = rng.random(len(visit)) < VICTIM_SHARE
    compromise, visit = compromise[charged], visit[charged]
    ts_ms = (
        legit.ts_ms[visit]
        + rng.integers(1, MAX_DAYS_LATER + 1, len(visit)) * DAY_MS
        + rng.integers(-TIME_JITTER_MS, TIME_JITTER_MS + 1, len(visit))
    )
    inside = ts_ms < config.end_ms
    compromise, visit, ts_ms = compromise[inside], visit[inside], ts_ms[inside]
    keep = np.sort(rng.permutation(len(visit))[:budget])
    compromise, visit, ts_ms = compromise[keep], visit[keep], ts_ms[keep]
    # an ordinary amount: that of another honest visit at the same terminal in the period
    n_visits = (hi - lo)[compromise]
    other = visits.rows[lo[compromise] + rng.integers(0, np.maximum(n_visits, 1))]
    context.victimised[legit.customer[visit]] = True
    n = len(visit)
    return Draft(
        customer=legit.customer[visit],
        ts_ms=ts_ms.astype(np.int64),
        amount=legit.amount[other],
        merchant=legit.merchant[visit],
        device=np.full(n, TERMINAL, dtype=np.int64),
        lat=legit.lat[visit],
        lon=legit.lon[visit],
        pattern=np.full(n, code, dtype=np.int8),
    )
