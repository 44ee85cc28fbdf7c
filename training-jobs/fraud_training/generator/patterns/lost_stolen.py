"""Lost or stolen card: a thief shops with the physical card before it is blocked.

In store, near the card holder's home (where the card was lost), several quick purchases at
electronics, jewelry and retail shops within an hour or two, each bigger than the last while the
card keeps working. Honest customers also shop several stores in one trip to town.
"""

from __future__ import annotations

import numpy as np

from fraud_training.generator.draft import TERMINAL, Draft, cents
from fraud_training.generator.patterns.context import (
    HOUR_MS,
    FraudContext,
    event_sizes,
    positions_in_events,
)
from fraud_training.generator.population import CATEGORY_INDEX, N_CATEGORIES

NAME = "lost_stolen"
MIN_PURCHASES, MAX_PURCHASES = 2, 6
TARGET_CATEGORIES = np.array([CATEGORY_INDEX[c] for c in ("electronics", "jewelry", "retail")])
TARGET_WEIGHTS = np.array([0.45, 0.2, 0.35])
FIRST_AMOUNT_MEDIAN = 60.0
#: Each purchase is this many times the previous one (uniform range).
GROWTH_LOW, GROWTH_HIGH = 1.2, 1.9
GAP_MEAN_MS = 12 * 60_000


def generate(context: FraudContext, rows: int, code: int) -> Draft:
    """``rows`` card-present purchases in sprees of two to six."""
    rng = context.rng
    customers, merchants = context.population.customers, context.population.merchants
    sizes = event_sizes(rng, rows, MIN_PURCHASES, MAX_PURCHASES)
    event, step = positions_in_events(sizes)
    n_events, n = len(sizes), len(step)
    victim, earliest = context.victims(n_events, duration_ms=4 * HOUR_MS)
    shop_hours = rng.uniform(9.5, 18.5, n_events)
    start = context.event_starts(victim, earliest, 4 * HOUR_MS, local_hour=shop_hours)
    gap = (3 * 60_000 + rng.exponential(GAP_MEAN_MS, n)).astype(np.int64)
    customer = victim[event]

    category = rng.choice(TARGET_CATEGORIES, size=n, p=TARGET_WEIGHTS)
    merchant = merchants.in_store_groups.draw(
        rng, customers.city[customer] * N_CATEGORIES + category
    )
    growth = rng.uniform(GROWTH_LOW, GROWTH_HIGH, n_events)
    first_amount = rng.lognormal(np.log(FIRST_AMOUNT_MEDIAN), 0.5, n_events)
    amount = first_amount[event] * growth[event] ** step * rng.uniform(0.9, 1.1, n)
    return Draft(
        customer=customer,
        ts_ms=context.row_times(start, gap, event, step),
        amount=cents(amount),
        merchant=merchant,
        device=np.full(n, TERMINAL, dtype=np.int64),
        lat=merchants.lat[merchant],
        lon=merchants.lon[merchant],
        pattern=np.full(n, code, dtype=np.int8),
    )
