"""Legit behaviour: what the issuer's honest card holders do, built with array operations.

The stream is deliberately *not* clean: honest customers travel (days abroad at merchants they
never used), buy new phones (a new device), make occasional big purchases, buy apps and in-game
items in quick bursts of small amounts, shop at night, and sometimes appear far away online because
their connection geolocates badly (VPNs, mobile carriers). Each of these looks like one of the
fraud patterns on one feature, which is what keeps any single feature from separating fraud.
"""

from __future__ import annotations

import numpy as np

from fraud_training.generator.config import DAY_MS, GeneratorConfig
from fraud_training.generator.draft import TERMINAL, Draft, cents
from fraud_training.generator.geography import CITIES
from fraud_training.generator.population import (
    CATEGORY_INDEX,
    FAVOURITES_PER_CUSTOMER,
    Customers,
    Population,
    category_array,
    draw_merchants,
    draw_online,
)

#: Share of a gamer's purchases that are in-app micro-purchases (which come in bursts).
MICRO_SHARE_OF_GAMER_ROWS = 0.3
#: Probability that a purchase follows the previous one in the same session (mall, app).
SESSION_CONTINUE = 0.22
MICRO_SESSION_CONTINUE = 0.72
#: Mean minutes between purchases of one session.
SESSION_GAP_MINUTES = 18.0
MICRO_GAP_MINUTES = 3.0
MIN_GAP_MS = 20_000
#: Probability that a purchase goes to one of the customer's favourite merchants.
FAVOURITE_SHARE = 0.62
#: Favourite k is used in proportion to 1 / (k + 1): a few places take most visits.
FAVOURITE_WEIGHTS = 1.0 / np.arange(1, FAVOURITES_PER_CUSTOMER + 1)
NIGHT_SHOPPING_SHARE = 0.04
VPN_SHARE = 0.02
SECOND_DEVICE_USE = 0.3
#: Online device location noise around where the customer is, degrees.
DEVICE_NOISE_DEG = 0.03

AMOUNT_MEDIAN = category_array(
    {
        "grocery": 32.0,
        "restaurant": 28.0,
        "fuel": 55.0,
        "retail": 45.0,
        "electronics": 110.0,
        "travel": 220.0,
        "entertainment": 22.0,
        "health": 30.0,
        "utilities": 75.0,
        "digital_goods": 9.0,
        "jewelry": 180.0,
        "gaming": 14.0,
    }
)
AMOUNT_SIGMA = category_array(
    {
        "grocery": 0.7,
        "restaurant": 0.6,
        "fuel": 0.35,
        "retail": 0.8,
        "electronics": 0.9,
        "travel": 0.8,
        "entertainment": 0.7,
        "health": 0.7,
        "utilities": 0.5,
        "digital_goods": 0.8,
        "jewelry": 0.8,
        "gaming": 0.8,
    }
)
#: Categories where an honest customer now and then spends far above their usual.
BIG_TICKET = np.array([CATEGORY_INDEX[c] for c in ("electronics", "travel", "jewelry", "retail")])
BIG_PURCHASE_SHARE = 0.06
MICRO_PRICES = np.array([0.99, 1.99, 2.99, 4.99, 9.99, 19.99])
MICRO_PRICE_WEIGHTS = np.array([0.3, 0.2, 0.15, 0.2, 0.1, 0.05])


def legit_transactions(
    population: Population, config: GeneratorConfig, rng: np.random.Generator, rows: int
) -> Draft:
    """Exactly ``rows`` honest transactions, grouped by customer (not yet sorted by time)."""
    customers = population.customers
    counts = rng.multinomial(rows, customers.activity / customers.activity.sum())
    customer = np.repeat(np.arange(len(customers)), counts)
    micro = customers.is_gamer[customer] & (rng.random(rows) < MICRO_SHARE_OF_GAMER_ROWS)
    order = np.lexsort((micro, customer))
    customer, micro = customer[order], micro[order]

    ts_ms = _timestamps(customers, config, rng, customer, micro)
    on_trip = (ts_ms >= customers.trip_start_ms[customer]) & (
        ts_ms < customers.trip_end_ms[customer]
    )
    city = np.where(on_trip, customers.trip_city[customer], customers.city[customer])
    merchant = _merchants(population, rng, customer, micro, city, on_trip)
    online = population.merchants.online[merchant]
    lat, lon = _locations(population, rng, customer, merchant, online, city, on_trip)
    return Draft(
        customer=customer,
        ts_ms=ts_ms,
        amount=_amounts(population, rng, customer, merchant, micro),
        merchant=merchant,
        device=_devices(customers, rng, customer, ts_ms, online),
        lat=lat,
        lon=lon,
        pattern=np.zeros(rows, dtype=np.int8),
    )


def _local_hours(
    customers: Customers, rng: np.random.Generator, customer: np.ndarray
) -> np.ndarray:
    """Local hour of day of each purchase: the customer's rhythm, or any hour now and then."""
    n = len(customer)
    spread = customers.rhythm_spread_h[customer]
    rhythm = customers.rhythm_center_h[customer] + rng.normal(0.0, 1.0, n) * spread
    anytime = rng.random(n) < NIGHT_SHOPPING_SHARE
    return np.mod(np.where(anytime, rng.uniform(0.0, 24.0, n), rhythm), 24.0)


