"""The card holders and merchants of the synthetic issuer, as parallel arrays.

Customers carry what makes their stream *theirs*: a home, a daily rhythm in local time, preferred
categories, a spending level, favourite merchants, their devices (a home device, sometimes a
second one, sometimes a new phone bought mid-period) and possibly a trip. Merchants are in-store
(in a city, with a location) or online (in a country, selling domestically or, for the
global ones, across borders). Both patterns and legit behaviour draw from the same population, so
fraud lands on real customers' streams.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraud_training.generator.config import DAY_MS, GeneratorConfig
from fraud_training.generator.geography import CITIES, GLOBAL_ONLINE_COUNTRIES
from fraud_training.schema import CATEGORIES

N_CATEGORIES = len(CATEGORIES)


def category_array(values: dict[str, float]) -> np.ndarray:
    """A per-category table as an array in :data:`CATEGORIES` order (every category named once)."""
    if set(values) != set(CATEGORIES):
        raise ValueError(f"category table must name every category exactly: {sorted(values)}")
    return np.array([values[name] for name in CATEGORIES], dtype=np.float64)


#: How often an average customer buys in each category.
CATEGORY_FREQUENCY = category_array(
    {
        "grocery": 0.22,
        "restaurant": 0.15,
        "fuel": 0.08,
        "retail": 0.14,
        "electronics": 0.03,
        "travel": 0.025,
        "entertainment": 0.07,
        "health": 0.05,
        "utilities": 0.05,
        "digital_goods": 0.08,
        "jewelry": 0.006,
        "gaming": 0.04,
    }
)
#: Probability that a purchase in the category is made online (fuel never, apps always).
ONLINE_SHARE = category_array(
    {
        "grocery": 0.06,
        "restaurant": 0.12,
        "fuel": 0.0,
        "retail": 0.35,
        "electronics": 0.55,
        "travel": 0.8,
        "entertainment": 0.5,
        "health": 0.15,
        "utilities": 0.9,
        "digital_goods": 1.0,
        "jewelry": 0.15,
        "gaming": 1.0,
    }
)
CATEGORY_INDEX = {name: i for i, name in enumerate(CATEGORIES)}
MICRO_CATEGORIES = np.array([CATEGORY_INDEX["digital_goods"], CATEGORY_INDEX["gaming"]])

FAVOURITES_PER_CUSTOMER = 8
GAMER_SHARE = 0.15
NIGHT_OWL_SHARE = 0.12
SECOND_DEVICE_SHARE = 0.25
NEW_PHONE_PER_30_DAYS = 0.06
TRIPS_PER_30_DAYS = 0.18
#: Merchant weight of a city nobody lives in (visitors and fraudsters still shop there).
VISITOR_CITY_WEIGHT = 0.3
FOREIGN_TRIP_SHARE = 0.75
#: Never: a sentinel time after any period, for "no new phone" and "no trip".
NEVER_MS = np.iinfo(np.int64).max // 2


@dataclass(frozen=True)
class Merchants:
    """Every merchant; in-store ones have a city and a location, online ones only a country."""

    category: np.ndarray
    country: np.ndarray
    lat: np.ndarray  # NaN for online merchants
    lon: np.ndarray
    online: np.ndarray
    in_store_groups: MerchantGroups  # key: city * N_CATEGORIES + category
    domestic_online_groups: MerchantGroups  # key: home-country number * N_CATEGORIES + category
    global_online_groups: MerchantGroups  # key: category


@dataclass(frozen=True)
class MerchantGroups:
    """Merchants grouped by an integer key, to draw one uniformly from a group in bulk."""

    members: np.ndarray  # merchant numbers sorted by key
    start: np.ndarray  # per key: first position in members
    size: np.ndarray  # per key: how many members

    @classmethod
    def of(cls, keys: np.ndarray, merchant: np.ndarray, n_keys: int) -> MerchantGroups:
        order = np.argsort(keys, kind="stable")
        size = np.bincount(keys, minlength=n_keys)
        start = np.concatenate(([0], np.cumsum(size)[:-1]))
        return cls(members=merchant[order], start=start, size=size)

    def draw(self, rng: np.random.Generator, keys: np.ndarray) -> np.ndarray:
        """One uniformly drawn member of each key's group (every group asked for is non-empty)."""
        keys = np.asarray(keys, dtype=np.int64)
        if np.any(self.size[keys] == 0):
            raise ValueError("drew from an empty merchant group")
        offset = np.floor(rng.random(len(keys)) * self.size[keys]).astype(np.int64)
        return self.members[self.start[keys] + offset]


