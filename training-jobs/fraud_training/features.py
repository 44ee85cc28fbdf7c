"""Point-in-time features: one definition for the offline batch and the online path.

The definition is split in two on purpose:

1. **History aggregates** — what a transaction's features need from the customer's *earlier*
   transactions: counts and amount sums over sliding windows, the previous transaction's time and
   place, running totals, whether the merchant and device were seen before. Offline they are
   computed for a whole frame at once with sorts and prefix sums (:func:`history_aggregates`);
   online they are read from per-customer state before the transaction is added to it
   (:class:`CustomerHistory` is the in-memory reference; the scoring service keeps the same state in
   Redis). Amounts are summed in integer cents so both paths agree exactly.
2. **Derivation** — :func:`derive_features` turns a transaction's own fields plus its aggregates
   into the feature vector. It is the only code that defines a feature, and both paths call it.

"Earlier" is the order ``(timestamp, transaction_id)`` within a customer: a transaction never sees
itself or anything after it, so appending future rows cannot change a past row's features. A window
``w`` holds the earlier transactions whose time is strictly greater than ``t - w``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from fraud_training.entity_history import (
    ENTITY_WINDOWS_MS,
    ColumnCodes,
    EntityHistory,
    earlier_order,
    in_row_order,
)
from fraud_training.entity_history import EntityState as EntityState  # the reference, re-exported
from fraud_training.lazy_module import LazyModule
from fraud_training.schema import CATEGORIES, CREDITCARD_PCA_COLUMNS, Channel

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")  # frames only: the scoring service runs without pandas

#: Sliding windows, in milliseconds, by the suffix their features carry.
WINDOWS_MS: dict[str, int] = {"1h": 3_600_000, "24h": 86_400_000, "7d": 604_800_000}
#: The longest window: online state older than this can be dropped.
MAX_WINDOW_MS = max(WINDOWS_MS.values())
#: What "time since the previous transaction" says for a customer's first transaction.
NO_PREVIOUS_SECONDS = 30 * 86_400.0
EARTH_RADIUS_KM = 6371.0088

#: Aggregate names, in the order online state reports them.
AGGREGATE_FIELDS: tuple[str, ...] = (
    "n_prior",
    "sum_prior_cents",
    "prev_ts_ms",
    "prev_lat",
    "prev_lon",
    "merchant_seen",
    "device_seen",
    *(f"count_{w}" for w in WINDOWS_MS),
    *(f"sum_cents_{w}" for w in WINDOWS_MS),
)

#: The raw inputs :func:`derive_features` reads, as arrays.
RAW_FIELDS: tuple[str, ...] = (
    "ts_ms",
    "amount_cents",
    "is_online",
    "category_index",
    "is_foreign",
    "lat",
    "lon",
    "home_lat",
    "home_lon",
)

#: The windows of the card x merchant pair's history by default: a card pays at one merchant
#: rarely, so short windows would mostly count zero.
PAIR_WINDOWS_MS: dict[str, int] = {"24h": ENTITY_WINDOWS_MS["24h"], "30d": ENTITY_WINDOWS_MS["30d"]}


def builtin_histories(
    entity_windows_ms: Sequence[tuple[str, int]] = tuple(ENTITY_WINDOWS_MS.items()),
    pair_windows_ms: Sequence[tuple[str, int]] = tuple(PAIR_WINDOWS_MS.items()),
) -> tuple[EntityHistory, ...]:
    """The entity histories of the transactions feature set, beside the customer's own: the
    merchant's and the card's over ``entity_windows_ms``, the card x merchant pair's over
    ``pair_windows_ms``."""
    return (
        # the terminal's side: its volume, amounts and how many distinct cards pay there
        EntityHistory("merchant", ("merchant_id",), tuple(entity_windows_ms), ("customer_id",)),
        # the card's own history at this merchant: how often and how long ago it paid there
        EntityHistory(
            "card_merchant",
            ("customer_id", "merchant_id"),
            tuple(pair_windows_ms),
            stats=("first_seen", "since_prev", "count", "sum", "mean", "to_mean"),
        ),
        # the card's amount spread and how many merchants it visits (counts and sums of the
        # card are the customer windows already)
        EntityHistory(
            "card",
            ("customer_id",),
            tuple(entity_windows_ms),
            ("merchant_id",),
            stats=("std", "max", "distinct", "zscore"),
        ),
    )


#: The built-in histories with their default windows (a model records the ones it uses in
#: :attr:`FeatureInputs.builtin`).
ENTITY_HISTORIES: tuple[EntityHistory, ...] = builtin_histories()


def user_entity(
    column: str, windows_ms: Sequence[tuple[str, int]] = tuple(ENTITY_WINDOWS_MS.items())
) -> EntityHistory:
    """The history a user-named key column (e-mail domain, IP, BIN, ...) gets: its windows (by
    default the merchant's), every statistic, and the distinct cards per window."""
    return EntityHistory(column, (column,), tuple(windows_ms), distinct=("customer_id",))


def feature_definition(
    entities: Sequence[EntityHistory] = (), builtin: Sequence[EntityHistory] = ENTITY_HISTORIES
) -> dict[str, Any]:
    """The transactions feature set's history definition as data (bundle metadata, MLflow):
    the customer's windows, the ``builtin`` histories, then the user-named ``entities``."""
    return {
        "customer": {"column": "customer_id", "windows": list(WINDOWS_MS)},
        "entities": [entity.describe() for entity in (*builtin, *entities)],
    }


#: The transactions feature set's own columns, before the entity histories' features.
TRANSACTION_BASE_FEATURES: tuple[str, ...] = (
    "amount",
    "log_amount",
    "hour_of_day",
    "day_of_week",
    "is_online",
    "is_foreign",
    "dist_home_km",
    "dist_prev_km",
    "seconds_since_prev",
    "speed_from_prev_kmh",
    "is_first_txn",
    "n_prior_txns",
    "amount_to_mean",
    *(f"txn_count_{w}" for w in WINDOWS_MS),
    *(f"amount_sum_{w}" for w in WINDOWS_MS),
    "amount_to_24h_sum",
    "is_new_merchant",
    "is_new_device",
    *(f"category_{c}" for c in CATEGORIES),
)
#: The default model's transaction features: the set's own, then the default built-in
#: histories'.
TRANSACTION_FEATURES: tuple[str, ...] = (
    *TRANSACTION_BASE_FEATURES,
    *(name for entity in ENTITY_HISTORIES for name in entity.feature_names),
)

CREDITCARD_FEATURES: tuple[str, ...] = (
    *CREDITCARD_PCA_COLUMNS,
    "amount",
    "log_amount",
    "hour_of_day",
)


def to_cents(amount: np.ndarray | float) -> np.ndarray:
    """Amounts as integer cents, so that window sums are exact on every path."""
    return np.rint(np.asarray(amount, dtype=np.float64) * 100.0).astype(np.int64)


def timestamp_ms(values: pd.Series) -> np.ndarray:
    """Epoch milliseconds of a UTC datetime column (exact in a Redis score, a float64)."""
    ts = pd.to_datetime(values, utc=True)
    return (ts.astype("datetime64[ns, UTC]").astype("int64") // 1_000_000).to_numpy(np.int64)


def _times(frame: pd.DataFrame, ts_ms: np.ndarray | None) -> np.ndarray:
    """``ts_ms`` if the caller converted the frame's times already, else their conversion."""
    return timestamp_ms(frame["timestamp"]) if ts_ms is None else ts_ms


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in kilometres, element-wise."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dlat / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


#: Category -> position in :data:`CATEGORIES` (the one-hot order); unknown categories get -1.
CATEGORY_INDEX: dict[str, int] = {category: i for i, category in enumerate(CATEGORIES)}
#: The schema columns, besides the timestamp, that :func:`raw_inputs_from_columns` reads.
RAW_COLUMNS: tuple[str, ...] = (
    "amount",
    "channel",
    "merchant_category",
    "merchant_country",
    "home_country",
    "lat",
    "lon",
    "home_lat",
    "home_lon",
)


def raw_inputs_from_columns(ts_ms: np.ndarray, columns: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The fields :func:`derive_features` needs, from :data:`RAW_COLUMNS` as arrays or lists.

    Both paths call it: offline with a frame's columns (:func:`raw_inputs`), online with the
    values of a few request rows, which is why it takes plain sequences and not a DataFrame.
    """
    rows = len(ts_ms)
    channel = np.asarray(columns["channel"], dtype=object)
    merchant_country = np.asarray(columns["merchant_country"], dtype=object)
    home_country = np.asarray(columns["home_country"], dtype=object)
    category_index = np.fromiter(
        (CATEGORY_INDEX.get(c, -1) for c in columns["merchant_category"]), np.int64, count=rows
    )
    return {
        "ts_ms": np.asarray(ts_ms, dtype=np.int64),
        "amount_cents": to_cents(np.asarray(columns["amount"], dtype=np.float64)),
        "is_online": (channel == Channel.ONLINE.value).astype(np.float64),
        "category_index": category_index,
        "is_foreign": (merchant_country != home_country).astype(np.float64),
        **{
            name: np.asarray(columns[name], dtype=np.float64)
            for name in ("lat", "lon", "home_lat", "home_lon")
        },
    }


def raw_inputs(frame: pd.DataFrame, ts_ms: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The fields :func:`derive_features` needs, from a frame in the transaction schema
    (``ts_ms``: its times, if already converted)."""
    columns = {name: frame[name].to_numpy() for name in RAW_COLUMNS}
    return raw_inputs_from_columns(_times(frame, ts_ms), columns)


def time_order(frame: pd.DataFrame, ts_ms: np.ndarray | None = None) -> np.ndarray:
    """Row positions sorted by time, then transaction id: the order a live stream arrives in.

    One integer sort of the times; only rows that share a time with another are sorted by their
    id's text, so data with distinct times never pays for a sort of text."""
    ts = _times(frame, ts_ms)
    order = np.argsort(ts, kind="stable")
    t = ts[order]
    tied = np.zeros(len(t), dtype=bool)
    same = t[1:] == t[:-1]
    tied[1:] |= same
    tied[:-1] |= same
    if tied.any():
        rows = np.flatnonzero(tied)
        ids = frame["transaction_id"].to_numpy()[order[rows]].astype(str)
        # runs of equal times stay where they are (``t`` is sorted): only their rows move
        order[rows] = order[rows][np.lexsort((ids, t[rows]))]
    return order


def entity_aggregates(
    frame: pd.DataFrame,
    entities: Sequence[EntityHistory] = ENTITY_HISTORIES,
    order_in_time: np.ndarray | None = None,
    codes: ColumnCodes | None = None,
    ts_ms: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Every row's aggregates of each of ``entities``, in frame order."""
    if not entities:
        return {}
    codes = ColumnCodes(frame) if codes is None else codes
    ts = _times(frame, ts_ms)
    order = time_order(frame, ts) if order_in_time is None else order_in_time
    cents = to_cents(frame["amount"].to_numpy())
    out: dict[str, np.ndarray] = {}
    for entity in entities:
        out.update(
            entity.aggregates(entity.key_codes(codes), ts, cents, order, entity.member_codes(codes))
        )
    return out


def history_aggregates(
    frame: pd.DataFrame,
    order_in_time: np.ndarray | None = None,
    codes: ColumnCodes | None = None,
    ts_ms: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Every row's history aggregates, vectorised (sorts, prefix sums, binary searches).

    Rows are returned in the frame's own order. Within a customer, a window's lower bound is found
    with one ``searchsorted`` over a composite key ``customer * span + time`` that keeps customers
    apart, and window sums are differences of one integer prefix sum of cents.
    """
    n = len(frame)
    times = _times(frame, ts_ms)
    in_time = time_order(frame, times) if order_in_time is None else order_in_time
    codes = ColumnCodes(frame) if codes is None else codes
    order = earlier_order(codes("customer_id"), in_time)
    customer = codes("customer_id")[order]
    ts = times[order]
    cents = to_cents(frame["amount"].to_numpy())[order]
    lat = frame["lat"].to_numpy(np.float64)[order]
    lon = frame["lon"].to_numpy(np.float64)[order]

    position = np.arange(n, dtype=np.int64)
    new_customer = np.ones(n, dtype=bool)
    new_customer[1:] = customer[1:] != customer[:-1]
    group_start = np.maximum.accumulate(np.where(new_customer, position, 0))
    prefix = np.concatenate(([0], np.cumsum(cents)))

    t0 = int(ts.min()) if n else 0
    span = (int(ts.max()) - t0 if n else 0) + MAX_WINDOW_MS + 1
    if n and int(customer.max()) >= np.iinfo(np.int64).max // span:
        raise ValueError("too many customers over too long a period for one composite sort key")
    key = customer * span + (ts - t0)

    out: dict[str, np.ndarray] = {
        "n_prior": (position - group_start).astype(np.float64),
        "sum_prior_cents": (prefix[position] - prefix[group_start]).astype(np.float64),
    }
    has_prev = ~new_customer
    prev = np.maximum(position - 1, 0)
    out["prev_ts_ms"] = np.where(has_prev, ts[prev], np.nan)
    out["prev_lat"] = np.where(has_prev, lat[prev], np.nan)
    out["prev_lon"] = np.where(has_prev, lon[prev], np.nan)
    for column, name in (("merchant_id", "merchant_seen"), ("device_id", "device_seen")):
        # a missing value is one value of its own, as the online state's set holds it
        value = codes(column)[order] + 1
        pair = customer * (int(value.max(initial=0)) + 1) + value
        out[name] = pd.Series(pair).duplicated().to_numpy().astype(np.float64)
    for suffix, width in WINDOWS_MS.items():
        lower = np.searchsorted(key, key - width, side="right")
        out[f"count_{suffix}"] = (position - lower).astype(np.float64)
        out[f"sum_cents_{suffix}"] = (prefix[position] - prefix[lower]).astype(np.float64)
    return in_row_order(out, order)


#: Rows derived at a time offline: a block of the feature matrix stays in the CPU's cache while
#: its columns are written, instead of every column sweeping the whole matrix.
DERIVE_BLOCK_ROWS = 8_192


def derive_features(
    raw: Mapping[str, np.ndarray],
    agg: Mapping[str, np.ndarray],
    entities: Sequence[EntityHistory] = (),
    builtin: Sequence[EntityHistory] = ENTITY_HISTORIES,
) -> np.ndarray:
    """The feature matrix (rows x :data:`TRANSACTION_BASE_FEATURES`, then the features of the
    ``builtin`` histories and of the user-named ``entities``) from raw fields and aggregates.

    The only definition of every transaction feature; offline and online both call it, with
    arrays of any length (one row online). Every feature is a function of its own row, so a
    large frame is derived in blocks of :data:`DERIVE_BLOCK_ROWS` rows, written into one matrix
    as they are made: it never holds a column twice.
    """
    histories = (*builtin, *entities)
    rows = len(raw["ts_ms"])
    width = len(TRANSACTION_BASE_FEATURES) + sum(len(e.feature_names) for e in histories)
    out = np.empty((rows, width), dtype=np.float64)
    if rows <= DERIVE_BLOCK_ROWS:
        _derive_block(raw, agg, histories, out)
        return out
    raw_arrays = {name: np.asarray(values) for name, values in raw.items()}
    agg_arrays = {name: np.asarray(values) for name, values in agg.items()}
    for start in range(0, rows, DERIVE_BLOCK_ROWS):
        block = slice(start, start + DERIVE_BLOCK_ROWS)
        _derive_block(
            {name: values[block] for name, values in raw_arrays.items()},
            {name: values[block] for name, values in agg_arrays.items()},
            histories,
            out[block],
        )
    return out


def _derive_block(
    raw: Mapping[str, np.ndarray],
    agg: Mapping[str, np.ndarray],
    histories: Sequence[EntityHistory],
    out: np.ndarray,
) -> None:
    """:func:`derive_features` of some rows, written into ``out`` (rows x features)."""
    ts = np.asarray(raw["ts_ms"], dtype=np.int64)
    amount = np.asarray(raw["amount_cents"], dtype=np.float64) / 100.0
    n_prior = np.asarray(agg["n_prior"], dtype=np.float64)
    first = n_prior == 0
    prev_ts = np.asarray(agg["prev_ts_ms"], dtype=np.float64)
    gap_s = np.where(first, NO_PREVIOUS_SECONDS, (ts - np.where(first, 0, prev_ts)) / 1000.0)
    dist_prev = np.where(
        first,
        0.0,
        haversine_km(
            np.where(first, 0.0, agg["prev_lat"]),
            np.where(first, 0.0, agg["prev_lon"]),
            raw["lat"],
            raw["lon"],
        ),
    )
    speed = dist_prev / np.maximum(gap_s / 3600.0, 1.0 / 60.0)
    prior_sum = np.asarray(agg["sum_prior_cents"], dtype=np.float64) / 100.0
    prior_mean = np.where(first, amount, prior_sum / np.maximum(n_prior, 1))
    sum_24h = np.asarray(agg["sum_cents_24h"], dtype=np.float64) / 100.0
    columns = [
        amount,
        np.log1p(amount),
        ((ts // 3_600_000) % 24).astype(np.float64),
        ((ts // 86_400_000 + 3) % 7).astype(np.float64),
        raw["is_online"],
        raw["is_foreign"],
        haversine_km(raw["home_lat"], raw["home_lon"], raw["lat"], raw["lon"]),
        dist_prev,
        gap_s,
        speed,
        first.astype(np.float64),
        n_prior,
        amount / np.maximum(prior_mean, 0.01),
        *(np.asarray(agg[f"count_{w}"], dtype=np.float64) for w in WINDOWS_MS),
        *(np.asarray(agg[f"sum_cents_{w}"], dtype=np.float64) / 100.0 for w in WINDOWS_MS),
        # Floored at one cent like amount_to_mean: a zero amount with no spend in the last 24 h
        # is 0, not 0/0 = NaN.
        amount / np.maximum(sum_24h + amount, 0.01),
        1.0 - np.asarray(agg["merchant_seen"], dtype=np.float64),
        1.0 - np.asarray(agg["device_seen"], dtype=np.float64),
    ]
    for j, column in enumerate(columns):
        out[:, j] = column
    j = len(columns) + len(CATEGORIES)
    categories = out[:, len(columns) : j]
    categories[:] = 0.0
    category_index = np.asarray(raw["category_index"], dtype=np.int64)
    known = category_index >= 0
    categories[np.flatnonzero(known), category_index[known]] = 1.0
    for entity in histories:
        for column in entity.derive(ts, amount, agg):
            out[:, j] = column
            j += 1


def transaction_features(
    frame: pd.DataFrame,
    entities: Sequence[EntityHistory] = (),
    builtin: Sequence[EntityHistory] = ENTITY_HISTORIES,
) -> np.ndarray:
    """Offline: the feature matrix of a whole frame in the transaction schema, in frame order,
    with the features of the ``builtin`` histories, then of the user-named ``entities``, last."""
    ts = timestamp_ms(frame["timestamp"])
    in_time = time_order(frame, ts)
    codes = ColumnCodes(frame)
    aggregates = {
        **history_aggregates(frame, in_time, codes, ts),
        **entity_aggregates(frame, (*builtin, *entities), in_time, codes, ts),
    }
    return derive_features(raw_inputs(frame, ts), aggregates, entities, builtin)


def creditcard_features(
    frame: pd.DataFrame,
    entities: Sequence[EntityHistory] = (),
    builtin: Sequence[EntityHistory] = (),
) -> np.ndarray:
    """The ULB credit-card set has no customer history: its PCA components, amount and hour."""
    if entities or builtin:
        raise ValueError("the creditcard feature set takes no entity histories")
    return _creditcard_matrix(frame)


def _creditcard_matrix(frame: pd.DataFrame) -> np.ndarray:
    amount = frame["amount"].to_numpy(np.float64)
    ts = timestamp_ms(frame["timestamp"])
    return np.column_stack(
        [
            frame[list(CREDITCARD_PCA_COLUMNS)].to_numpy(np.float64),
            amount,
            np.log1p(amount),
            ((ts // 3_600_000) % 24).astype(np.float64),
        ]
    )


@dataclass(frozen=True)
class FeatureSet:
    """A named feature definition: what a model bundle records so serving builds the same."""

    name: str
    #: The set's own columns, before any entity history's.
    names: tuple[str, ...]
    #: Whether the set computes entity histories (built-in and user-named) at all.
    histories: bool = False

    def build(self, frame: pd.DataFrame, inputs: FeatureInputs | None = None) -> np.ndarray:
        """The feature matrix of ``frame`` for this set, then the features of the entity
        histories of ``inputs`` (default: the built-in ones with their default windows)."""
        inputs = FeatureInputs() if inputs is None else inputs
        return FEATURE_BUILDERS[self.name](frame, *self.histories_of(inputs))

    def histories_of(
        self, inputs: FeatureInputs
    ) -> tuple[tuple[EntityHistory, ...], tuple[EntityHistory, ...]]:
        """The user-named and built-in histories a model of this set computes from
        ``inputs`` (a set without histories has no built-in ones)."""
        return inputs.entities, inputs.builtin if self.histories else ()


FEATURE_BUILDERS = {"transactions": transaction_features, "creditcard": creditcard_features}
FEATURE_SETS: dict[str, FeatureSet] = {
    "transactions": FeatureSet("transactions", TRANSACTION_BASE_FEATURES, histories=True),
    "creditcard": FeatureSet("creditcard", CREDITCARD_FEATURES),
}


def model_feature_names(
    feature_set: str, inputs: FeatureInputs, risk_names: Sequence[str] = ()
) -> tuple[str, ...]:
    """Column order of a model's matrices, the one definition training, the bundle and serving
    share: the feature set's own columns, the entity histories' (built-in, then user-named), the
    risk features', then the pass-through columns'."""
    chosen = FEATURE_SETS[feature_set]
    entities, builtin = chosen.histories_of(inputs)
    histories = tuple(name for entity in (*builtin, *entities) for name in entity.feature_names)
    return chosen.names + histories + tuple(risk_names) + inputs.column_names


@dataclass
class CustomerHistory:
    """One customer's online state, in memory: the reference the Redis state must equal.

    :meth:`aggregates` reads what a new transaction sees; :meth:`add` then records it. Window
    entries older than the longest window before the newest transaction are dropped.
    """

    n_prior: int = 0
    sum_prior_cents: int = 0
    prev_ts_ms: int | None = None
    prev_lat: float = float("nan")
    prev_lon: float = float("nan")
    merchants: set[str] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)
    window: list[tuple[int, int]] = field(default_factory=list)  # (ts_ms, cents), oldest first

    def aggregates(self, ts_ms: int, merchant_id: str, device_id: str) -> dict[str, float]:
        """What a transaction at ``ts_ms`` sees of this customer's earlier transactions."""
        out: dict[str, float] = {
            "n_prior": float(self.n_prior),
            "sum_prior_cents": float(self.sum_prior_cents),
            "prev_ts_ms": float("nan") if self.prev_ts_ms is None else float(self.prev_ts_ms),
            "prev_lat": self.prev_lat,
            "prev_lon": self.prev_lon,
            "merchant_seen": float(merchant_id in self.merchants),
            "device_seen": float(device_id in self.devices),
        }
        for suffix, width in WINDOWS_MS.items():
            inside = [c for t, c in self.window if t > ts_ms - width]
            out[f"count_{suffix}"] = float(len(inside))
            out[f"sum_cents_{suffix}"] = float(sum(inside))
        return out

    def add(
        self, ts_ms: int, cents: int, merchant_id: str, device_id: str, lat: float, lon: float
    ) -> None:
        """Record a transaction after it was scored."""
        self.n_prior += 1
        self.sum_prior_cents += cents
        self.prev_ts_ms, self.prev_lat, self.prev_lon = ts_ms, lat, lon
        self.merchants.add(merchant_id)
        self.devices.add(device_id)
        self.window.append((ts_ms, cents))
        horizon = ts_ms - MAX_WINDOW_MS
        self.window = [(t, c) for t, c in self.window if t > horizon]


#: Most frequent values a categorical pass-through keeps; the rest share "not in vocabulary".
MAX_VOCABULARY = 1_000
#: A value seen fewer times in training is treated as unseen: its code would be learned from a
#: handful of rows.
MIN_VALUE_COUNT = 2
NUMERIC, CATEGORICAL = "numeric", "categorical"


@dataclass(frozen=True)
class PassThroughFeature:
    """One of the user's own columns as model input, with the encoding learned at fit time.

    A numeric column is used as it is (empty values are missing, which the tree learners route
    on their own). A categorical column becomes two inputs: the value's rank in the training
    vocabulary (most frequent first; missing for a value not in it, so an unseen value at
    serving time scores like a rare one) and its training frequency (0 for an unseen value).
    """

    name: str
    kind: str
    vocabulary: tuple[str, ...] = ()
    frequencies: tuple[float, ...] = ()

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The model inputs this column becomes."""
        if self.kind == NUMERIC:
            return (self.name,)
        return (self.name, f"{self.name}_frequency")

    @classmethod
    def fit(cls, name: str, kind: str, values: pd.Series) -> PassThroughFeature:
        """The encoding of ``values`` (training rows only)."""
        if kind == NUMERIC:
            return cls(name, kind)
        counts = values.dropna().astype(str).value_counts(sort=True)
        counts = counts[counts >= MIN_VALUE_COUNT].iloc[:MAX_VOCABULARY]
        total = max(len(values), 1)
        return cls(
            name,
            kind,
            tuple(counts.index.tolist()),
            tuple(float(c) / total for c in counts.to_numpy()),
        )

    def encode(self, values: Any) -> np.ndarray:
        """Rows x ``len(feature_names)`` inputs for ``values`` (a column or a list)."""
        if isinstance(values, list):
            return self._encode_list(values)
        if self.kind == NUMERIC:
            return pd.to_numeric(pd.Series(values), errors="raise").to_numpy(np.float64)[:, None]
        series = pd.Series(values, dtype=object)
        text = series.astype(str).where(series.notna(), None)
        position = pd.Index(self.vocabulary).get_indexer(text)
        known = position >= 0
        code = np.where(known, position, np.nan).astype(np.float64)
        frequency = np.where(known, np.asarray((*self.frequencies, 0.0))[position], 0.0)
        return np.column_stack([code, frequency])

    def _encode_list(self, values: list[Any]) -> np.ndarray:
        """:meth:`encode` of a request's few values, in plain numpy (no pandas when serving).

        The same encoding as the frame path: ``None`` or NaN is missing; a numeric value that is
        not a number raises ``ValueError``; a categorical value is looked up as text.
        """
        if self.kind == NUMERIC:
            return np.array([np.nan if v is None else float(v) for v in values])[:, None]
        index = {value: i for i, value in enumerate(self.vocabulary)}
        position = np.array(
            [-1 if _missing(v) else index.get(str(v), -1) for v in values], dtype=np.int64
        )
        known = position >= 0
        code = np.where(known, position, np.nan).astype(np.float64)
        frequency = np.where(known, np.asarray((*self.frequencies, 0.0))[position], 0.0)
        return np.column_stack([code, frequency]).reshape(len(values), 2)

    def describe(self) -> dict[str, Any]:
        """What the bundle metadata and MLflow show of this input."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == CATEGORICAL:
            out["vocabulary_size"] = len(self.vocabulary)
        return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


@dataclass(frozen=True)
class FeatureInputs:
    """The inputs a model takes beyond its feature set's fixed ones: the features of the
    set's built-in entity histories (over the windows the model was trained with) and of the
    key columns the user names as entities, then the user's own columns (and the merchant
    category when the data's categories are not the generator's)."""

    columns: tuple[PassThroughFeature, ...] = ()
    entities: tuple[EntityHistory, ...] = ()
    #: The transactions set's built-in histories (merchant, card x merchant, card) over the
    #: windows the model was trained with; a set without histories ignores them.
    builtin: tuple[EntityHistory, ...] = ENTITY_HISTORIES

    @property
    def histories(self) -> tuple[EntityHistory, ...]:
        """Every entity history the model reads, in matrix order: built-in, then user-named."""
        return (*self.builtin, *self.entities)

    @property
    def column_names(self) -> tuple[str, ...]:
        """The pass-through columns' feature names, in matrix order."""
        return tuple(name for column in self.columns for name in column.feature_names)

    @property
    def raw_columns(self) -> tuple[str, ...]:
        """The request/frame columns the inputs are read from."""
        return tuple(column.name for column in self.columns)

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        kinds: Mapping[str, str],
        rows: np.ndarray | None = None,
        entities: Sequence[str] = (),
        entity_windows_ms: Sequence[tuple[str, int]] = tuple(ENTITY_WINDOWS_MS.items()),
        builtin: Sequence[EntityHistory] = ENTITY_HISTORIES,
    ) -> FeatureInputs:
        """Encodings learned on ``rows`` of ``frame`` (all rows if None); ``entities`` are the
        user-named key columns, each with a history over ``entity_windows_ms``; ``builtin`` the
        built-in histories (:func:`builtin_histories`)."""
        fitted = frame if rows is None else frame.iloc[rows]
        kinds = dict(kinds)
        if "merchant_category" in frame and not set(pd.unique(frame["merchant_category"])) <= set(
            CATEGORIES
        ):
            kinds = {"merchant_category": CATEGORICAL, **kinds}
        return cls(
            tuple(PassThroughFeature.fit(name, kind, fitted[name]) for name, kind in kinds.items()),
            tuple(user_entity(column, entity_windows_ms) for column in entities),
            tuple(builtin),
        )

    def encode(self, columns: Mapping[str, Any], rows: int) -> np.ndarray:
        """Rows x pass-through inputs from ``columns`` (name -> values); the entities' features
        come from their histories (:func:`transaction_features`, the online state)."""
        if not self.columns:
            return np.empty((rows, 0), dtype=np.float64)
        return np.column_stack([column.encode(columns[column.name]) for column in self.columns])

    def describe(self) -> list[dict[str, Any]]:
        """The pass-through inputs as data: what the bundle metadata and MLflow params show (the
        entities are in the feature definition)."""
        return [column.describe() for column in self.columns]
