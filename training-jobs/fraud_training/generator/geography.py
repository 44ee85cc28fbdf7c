"""Where card holders live, travel and where fraudsters connect from.

A fixed table of real cities: residents are drawn from the first group by population weight;
every city (including the travel-only ones) can be a trip destination or a fraudster's location.
UTC offsets are the January ones, so a customer's daily rhythm in local time lands on the right
UTC hours (the features see UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: name, country, latitude, longitude, UTC offset (hours), resident weight (0 = visitors only).
_CITY_ROWS: tuple[tuple[str, str, float, float, int, float], ...] = (
    ("Berlin", "DE", 52.520, 13.405, 1, 3.6),
    ("Hamburg", "DE", 53.551, 9.993, 1, 1.8),
    ("Munich", "DE", 48.137, 11.575, 1, 1.5),
    ("Cologne", "DE", 50.938, 6.960, 1, 1.1),
    ("Frankfurt", "DE", 50.110, 8.682, 1, 0.8),
    ("Paris", "FR", 48.857, 2.352, 1, 3.5),
    ("Lyon", "FR", 45.764, 4.836, 1, 1.2),
    ("Marseille", "FR", 43.296, 5.370, 1, 1.0),
    ("Toulouse", "FR", 43.605, 1.444, 1, 0.7),
    ("Lille", "FR", 50.629, 3.057, 1, 0.6),
    ("London", "GB", 51.507, -0.128, 0, 3.5),
    ("Manchester", "GB", 53.481, -2.243, 0, 1.1),
    ("Birmingham", "GB", 52.486, -1.890, 0, 1.0),
    ("Glasgow", "GB", 55.864, -4.252, 0, 0.6),
    ("Madrid", "ES", 40.417, -3.704, 1, 2.2),
    ("Barcelona", "ES", 41.385, 2.173, 1, 1.6),
    ("Valencia", "ES", 39.470, -0.376, 1, 0.6),
    ("Seville", "ES", 37.389, -5.984, 1, 0.5),
    ("Rome", "IT", 41.903, 12.496, 1, 1.9),
    ("Milan", "IT", 45.464, 9.190, 1, 1.4),
    ("Naples", "IT", 40.852, 14.268, 1, 0.8),
    ("Turin", "IT", 45.070, 7.687, 1, 0.6),
    ("Amsterdam", "NL", 52.370, 4.895, 1, 1.0),
    ("Rotterdam", "NL", 51.924, 4.478, 1, 0.6),
    ("Utrecht", "NL", 52.091, 5.122, 1, 0.4),
    ("New York", "US", 40.713, -74.006, -5, 2.0),
    ("Boston", "US", 42.360, -71.058, -5, 0.6),
    ("Chicago", "US", 41.878, -87.630, -6, 0.9),
    ("Miami", "US", 25.762, -80.192, -5, 0.5),
    ("Los Angeles", "US", 34.052, -118.244, -8, 1.0),
    ("Lisbon", "PT", 38.722, -9.139, 0, 0.0),
    ("Athens", "GR", 37.984, 23.728, 2, 0.0),
    ("Prague", "CZ", 50.075, 14.438, 1, 0.0),
    ("Istanbul", "TR", 41.008, 28.978, 3, 0.0),
    ("Dubai", "AE", 25.205, 55.271, 4, 0.0),
    ("Bangkok", "TH", 13.756, 100.502, 7, 0.0),
    ("Cancun", "MX", 21.162, -86.851, -5, 0.0),
    ("Bucharest", "RO", 44.427, 26.103, 2, 0.0),
    ("Kyiv", "UA", 50.450, 30.523, 2, 0.0),
    ("Lagos", "NG", 6.524, 3.379, 1, 0.0),
    ("Sao Paulo", "BR", -23.551, -46.633, -3, 0.0),
    ("Singapore", "SG", 1.352, 103.820, 8, 0.0),
)

#: Countries that host online merchants selling across borders (marketplaces, app stores, airlines).
GLOBAL_ONLINE_COUNTRIES: tuple[str, ...] = ("US", "IE", "LU", "NL", "GB")


@dataclass(frozen=True)
class Cities:
    """The city table as parallel arrays, indexed by city number."""

    name: np.ndarray
    country: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    utc_offset_h: np.ndarray
    resident_weight: np.ndarray

    @property
    def residential(self) -> np.ndarray:
        """City numbers where customers live (and in-store merchants exist)."""
        return np.flatnonzero(self.resident_weight > 0)

    @property
    def home_countries(self) -> tuple[str, ...]:
        """Countries customers live in, sorted."""
        return tuple(sorted(set(self.country[self.residential].tolist())))

    def foreign_city(self, rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
        """For each country given, a uniformly drawn city in another country."""
        country = np.asarray(country)
        cities = np.empty(len(country), dtype=np.int64)
        for code in np.unique(country):
            rows = np.flatnonzero(country == code)
            cities[rows] = rng.choice(np.flatnonzero(self.country != code), size=len(rows))
        return cities


CITIES = Cities(
    name=np.array([row[0] for row in _CITY_ROWS]),
    country=np.array([row[1] for row in _CITY_ROWS]),
    lat=np.array([row[2] for row in _CITY_ROWS]),
    lon=np.array([row[3] for row in _CITY_ROWS]),
    utc_offset_h=np.array([row[4] for row in _CITY_ROWS], dtype=np.int64),
    resident_weight=np.array([row[5] for row in _CITY_ROWS]),
)