@dataclass(frozen=True)
class Customers:
    """Every card holder; the index of a customer is its number in all arrays."""

    city: np.ndarray
    country: np.ndarray
    country_number: np.ndarray  # index into the home-country list, for merchant groups
    home_lat: np.ndarray
    home_lon: np.ndarray
    utc_offset_h: np.ndarray
    activity: np.ndarray  # relative transaction rate
    level: np.ndarray  # spending multiplier
    rhythm_center_h: np.ndarray  # local hour around which the customer shops
    rhythm_spread_h: np.ndarray
    category_cdf: np.ndarray  # customers x categories, cumulative preference
    online_propensity: np.ndarray
    is_gamer: np.ndarray
    favourites: np.ndarray  # customers x FAVOURITES_PER_CUSTOMER merchant numbers
    micro_merchant: np.ndarray  # the app store / game the customer buys small items from
    home_device: np.ndarray
    second_device: np.ndarray  # -1 for none
    new_phone_device: np.ndarray
    new_phone_at_ms: np.ndarray  # NEVER_MS for no new phone
    trip_city: np.ndarray  # -1 for no trip
    trip_start_ms: np.ndarray
    trip_end_ms: np.ndarray

    def __len__(self) -> int:
        return len(self.city)

    def draw_categories(self, rng: np.random.Generator, customer: np.ndarray) -> np.ndarray:
        """A category per row, from each row's customer's preferences."""
        return draw_categories(rng, self.category_cdf[customer])


@dataclass(frozen=True)
class Population:
    """Customers and merchants, plus the first device code free for fraudsters."""

    customers: Customers
    merchants: Merchants
    first_free_device: int


def draw_categories(rng: np.random.Generator, category_cdf: np.ndarray) -> np.ndarray:
    """A category per row of cumulative preferences (rows x categories), by inverse CDF."""
    u = rng.random(len(category_cdf))[:, None]
    return np.minimum((u > category_cdf).sum(axis=1), N_CATEGORIES - 1)


def build_population(config: GeneratorConfig, rng: np.random.Generator) -> Population:
    """Draw merchants, then customers who live among them."""
    merchants = _build_merchants(config, rng)
    customers = _build_customers(config, rng, merchants)
    return Population(customers, merchants, first_free_device=3 * len(customers))


def _home_country_numbers(country: np.ndarray) -> np.ndarray:
    """Each home country's position in the (sorted) home-country list."""
    return np.searchsorted(np.array(CITIES.home_countries), country).astype(np.int64)


