"""Merchant compromise: card data stolen at one merchant is used days later by a ring.

A breached merchant (a skimmer on the terminal, malware at the till) exposes every card used
there for a couple of days. After a few dormant days, while the data is sold on, the cards are
used in a short window: online with the ring's devices, or as cloned cards in shops abroad.
Each victim's card is used one to three times. Per customer this looks like travel or a new
favourite shop; what gives it away is the combination (new merchant, new device or a foreign
city, velocity, amount) on cards that share nothing visible in their own history.
"""

from __future__ import annotations

import numpy as np

from fraud_training.generator.config import DAY_MS
from fraud_training.generator.draft import TERMINAL, Draft, cents
from fraud_training.generator.geography import CITIES
from fraud_training.generator.patterns.context import (
    FraudContext,
    positions_in_events,
)
from fraud_training.generator.population import (
    CATEGORY_INDEX,
    N_CATEGORIES,
    draw_online_merchants,
)

NAME = "merchant_compromise"
EXPOSURE_MS = 2 * DAY_MS
DORMANCY_MIN_MS, DORMANCY_MAX_MS = 1 * DAY_MS, 4 * DAY_MS
USE_WINDOW_MS = DAY_MS
MAX_USES_PER_CARD = 3
USE_GAP_MEAN_MS = 30 * 60_000
#: Share of breaches whose cards are cloned and used in shops abroad (the rest: online).
COUNTERFEIT_SHARE = 0.4
RING_DEVICES = 3
TARGET_CATEGORIES = np.array(
    [CATEGORY_INDEX[c] for c in ("electronics", "retail", "jewelry", "travel", "entertainment")]
)
TARGET_WEIGHTS = np.array([0.35, 0.3, 0.1, 0.15, 0.1])
AMOUNT_MEDIAN, AMOUNT_SIGMA = 160.0, 0.8
BREACHES_PER_BATCH = 64


def generate(context: FraudContext, rows: int, code: int) -> Draft:
    """``rows`` uses of cards exposed at breached merchants (breaches drawn until filled)."""
    exposures = _Exposures(context)
    batches: list[Draft] = []
    remaining = rows
    while remaining > 0:
        batch = _breach_batch(context, exposures, remaining, code)
        batches.append(batch)
        remaining -= len(batch)
    return Draft.concat(batches) if batches else Draft.empty()


class _Exposures:
    """The honest card-present visits, sorted by merchant then time, to find who was exposed."""

    def __init__(self, context: FraudContext) -> None:
        legit, merchants = context.legit, context.population.merchants
        config = context.config
        in_store = np.flatnonzero(~merchants.online[legit.merchant])
        order = in_store[np.lexsort((legit.ts_ms[in_store], legit.merchant[in_store]))]
        self.span = config.end_ms - config.start_ms + 1
        self.merchant = legit.merchant[order]
        self.customer = legit.customer[order]
        self.key = self.merchant * self.span + (legit.ts_ms[order] - config.start_ms)
        latest_breach = config.end_ms - EXPOSURE_MS - DORMANCY_MAX_MS - USE_WINDOW_MS
        self.breachable = np.flatnonzero(legit.ts_ms[order] < latest_breach)
        if len(self.breachable) == 0:
            raise ValueError("the period is too short for a merchant compromise")

    def exposed(self, breach: np.ndarray, n_customers: int) -> tuple[np.ndarray, np.ndarray]:
        """For each breach (a position in the sorted visits): the customers exposed, as
        (breach number, customer) pairs, each customer once per breach."""
        low = self.key[breach]
        lo = np.searchsorted(self.key, low, side="left")
        hi = np.searchsorted(self.key, low + EXPOSURE_MS, side="left")
        breach_number, offset = positions_in_events(hi - lo)
        customer = self.customer[lo[breach_number] + offset]
        pairs = np.unique(breach_number * n_customers + customer)
        return pairs // n_customers, pairs % n_customers


def _breach_batch(context: FraudContext, exposures: _Exposures, budget: int, code: int) -> Draft:
    """Up to ``budget`` fraud rows from one batch of breaches."""
    rng, config = context.rng, context.config
    customers, merchants = context.population.customers, context.population.merchants
    breach = rng.choice(exposures.breachable, size=BREACHES_PER_BATCH)
    breach_number, victim = exposures.exposed(breach, len(customers))
    uses = rng.integers(1, MAX_USES_PER_CARD + 1, len(victim))
    keep = np.cumsum(uses) - uses < budget
    breach_number, victim, uses = breach_number[keep], victim[keep], uses[keep]
    if len(uses):
        uses[-1] -= max(0, int(uses.sum()) - budget)
    context.victimised[victim] = True

    breached_ms = config.start_ms + exposures.key[breach] % exposures.span
    use_from = (
        breached_ms + EXPOSURE_MS + rng.integers(DORMANCY_MIN_MS, DORMANCY_MAX_MS, len(breach))
    )
    first_use = use_from[breach_number] + rng.integers(0, USE_WINDOW_MS, len(victim))
    card, step = positions_in_events(uses)
    n = len(card)
    gap = (2 * 60_000 + rng.exponential(USE_GAP_MEAN_MS, n)).astype(np.int64)
    ts_ms = context.row_times(first_use, gap, card, step)

    row_breach = breach_number[card]
    customer = victim[card]
    category = rng.choice(TARGET_CATEGORIES, size=n, p=TARGET_WEIGHTS)
    counterfeit = (rng.random(len(breach)) < COUNTERFEIT_SHARE)[row_breach]
    ring_city = CITIES.foreign_city(rng, merchants.country[exposures.merchant[breach]])
    merchant = draw_online_merchants(rng, merchants, category, customers.country_number[customer])
    in_store = merchants.in_store_groups.draw(
        rng, ring_city[row_breach][counterfeit] * N_CATEGORIES + category[counterfeit]
    )
    merchant[counterfeit] = in_store

    ring_device = context.new_devices(len(breach) * RING_DEVICES).reshape(-1, RING_DEVICES)
    device = ring_device[row_breach, rng.integers(0, RING_DEVICES, n)]
    lat, lon = context.near(
        CITIES.lat[ring_city][row_breach], CITIES.lon[ring_city][row_breach], 0.05
    )
    return Draft(
        customer=customer,
        ts_ms=ts_ms,
        amount=cents(rng.lognormal(np.log(AMOUNT_MEDIAN), AMOUNT_SIGMA, n)),
        merchant=merchant,
        device=np.where(counterfeit, TERMINAL, device),
        lat=np.where(counterfeit, merchants.lat[merchant], lat),
        lon=np.where(counterfeit, merchants.lon[merchant], lon),
        pattern=np.full(n, code, dtype=np.int8),
    )
