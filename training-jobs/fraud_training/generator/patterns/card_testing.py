"""Card testing: a fraudster checks that stolen card details work, then cashes out.

A burst of 3-10 tiny online authorisations (0.50-5.00) at app-store and game merchants within
minutes, from a device the card holder never used, then one large online purchase. Honest
gamers also buy small items in bursts, but on their own device at their usual store.
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
from fraud_training.generator.population import (
    CATEGORY_INDEX,
    MICRO_CATEGORIES,
    draw_online_merchants,
)

NAME = "card_testing"
MIN_TESTS, MAX_TESTS = 3, 10
TEST_GAP_MEAN_MS = 45_000
CASH_OUT_DELAY_MEAN_MS = 40 * 60_000
CASH_OUT_CATEGORIES = np.array(
    [CATEGORY_INDEX[c] for c in ("electronics", "retail", "travel", "jewelry")]
)
#: Share of events where the fraudster connects from the victim's own country.
DOMESTIC_PROXY_SHARE = 0.3
#: Share of events whose tests all hit one merchant (the rest spread over several).
SAME_MERCHANT_SHARE = 0.7


def generate(context: FraudContext, rows: int, code: int) -> Draft:
    """``rows`` card-testing rows: bursts of tests, each closed by a cash-out purchase."""
    rng = context.rng
    sizes = event_sizes(rng, rows, MIN_TESTS + 1, MAX_TESTS + 1)
    event, step = positions_in_events(sizes)
    n_events = len(sizes)
    victim, earliest = context.victims(n_events, duration_ms=6 * HOUR_MS)
    start = context.event_starts(victim, earliest, duration_ms=6 * HOUR_MS)
    cash_out = step == sizes[event] - 1
    gap = np.where(
        cash_out,
        5 * 60_000 + rng.exponential(CASH_OUT_DELAY_MEAN_MS, len(step)),
        5_000 + rng.exponential(TEST_GAP_MEAN_MS, len(step)),
    ).astype(np.int64)
    customer = victim[event]

    customers = context.population.customers
    tested_category = rng.choice(MICRO_CATEGORIES, size=n_events)
    category = np.where(
        cash_out, rng.choice(CASH_OUT_CATEGORIES, size=len(step)), tested_category[event]
    )
    merchant = draw_online_merchants(
        rng, context.population.merchants, category, customers.country_number[customer]
    )
    same_store = rng.random(n_events) < SAME_MERCHANT_SHARE
    first_merchant = merchant[np.flatnonzero(step == 0)]
    merchant = np.where(same_store[event] & ~cash_out, first_merchant[event], merchant)

    city = context.fraudster_cities(victim)
    domestic = rng.random(n_events) < DOMESTIC_PROXY_SHARE
    lat = np.where(domestic, customers.home_lat[victim], CITIES.lat[city])
    lon = np.where(domestic, customers.home_lon[victim], CITIES.lon[city])
    lat, lon = context.near(lat[event], lon[event], 0.05)

    amount = np.where(
        cash_out, rng.lognormal(np.log(350.0), 0.7, len(step)), rng.uniform(0.5, 5.0, len(step))
    )
    return Draft(
        customer=customer,
        ts_ms=context.row_times(start, gap, event, step),
        amount=cents(amount),
        merchant=merchant,
        device=context.new_devices(n_events)[event],
        lat=lat,
        lon=lon,
        pattern=np.full(len(step), code, dtype=np.int8),
    )
