"""The transaction schema: the one definition shared by training, validation and inference.

Every loader (our own files, the ULB credit-card file, a mapped CSV) produces a frame with these
columns, the synthetic generator writes them, the Pandera validation checks them and the scoring
service's request model is derived from them. Change a column here and every part follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    """How the card was presented."""

    ONLINE = "online"
    IN_STORE = "in_store"


#: Merchant categories, in a fixed order: the order is the one-hot order of the features.
CATEGORIES: tuple[str, ...] = (
    "grocery",
    "restaurant",
    "fuel",
    "retail",
    "electronics",
    "travel",
    "entertainment",
    "health",
    "utilities",
    "digital_goods",
    "jewelry",
    "gaming",
)


@dataclass(frozen=True)
class Column:
    """One column of the transaction schema: its name, kind and what it means."""

    name: str
    kind: str  # "str", "float", "int", "datetime", "category"
    required: bool
    doc: str


#: The raw transaction as an issuer sees it at authorisation time.
TRANSACTION_COLUMNS: tuple[Column, ...] = (
    Column("transaction_id", "str", True, "Unique id of the authorisation."),
    Column("customer_id", "str", True, "The card holder (one card per customer)."),
    Column("timestamp", "datetime", True, "Authorisation time, UTC."),
    Column("amount", "float", True, "Amount in the card's currency, >= 0."),
    Column("merchant_id", "str", False, "The merchant (acceptor) id."),
    Column("merchant_category", "category", False, "One of CATEGORIES."),
    Column("merchant_country", "str", False, "ISO 3166 alpha-2 country of the merchant."),
    Column("channel", "category", False, "online or in_store."),
    Column("device_id", "str", False, "Device or terminal fingerprint."),
    Column("lat", "float", False, "Latitude of the transaction, degrees."),
    Column("lon", "float", False, "Longitude of the transaction, degrees."),
    Column("home_lat", "float", False, "Latitude of the card holder's home address."),
    Column("home_lon", "float", False, "Longitude of the card holder's home address."),
    Column("home_country", "str", False, "ISO 3166 alpha-2 country of the card holder."),
)

#: Label columns: present in training data, absent at scoring time.
LABEL = "is_fraud"
PATTERN = "fraud_pattern"
LEGIT_PATTERN = "none"

TRANSACTION_FIELDS: tuple[str, ...] = tuple(c.name for c in TRANSACTION_COLUMNS)
REQUIRED_FIELDS: tuple[str, ...] = tuple(c.name for c in TRANSACTION_COLUMNS if c.required)
OPTIONAL_FIELDS: tuple[str, ...] = tuple(c.name for c in TRANSACTION_COLUMNS if not c.required)

#: What an optional field becomes when a source does not carry it. Features built on a missing
#: field then degrade to a constant instead of failing (a mapped CSV without locations, say).
OPTIONAL_DEFAULTS: dict[str, object] = {
    "merchant_id": "unknown",
    "merchant_category": "retail",
    "merchant_country": "XX",
    "channel": Channel.IN_STORE.value,
    "device_id": "unknown",
    "lat": 0.0,
    "lon": 0.0,
    "home_lat": 0.0,
    "home_lon": 0.0,
    "home_country": "XX",
}

#: The public ULB/Kaggle credit-card data set: PCA components released by the data owner.
CREDITCARD_PCA_COLUMNS: tuple[str, ...] = tuple(f"V{i}" for i in range(1, 29))
CREDITCARD_COLUMNS: tuple[str, ...] = ("Time", *CREDITCARD_PCA_COLUMNS, "Amount", "Class")
