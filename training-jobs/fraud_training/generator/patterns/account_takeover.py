"""Account takeover: a fraudster logs into the card holder's wallet or shop account.

From a device the customer never used, usually far from home (sometimes through a proxy in the
customer's own city), at an hour the customer is normally asleep, buying goods that resell well
for much more than the customer usually spends; sometimes a couple of purchases in one sitting.
Honest customers also buy new phones, travel, and make big purchases now and then.
"""

from __future__ import annotations

import numpy as np

from fraud_training.generator.draft import Draft, cents
from fraud_training.generator.geography import CITIES
from fraud_training.generator.patterns.context import (
    HOUR_MS,
    FraudContext,
    event_sizes,
    positions_in_events,
)
from fraud_training.generator.population import CATEGORY_INDEX, draw_online_merchants

NAME = "account_takeover"
MIN_PURCHASES, MAX_PURCHASES = 1, 3
TARGET_CATEGORIES = np.array(
    [CATEGORY_INDEX[c] for c in ("electronics", "retail", "travel", "digital_goods", "jewelry")]
)
TARGET_WEIGHTS = np.array([0.35, 0.25, 0.15, 0.15, 0.10])
#: Share of takeovers run through a proxy near the customer's home.
LOCAL_PROXY_SHARE = 0.35
#: How many times the customer's usual amount a takeover purchase is (median, log-spread).
AMOUNT_FACTOR_MEDIAN, AMOUNT_FACTOR_SIGMA = 3.5, 0.6
PURCHASE_GAP_MEAN_MS = 15 * 60_000


def generate(context: FraudContext, rows: int, code: int) -> Draft:
    """``rows`` takeover purchases in sittings of one to three."""
    rng = context.rng
    customers = context.population.customers
    sizes = event_sizes(rng, rows, MIN_PURCHASES, MAX_PURCHASES)
    event, step = positions_in_events(sizes)
    n_events, n = len(sizes), len(step)
    victim, earliest = context.victims(n_events, duration_ms=3 * HOUR_MS)
    off_hours = customers.rhythm_center_h[victim] + 12.0 + rng.normal(0.0, 2.5, n_events)
    start = context.event_starts(victim, earliest, 3 * HOUR_MS, local_hour=off_hours)
    gap = (60_000 + rng.exponential(PURCHASE_GAP_MEAN_MS, n)).astype(np.int64)
    customer = victim[event]

    category = rng.choice(TARGET_CATEGORIES, size=n, p=TARGET_WEIGHTS)
    merchant = draw_online_merchants(
        rng, context.population.merchants, category, customers.country_number[customer]
    )
    city = context.fraudster_cities(victim)
    local = rng.random(n_events) < LOCAL_PROXY_SHARE
    lat = np.where(local, customers.home_lat[victim], CITIES.lat[city])
    lon = np.where(local, customers.home_lon[victim], CITIES.lon[city])
    lat, lon = context.near(lat[event], lon[event], 0.05)

    factor = rng.lognormal(np.log(AMOUNT_FACTOR_MEDIAN), AMOUNT_FACTOR_SIGMA, n)
    amount = np.maximum(context.typical_amount[customer] * factor, rng.uniform(60.0, 150.0, n))
    return Draft(
        customer=customer,
        ts_ms=context.row_times(start, gap, event, step),
        amount=cents(amount),
        merchant=merchant,
        device=context.new_devices(n_events)[event],
        lat=lat,
        lon=lon,
        pattern=np.full(n, code, dtype=np.int8),
    )