def _build_merchants(config: GeneratorConfig, rng: np.random.Generator) -> Merchants:
    """In-store merchants in every city (visitors shop too), online ones per country."""
    n_cities = len(CITIES.name)
    city_weight = np.where(CITIES.resident_weight > 0, CITIES.resident_weight, VISITOR_CITY_WEIGHT)
    city_share = city_weight / city_weight.sum()
    in_store_share = CATEGORY_FREQUENCY * (1.0 - ONLINE_SHARE)
    in_store_share /= in_store_share.sum()
    total_in_store = int(np.clip(config.n_customers // 2, 400, 40_000))
    per_group = np.maximum(
        2, np.rint(total_in_store * np.outer(city_share, in_store_share)).astype(np.int64)
    )
    per_group[:, ONLINE_SHARE >= 1.0] = 0
    counts = per_group.ravel()
    in_store_city = np.repeat(np.repeat(np.arange(n_cities), N_CATEGORIES), counts)
    in_store_category = np.repeat(np.tile(np.arange(N_CATEGORIES), n_cities), counts)
    n_in_store = len(in_store_city)

    home_countries = np.array(CITIES.home_countries)
    online_categories = np.flatnonzero(ONLINE_SHARE > 0)
    domestic_per_group = 3
    domestic_country = np.repeat(home_countries, len(online_categories) * domestic_per_group)
    domestic_category = np.tile(
        np.repeat(online_categories, domestic_per_group), len(home_countries)
    )
    global_per_category = 6
    global_category = np.repeat(online_categories, global_per_category)
    global_country = rng.choice(np.array(GLOBAL_ONLINE_COUNTRIES), size=len(global_category))
    n_domestic = len(domestic_category)

    category = np.concatenate((in_store_category, domestic_category, global_category))
    country = np.concatenate((CITIES.country[in_store_city], domestic_country, global_country))
    lat = np.full(len(category), np.nan)
    lon = np.full(len(category), np.nan)
    lat[:n_in_store] = np.round(CITIES.lat[in_store_city] + rng.normal(0, 0.05, n_in_store), 6)
    lon[:n_in_store] = np.round(CITIES.lon[in_store_city] + rng.normal(0, 0.07, n_in_store), 6)
    online = np.arange(len(category)) >= n_in_store

    number = np.arange(len(category))
    domestic = number[n_in_store : n_in_store + n_domestic]
    return Merchants(
        category=category,
        country=country,
        lat=lat,
        lon=lon,
        online=online,
        in_store_groups=MerchantGroups.of(
            in_store_city * N_CATEGORIES + in_store_category,
            number[:n_in_store],
            n_cities * N_CATEGORIES,
        ),
        domestic_online_groups=MerchantGroups.of(
            _home_country_numbers(domestic_country) * N_CATEGORIES + domestic_category,
            domestic,
            len(home_countries) * N_CATEGORIES,
        ),
        global_online_groups=MerchantGroups.of(
            global_category, number[n_in_store + n_domestic :], N_CATEGORIES
        ),
    )


def draw_merchants(
    rng: np.random.Generator,
    merchants: Merchants,
    category: np.ndarray,
    online: np.ndarray,
    city: np.ndarray,
    country_number: np.ndarray,
    domestic_online_share: float = 0.65,
) -> np.ndarray:
    """A merchant per row: in-store in ``city``, or online, at home or with a global seller."""
    chosen = np.empty(len(category), dtype=np.int64)
    in_store = ~online
    chosen[in_store] = merchants.in_store_groups.draw(
        rng, city[in_store] * N_CATEGORIES + category[in_store]
    )
    chosen[online] = draw_online_merchants(
        rng, merchants, category[online], country_number[online], domestic_online_share
    )
    return chosen


def draw_online_merchants(
    rng: np.random.Generator,
    merchants: Merchants,
    category: np.ndarray,
    country_number: np.ndarray,
    domestic_share: float = 0.65,
) -> np.ndarray:
    """An online merchant per row: one of the home country's, or a global seller."""
    domestic = rng.random(len(category)) < domestic_share
    chosen = merchants.global_online_groups.draw(rng, category)
    chosen[domestic] = merchants.domestic_online_groups.draw(
        rng, country_number[domestic] * N_CATEGORIES + category[domestic]
    )
    return chosen


def draw_online(
    rng: np.random.Generator, category: np.ndarray, propensity: np.ndarray
) -> np.ndarray:
    """Whether each purchase is online, from its category and the customer's propensity."""
    share = np.clip(ONLINE_SHARE[category] * propensity, 0.0, 1.0)
    share = np.where(ONLINE_SHARE[category] >= 1.0, 1.0, share)
    share = np.where(ONLINE_SHARE[category] <= 0.0, 0.0, share)
    return rng.random(len(category)) < share


def _build_customers(
    config: GeneratorConfig, rng: np.random.Generator, merchants: Merchants
) -> Customers:
    n = config.n_customers
    residential = CITIES.residential
    weight = CITIES.resident_weight[residential]
    city = rng.choice(residential, size=n, p=weight / weight.sum())
    country = CITIES.country[city]
    country_number = _home_country_numbers(country)

    night_owl = rng.random(n) < NIGHT_OWL_SHARE
    rhythm_center = np.where(night_owl, rng.normal(22.5, 1.2, n), rng.normal(13.5, 2.0, n))
    is_gamer = rng.random(n) < GAMER_SHARE
    preference = rng.gamma(CATEGORY_FREQUENCY * 25.0, size=(n, N_CATEGORIES))
    preference[np.ix_(is_gamer, MICRO_CATEGORIES)] *= 3.0
    preference /= preference.sum(axis=1, keepdims=True)
    category_cdf = np.cumsum(preference, axis=1)
    online_propensity = rng.lognormal(0.0, 0.4, n)

    favourite_customer = np.repeat(np.arange(n), FAVOURITES_PER_CUSTOMER)
    favourite_category = draw_categories(rng, category_cdf[favourite_customer])
    favourite_online = draw_online(rng, favourite_category, online_propensity[favourite_customer])
    favourites = draw_merchants(
        rng,
        merchants,
        favourite_category,
        favourite_online,
        city[favourite_customer],
        country_number[favourite_customer],
        domestic_online_share=0.8,
    ).reshape(n, FAVOURITES_PER_CUSTOMER)
    micro_category = rng.choice(MICRO_CATEGORIES, size=n)
    micro_merchant = draw_merchants(
        rng, merchants, micro_category, np.ones(n, dtype=bool), city, country_number
    )

    period_ms = config.end_ms - config.start_ms
    scale = config.days / 30.0
    customer = np.arange(n, dtype=np.int64)
    has_second = rng.random(n) < SECOND_DEVICE_SHARE
    buys_phone = rng.random(n) < min(0.5, NEW_PHONE_PER_30_DAYS * scale)
    travels = rng.random(n) < min(0.8, TRIPS_PER_30_DAYS * scale)
    trip_start = config.start_ms + (rng.random(n) * period_ms).astype(np.int64)
    trip_days = rng.integers(2, 10, n)
    foreign_trip = rng.random(n) < FOREIGN_TRIP_SHARE
    domestic_trip = rng.choice(residential, size=n)
    trip_city = np.where(foreign_trip, CITIES.foreign_city(rng, country), domestic_trip)

    return Customers(
        city=city,
        country=country,
        country_number=country_number,
        home_lat=np.round(CITIES.lat[city] + rng.normal(0, 0.05, n), 6),
        home_lon=np.round(CITIES.lon[city] + rng.normal(0, 0.07, n), 6),
        utc_offset_h=CITIES.utc_offset_h[city],
        activity=rng.lognormal(0.0, 0.6, n),
        level=rng.lognormal(0.0, 0.45, n),
        rhythm_center_h=np.mod(rhythm_center, 24.0),
        rhythm_spread_h=rng.uniform(1.5, 3.5, n),
        category_cdf=category_cdf,
        online_propensity=online_propensity,
        is_gamer=is_gamer,
        favourites=favourites,
        micro_merchant=micro_merchant,
        home_device=customer,
        second_device=np.where(has_second, n + customer, -1),
        new_phone_device=2 * n + customer,
        new_phone_at_ms=np.where(
            buys_phone,
            config.start_ms + (rng.random(n) * period_ms).astype(np.int64),
            NEVER_MS,
        ),
        trip_city=np.where(travels, trip_city, -1),
        trip_start_ms=np.where(travels, trip_start, NEVER_MS),
        trip_end_ms=np.where(travels, trip_start + trip_days * DAY_MS, NEVER_MS),
    )
