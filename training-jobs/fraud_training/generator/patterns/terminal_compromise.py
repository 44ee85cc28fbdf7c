"""Terminal compromise: a shop's terminal is taken over for weeks and charges its cards again.

A tampered or colluding point-of-sale terminal keeps the card data of a share of the cards that
pay at it while the compromise lasts (two to four weeks) and charges each of them once more, at
the same terminal, some time later in the compromise: at a moment when honest cards pay there too
and with an amount like the terminal's ordinary ones. For the card this is a shop it paid at
before, an ordinary amount and one of the shop's ordinary hours, at no fixed distance from its
own visit: neither the card's own history nor the card x merchant history gives it away. The
merchant's side does: its volume and its count of distinct cards rise against its own past while
the compromise lasts and, once the first frauds are confirmed (after the label delay), so does
its fraud rate. ``benchmarks/bench_quality.py`` measures this family with and without the
merchant-side features.
"""

from __future__ import annotations

import numpy as np

from fraud_training.generator.config import DAY_MS
from fraud_training.generator.draft import TERMINAL, Draft
from fraud_training.generator.patterns.context import FraudContext, positions_in_events

NAME = "terminal_compromise"
DURATION_MIN_MS, DURATION_MAX_MS = 14 * DAY_MS, 28 * DAY_MS
#: Share of the cards paying at a compromised terminal that are charged again.
VICTIM_SHARE = 0.8
TIME_JITTER_MS = 10 * 60_000
#: Draws of a later visit by another card before a victim is given up.
SLOT_DRAWS = 4
COMPROMISES_PER_BATCH = 16
MAX_EMPTY_BATCHES = 1_000


def generate(context: FraudContext, rows: int, code: int) -> Draft:
    """``rows`` charges at compromised terminals (compromises drawn until filled)."""
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
        legit = context.legit
        in_store = np.flatnonzero(~context.population.merchants.online[legit.merchant])
        self.rows = in_store[np.lexsort((legit.ts_ms[in_store], legit.merchant[in_store]))]
        #: Keys of one merchant's visits lie in [merchant * span, (merchant + 1) * span).
        self.span = context.config.end_ms - context.config.start_ms + 1
        self.key = legit.merchant[self.rows] * self.span + (
            legit.ts_ms[self.rows] - context.config.start_ms
        )
        latest_start = context.config.end_ms - DAY_MS
        self.startable = np.flatnonzero(legit.ts_ms[self.rows] < latest_start)
        if len(self.startable) == 0:
            raise ValueError("the period is too short for a terminal compromise")


def _compromise_batch(
    context: FraudContext, visits: _TerminalVisits, budget: int, code: int
) -> Draft:
    """Up to ``budget`` fraud rows from one batch of compromised terminals."""
    rng, legit = context.rng, context.legit
    start = rng.choice(visits.startable, size=COMPROMISES_PER_BATCH)
    duration = rng.integers(DURATION_MIN_MS, DURATION_MAX_MS, COMPROMISES_PER_BATCH)
    lo = np.searchsorted(visits.key, visits.key[start], side="left")
    merchant_end = (visits.key[start] // visits.span + 1) * visits.span
    end = np.minimum(visits.key[start] + duration, merchant_end)
    hi = np.searchsorted(visits.key, end, side="left")
    compromise, offset = positions_in_events(hi - lo)
    position = lo[compromise] + offset
    later = hi[compromise] - position - 1
    charged = (rng.random(len(position)) < VICTIM_SHARE) & (later > 0)
    compromise, position, later = compromise[charged], position[charged], later[charged]
    slot = _another_cards_later_visit(context, visits, position, later)
    found = slot >= 0
    compromise, position, slot = compromise[found], position[found], slot[found]
    keep = np.sort(rng.permutation(len(position))[:budget])
    compromise, position, slot = compromise[keep], position[keep], slot[keep]
    visit = visits.rows[position]
    jitter = rng.integers(-TIME_JITTER_MS, TIME_JITTER_MS + 1, len(visit))
    ts_ms = np.maximum(legit.ts_ms[slot] + jitter, legit.ts_ms[visit] + 1)
    ts_ms = np.minimum(ts_ms, context.config.end_ms - 1)
    # an ordinary amount: that of another honest visit at the same terminal in the compromise
    other = visits.rows[lo[compromise] + rng.integers(0, (hi - lo)[compromise])]
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


def _another_cards_later_visit(
    context: FraudContext, visits: _TerminalVisits, position: np.ndarray, later: np.ndarray
) -> np.ndarray:
    """For each victim's visit (a ``position`` in ``visits`` with ``later`` visits after it in
    the compromise): the row of a later honest visit there by another card, the moment the
    charge is slipped in among the shop's own payments; -1 where draws found none. Never the
    card's own later visit: a charge minutes from it would be a double charge, not a quiet one."""
    customer = context.legit.customer
    slot = np.full(len(position), -1, dtype=np.int64)
    for _ in range(SLOT_DRAWS):
        open_ = slot < 0
        drawn = position[open_] + 1 + (context.rng.random(int(open_.sum())) * later[open_])
        candidate = visits.rows[drawn.astype(np.int64)]
        other = customer[candidate] != customer[visits.rows[position[open_]]]
        slot[np.flatnonzero(open_)[other]] = candidate[other]
    return slot