def _timestamps(
    customers: Customers,
    config: GeneratorConfig,
    rng: np.random.Generator,
    customer: np.ndarray,
    micro: np.ndarray,
) -> np.ndarray:
    """Sessions of purchases: an anchor time from the customer's rhythm, then short gaps. A
    session that would run past the period moves back by whole days (same time of day)."""
    n = len(customer)
    continues = rng.random(n) < np.where(micro, MICRO_SESSION_CONTINUE, SESSION_CONTINUE)
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (customer[1:] != customer[:-1]) | (micro[1:] != micro[:-1])
    starts = new_group | ~continues
    session = np.cumsum(starts) - 1
    anchors = np.flatnonzero(starts)

    anchor_customer = customer[anchors]
    day = rng.integers(0, config.days, len(anchors))
    utc_hour = np.mod(
        _local_hours(customers, rng, anchor_customer) - customers.utc_offset_h[anchor_customer],
        24.0,
    )
    anchor_ms = config.start_ms + day * DAY_MS + (utc_hour * 3_600_000).astype(np.int64)

    mean_gap_ms = np.where(micro, MICRO_GAP_MINUTES, SESSION_GAP_MINUTES) * 60_000.0
    gap_ms = MIN_GAP_MS + rng.exponential(mean_gap_ms).astype(np.int64)
    gap_ms[starts] = 0
    elapsed = np.cumsum(gap_ms)
    elapsed -= elapsed[anchors][session]
    overrun = anchor_ms + np.maximum.reduceat(elapsed, anchors) - (config.end_ms - 1)
    anchor_ms -= DAY_MS * np.ceil(np.maximum(overrun, 0) / DAY_MS).astype(np.int64)
    return anchor_ms[session] + elapsed


def _merchants(
    population: Population,
    rng: np.random.Generator,
    customer: np.ndarray,
    micro: np.ndarray,
    city: np.ndarray,
    on_trip: np.ndarray,
) -> np.ndarray:
    """Favourites most of the time; otherwise a merchant of a preferred category where they are.

    Away from home the in-store favourites are out of reach, so a traveller's card-present
    purchases all go to merchants it never used.
    """
    customers, merchants = population.customers, population.merchants
    n = len(customer)
    category = customers.draw_categories(rng, customer)
    online = draw_online(rng, category, customers.online_propensity[customer])
    explored = draw_merchants(
        rng, merchants, category, online, city, customers.country_number[customer]
    )
    rank = rng.choice(
        FAVOURITES_PER_CUSTOMER, size=n, p=FAVOURITE_WEIGHTS / FAVOURITE_WEIGHTS.sum()
    )
    favourite = customers.favourites[customer, rank]
    reachable = merchants.online[favourite] | ~on_trip
    use_favourite = (rng.random(n) < FAVOURITE_SHARE) & reachable
    merchant = np.where(use_favourite, favourite, explored)
    return np.where(micro, customers.micro_merchant[customer], merchant)


def _devices(
    customers: Customers,
    rng: np.random.Generator,
    customer: np.ndarray,
    ts_ms: np.ndarray,
    online: np.ndarray,
) -> np.ndarray:
    """Online: the phone (the new one once bought), now and then a second device. In store: the
    merchant's terminal."""
    phone = np.where(
        ts_ms >= customers.new_phone_at_ms[customer],
        customers.new_phone_device[customer],
        customers.home_device[customer],
    )
    second = customers.second_device[customer]
    use_second = (second >= 0) & (rng.random(len(customer)) < SECOND_DEVICE_USE)
    return np.where(online, np.where(use_second, second, phone), TERMINAL)


def _locations(
    population: Population,
    rng: np.random.Generator,
    customer: np.ndarray,
    merchant: np.ndarray,
    online: np.ndarray,
    city: np.ndarray,
    on_trip: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """In store: the merchant. Online: where the customer is, or a random city behind a VPN."""
    customers, merchants = population.customers, population.merchants
    n = len(customer)
    lat = np.where(on_trip, CITIES.lat[city], customers.home_lat[customer])
    lon = np.where(on_trip, CITIES.lon[city], customers.home_lon[customer])
    vpn = rng.random(n) < VPN_SHARE
    elsewhere = rng.integers(0, len(CITIES.name), n)
    lat = np.where(vpn, CITIES.lat[elsewhere], lat) + rng.normal(0.0, DEVICE_NOISE_DEG, n)
    lon = np.where(vpn, CITIES.lon[elsewhere], lon) + rng.normal(0.0, DEVICE_NOISE_DEG, n)
    lat = np.where(online, lat, merchants.lat[merchant])
    lon = np.where(online, lon, merchants.lon[merchant])
    return np.round(lat, 6), np.round(lon, 6)


def _amounts(
    population: Population,
    rng: np.random.Generator,
    customer: np.ndarray,
    merchant: np.ndarray,
    micro: np.ndarray,
) -> np.ndarray:
    """Log-normal per category times the customer's level; sometimes a big one; app prices."""
    customers, merchants = population.customers, population.merchants
    n = len(customer)
    category = merchants.category[merchant]
    median = AMOUNT_MEDIAN[category] * customers.level[customer]
    amount = rng.lognormal(np.log(median), AMOUNT_SIGMA[category])
    big = np.isin(category, BIG_TICKET) & (rng.random(n) < BIG_PURCHASE_SHARE)
    amount = np.where(big, amount * rng.lognormal(1.3, 0.4, n), amount)
    price = rng.choice(MICRO_PRICES, size=n, p=MICRO_PRICE_WEIGHTS)
    return cents(np.where(micro, price, amount))
