"""History features of any entity (a merchant, a card, a card x merchant pair, a column the user
names), declared as data, with one definition offline and online.

Windows are made of **buckets**, so that the online cost of a transaction is bounded by the number
of buckets, not by the entity's volume: a window of width ``w`` has ``k`` buckets of ``s`` ms
(:func:`bucket_ms`, ``k = w // s``, about 30 to 60 buckets whatever the width). A transaction at
time ``t`` (bucket ``b = t // s``) sees, of its entity's *earlier* transactions, those in buckets
``b - k + 1 .. b``: those at times ``>= (b - k + 1) * s``. The window therefore reaches back between
``(k - 1) * s`` and ``k * s``, and the offline batch uses exactly that bound, so both paths agree to
the cent. Per window and bucket the state keeps count, integer-cent sum, sum of squared cents and
maximum; an entity's state also keeps, for each column counted distinct (the cards of a merchant,
the merchants of a card), each value's last-seen time, which counts the distinct values whose
last-seen time is inside the window, exactly.

"Earlier" is the order ``(timestamp, transaction_id)`` within the entity. Offline,
:meth:`EntityHistory.aggregates` computes every row's aggregates at once with sorts, prefix sums,
a sparse table for maxima and a difference array for distinct counts; online the scoring service
keeps the same state in Redis (``fraud_inference/online_entity.lua``), and :class:`EntityState` is
the in-memory reference both must equal. :meth:`EntityHistory.derive` turns aggregates into
features on both paths. A row whose key (or one of its key columns) is missing has no history and
adds none. Sums of squares are exact integers while a window's total stays below 2**53 cents²
(for example 10,000 transactions of $9,000); beyond that the two paths agree to a double's
rounding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from fraud_training.lazy_module import LazyModule

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")  # frames only: the scoring service runs without pandas

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
#: Joins the values of an entity keyed by several columns (a card x merchant pair).
KEY_SEPARATOR = "|"
#: Default windows of an entity's history, by the suffix their features carry.
ENTITY_WINDOWS_MS: dict[str, int] = {
    "1h": HOUR_MS,
    "24h": DAY_MS,
    "7d": 7 * DAY_MS,
    "30d": 30 * DAY_MS,
}
#: A window has at least this many buckets: its reach is exact to within 1/MIN_BUCKETS.
MIN_BUCKETS = 30
#: Bucket sizes a window may use, the largest that divides it into MIN_BUCKETS or more wins.
BUCKET_LADDER_MS: tuple[int, ...] = (
    DAY_MS,
    12 * HOUR_MS,
    6 * HOUR_MS,
    4 * HOUR_MS,
    3 * HOUR_MS,
    2 * HOUR_MS,
    HOUR_MS,
    30 * MINUTE_MS,
    15 * MINUTE_MS,
    10 * MINUTE_MS,
    5 * MINUTE_MS,
    2 * MINUTE_MS,
    MINUTE_MS,
    10_000,
    1_000,
)
#: What "time since the previous transaction" says for an entity's first transaction.
NO_PREVIOUS_SECONDS = 30 * 86_400.0
#: Per-window statistics an entity may emit as features.
WINDOW_STATS: tuple[str, ...] = ("count", "sum", "mean", "std", "max")
#: Entity-level statistics (``to_mean`` and ``zscore`` against the longest window).
ENTITY_STATS: tuple[str, ...] = ("first_seen", "since_prev", "to_mean", "zscore")
ALL_STATS: tuple[str, ...] = (*ENTITY_STATS[:2], *WINDOW_STATS, "distinct", *ENTITY_STATS[2:])


def bucket_ms(width_ms: int) -> int:
    """The bucket size of a window: the largest of :data:`BUCKET_LADDER_MS` that divides the
    width into at least :data:`MIN_BUCKETS` buckets, else ``width // MIN_BUCKETS`` (at least 1)."""
    for size in BUCKET_LADDER_MS:
        if width_ms % size == 0 and width_ms // size >= MIN_BUCKETS:
            return size
    return max(width_ms // MIN_BUCKETS, 1)


@dataclass(frozen=True)
class Window:
    """One window of an entity: its feature suffix, bucket size and number of buckets."""

    suffix: str
    bucket_ms: int
    buckets: int

    @classmethod
    def of(cls, suffix: str, width_ms: int) -> Window:
        """The bucketed window closest to ``width_ms`` from below."""
        size = bucket_ms(int(width_ms))
        return cls(suffix, size, max(int(width_ms) // size, 1))

    @property
    def width_ms(self) -> int:
        """The longest reach of the window (``buckets * bucket_ms``)."""
        return self.bucket_ms * self.buckets

    def lower_ms(self, ts_ms: Any) -> Any:
        """The earliest time a transaction at ``ts_ms`` sees in this window (inclusive)."""
        return (np.floor_divide(ts_ms, self.bucket_ms) - self.buckets + 1) * self.bucket_ms


@dataclass(frozen=True)
class EntityHistory:
    """History features of one entity, declared as data: its name (its features' prefix), the
    column or columns holding its key, its windows, the columns whose distinct values it counts
    per window, and which statistics (:data:`ALL_STATS`) become features.

    The aggregates are always the full set (what the state reports does not depend on ``stats``);
    ``stats`` only selects the features :meth:`derive` returns.
    """

    name: str
    columns: tuple[str, ...]
    windows_ms: tuple[tuple[str, int], ...] = tuple(ENTITY_WINDOWS_MS.items())
    distinct: tuple[str, ...] = ()
    stats: tuple[str, ...] = ALL_STATS

    def __post_init__(self) -> None:
        unknown = sorted(set(self.stats) - set(ALL_STATS))
        if unknown:
            raise ValueError(f"entity {self.name}: unknown statistic(s) {', '.join(unknown)}")
        if not self.columns or not self.windows_ms:
            raise ValueError(f"entity {self.name}: needs key columns and at least one window")

    @cached_property
    def windows(self) -> tuple[Window, ...]:
        """The bucketed windows, in the order of :attr:`windows_ms`."""
        return tuple(Window.of(suffix, width) for suffix, width in self.windows_ms)

    @cached_property
    def longest(self) -> Window:
        """The window reaching furthest back."""
        return max(self.windows, key=lambda window: window.width_ms)

    @property
    def longest_ms(self) -> int:
        """The longest reach: state older than this can be dropped."""
        return self.longest.width_ms

    def horizon_ms(self, ts_ms: int) -> int:
        """The earliest time any window of a transaction at ``ts_ms`` sees."""
        return min(int(window.lower_ms(ts_ms)) for window in self.windows)

    def key_of(self, values: Sequence[Any]) -> str | None:
        """One transaction's entity key from its values of :attr:`columns` (online); None when
        one of them is missing."""
        if any(_missing(value) for value in values):
            return None
        return joined_key([str(value) for value in values])

    def member_of(self, value: Any) -> str | None:
        """A distinct-counted column's value as the state records it; None when missing."""
        return None if _missing(value) else str(value)

    def key_codes(self, codes_of: ColumnCodes) -> np.ndarray:
        """Every row's entity key as an integer code (offline), equal exactly where
        :meth:`key_of` gives equal keys; -1 where a key column is missing."""
        codes, missing = joint_codes(codes_of, self.columns)
        codes[missing] = -1
        return codes

    def member_codes(self, codes_of: ColumnCodes) -> dict[str, np.ndarray]:
        """Each distinct-counted column's values as integer codes (offline); -1 where missing."""
        return {column: codes_of(column) for column in self.distinct}

    @cached_property
    def state_name(self) -> str:
        """The name its online state is kept under: its name and its bucket layout, so two
        models (or two versions) that give one entity different windows never read each
        other's buckets."""
        layout = ",".join(f"{w.bucket_ms}x{w.buckets}" for w in self.windows)
        return f"{self.name}.{hashlib.sha1(layout.encode()).hexdigest()[:8]}"

    @cached_property
    def aggregate_fields(self) -> tuple[str, ...]:
        """Aggregate names, in the order the online state reports them."""
        p, suffixes = self.name, [w.suffix for w in self.windows]
        return (
            f"{p}:n_prior",
            f"{p}:prev_ts_ms",
            *(f"{p}:count_{w}" for w in suffixes),
            *(f"{p}:sum_cents_{w}" for w in suffixes),
            *(f"{p}:sumsq_cents_{w}" for w in suffixes),
            *(f"{p}:max_cents_{w}" for w in suffixes),
            *(f"{p}:distinct_{c}_{w}" for c in self.distinct for w in suffixes),
        )

    @cached_property
    def feature_names(self) -> tuple[str, ...]:
        """The features :meth:`derive` returns, in column order."""
        p, suffixes, stats = self.name, [w.suffix for w in self.windows], set(self.stats)
        longest = self.longest.suffix
        names = {
            "first_seen": [f"{p}_is_first_seen"],
            "since_prev": [f"{p}_seconds_since_prev"],
            "count": [f"{p}_txn_count_{w}" for w in suffixes],
            "sum": [f"{p}_amount_sum_{w}" for w in suffixes],
            "mean": [f"{p}_amount_mean_{w}" for w in suffixes],
            "std": [f"{p}_amount_std_{w}" for w in suffixes],
            "max": [f"{p}_amount_max_{w}" for w in suffixes],
            "distinct": [f"{p}_distinct_{c}_{w}" for c in self.distinct for w in suffixes],
            "to_mean": [f"{p}_amount_to_mean_{longest}"],
            "zscore": [f"{p}_amount_zscore_{longest}"],
        }
        return tuple(name for stat in ALL_STATS if stat in stats for name in names[stat])

    def no_history(self) -> dict[str, float]:
        """The aggregates of an entity never seen: what a degraded score uses."""
        return {
            name: float("nan") if name.endswith(":prev_ts_ms") else 0.0
            for name in self.aggregate_fields
        }

    def aggregates(
        self,
        key_codes: np.ndarray,
        ts: np.ndarray,
        cents: np.ndarray,
        time_order: np.ndarray,
        member_codes: Mapping[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Every row's aggregates, vectorised, in the rows' own order.

        ``key_codes`` are :meth:`key_codes` (-1: no key); ``time_order`` sorts the rows by (time,
        transaction id), and gives the 'earlier' order within each entity
        (:func:`earlier_order`). ``member_codes`` holds the codes of each :attr:`distinct` column
        (-1: missing).
        """
        n = len(key_codes)
        codes = _missing_apart(np.asarray(key_codes, dtype=np.int64))
        order = earlier_order(codes, time_order)
        entity, t, c = codes[order], np.asarray(ts, np.int64)[order], cents[order]
        position = np.arange(n, dtype=np.int64)
        new_entity = np.ones(n, dtype=bool)
        new_entity[1:] = entity[1:] != entity[:-1]
        group_start = np.maximum.accumulate(np.where(new_entity, position, 0))
        prefix = np.concatenate(([0], np.cumsum(c)))
        # squares wrap around in int64 for huge totals, their window differences do not
        prefix_sq = np.concatenate(([0], np.cumsum(c * c)))
        longest = self.longest_ms
        t0 = int(t.min()) if n else 0
        span = (int(t.max()) - t0 if n else 0) + 2 * longest + 2
        if n and int(entity.max()) >= np.iinfo(np.int64).max // span:
            raise ValueError(f"too many {self.name} ids over too long a period for one sort key")
        base = entity * span - t0 + longest
        key = base + t
        p = self.name
        out: dict[str, np.ndarray] = {
            f"{p}:n_prior": (position - group_start).astype(np.float64),
            f"{p}:prev_ts_ms": np.where(new_entity, np.nan, t[np.maximum(position - 1, 0)]),
        }
        maxima = _RangeMax(c)
        members = {
            column: np.asarray(values, dtype=np.int64)[order]
            for column, values in (member_codes or {}).items()
        }
        nexts = {column: _next_same(entity, codes) for column, codes in members.items()}
        lowers = {}
        for window in self.windows:
            lower = np.searchsorted(key, base + window.lower_ms(t), side="left")
            lowers[window.suffix] = lower
            w = window.suffix
            out[f"{p}:count_{w}"] = (position - lower).astype(np.float64)
            out[f"{p}:sum_cents_{w}"] = (prefix[position] - prefix[lower]).astype(np.float64)
            out[f"{p}:sumsq_cents_{w}"] = (prefix_sq[position] - prefix_sq[lower]).astype(
                np.float64
            )
            out[f"{p}:max_cents_{w}"] = maxima.query(lower, position).astype(np.float64)
        for column in self.distinct:
            for window in self.windows:
                out[f"{p}:distinct_{column}_{window.suffix}"] = _distinct_counts(
                    lowers[window.suffix], nexts[column], members[column] >= 0
                )
        return in_row_order(out, order)

    def derive(
        self, ts: np.ndarray, amount: np.ndarray, agg: Mapping[str, np.ndarray]
    ) -> list[np.ndarray]:
        """The feature columns (see :attr:`feature_names`) from the aggregates."""
        p, suffixes, stats = self.name, [w.suffix for w in self.windows], set(self.stats)

        def get(name: str) -> np.ndarray:
            return np.asarray(agg[f"{p}:{name}"], dtype=np.float64)

        n_prior = get("n_prior")
        first = n_prior == 0
        counts = [get(f"count_{w}") for w in suffixes]
        sums = [get(f"sum_cents_{w}") / 100.0 for w in suffixes]
        means = [s / np.maximum(n, 1.0) for n, s in zip(counts, sums, strict=True)]
        columns: dict[str, list[np.ndarray]] = {"count": counts, "sum": sums, "mean": means}
        if "first_seen" in stats:
            columns["first_seen"] = [first.astype(np.float64)]
        if "since_prev" in stats:
            prev_ts = np.where(first, 0.0, get("prev_ts_ms"))
            columns["since_prev"] = [np.where(first, NO_PREVIOUS_SECONDS, (ts - prev_ts) / 1000.0)]
        stds = []
        for n, w in zip(counts, suffixes, strict=True):
            mean_cents = get(f"sum_cents_{w}") / np.maximum(n, 1.0)
            variance = get(f"sumsq_cents_{w}") / np.maximum(n, 1.0) - mean_cents * mean_cents
            stds.append(np.where(n >= 2, np.sqrt(np.maximum(variance, 0.0)) / 100.0, 0.0))
        columns["std"] = stds
        columns["max"] = [get(f"max_cents_{w}") / 100.0 for w in suffixes]
        columns["distinct"] = [get(f"distinct_{c}_{w}") for c in self.distinct for w in suffixes]
        i = suffixes.index(self.longest.suffix)
        columns["to_mean"] = [np.where(counts[i] == 0, 1.0, amount / np.maximum(means[i], 0.01))]
        columns["zscore"] = [
            np.where(counts[i] >= 2, (amount - means[i]) / np.maximum(stds[i], 0.01), 0.0)
        ]
        return [column for stat in ALL_STATS if stat in stats for column in columns[stat]]

    def describe(self) -> dict[str, Any]:
        """The definition as data: what the bundle metadata and MLflow params show."""
        return {
            "entity": self.name,
            "columns": list(self.columns),
            "windows": [
                {"name": w.suffix, "bucket_ms": w.bucket_ms, "buckets": w.buckets}
                for w in self.windows
            ],
            "window_ms": [width for _, width in self.windows_ms],
            "distinct": list(self.distinct),
            "stats": list(self.stats),
        }

    @classmethod
    def from_description(cls, document: Mapping[str, Any]) -> EntityHistory:
        """The entity :meth:`describe` wrote (the serving payload carries user entities so)."""
        names = [w["name"] for w in document["windows"]]
        return cls(
            name=str(document["entity"]),
            columns=tuple(document["columns"]),
            windows_ms=tuple(zip(names, (int(w) for w in document["window_ms"]), strict=True)),
            distinct=tuple(document.get("distinct", ())),
            stats=tuple(document.get("stats", ALL_STATS)),
        )


@dataclass
class EntityState:
    """One entity's online state, in memory: the reference the Redis state must equal.

    Per window, buckets ``index -> [count, sum, sum of squares, max]``; per distinct column,
    ``value -> last-seen time``.
    """

    spec: EntityHistory
    n_prior: int = 0
    prev_ts_ms: int | None = None
    buckets: list[dict[int, list[int]]] = field(default_factory=list)
    last_seen: dict[str, dict[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.buckets = self.buckets or [{} for _ in self.spec.windows]
        self.last_seen = self.last_seen or {column: {} for column in self.spec.distinct}

    def aggregates(self, ts_ms: int) -> dict[str, float]:
        """What a transaction at ``ts_ms`` sees of this entity's earlier transactions."""
        p = self.spec.name
        out = {
            f"{p}:n_prior": float(self.n_prior),
            f"{p}:prev_ts_ms": float("nan") if self.prev_ts_ms is None else float(self.prev_ts_ms),
        }
        totals = []
        for window, buckets in zip(self.spec.windows, self.buckets, strict=True):
            first = ts_ms // window.bucket_ms - window.buckets + 1
            inside = [stats for index, stats in buckets.items() if index >= first]
            totals.append(
                (
                    sum(s[0] for s in inside),
                    sum(s[1] for s in inside),
                    sum(s[2] for s in inside),
                    max((s[3] for s in inside), default=0),
                )
            )
        for i, name in enumerate(("count", "sum_cents", "sumsq_cents", "max_cents")):
            for window, total in zip(self.spec.windows, totals, strict=True):
                out[f"{p}:{name}_{window.suffix}"] = float(total[i])
        for column in self.spec.distinct:
            for window in self.spec.windows:
                lower = window.lower_ms(ts_ms)
                seen = self.last_seen[column].values()
                out[f"{p}:distinct_{column}_{window.suffix}"] = float(
                    sum(1 for t in seen if t >= lower)
                )
        return out

    def add(self, ts_ms: int, cents: int, members: Mapping[str, str | None] | None = None) -> None:
        """Record a transaction after it was scored; drop what no later read can see."""
        self.n_prior += 1
        self.prev_ts_ms = ts_ms
        for window, buckets in zip(self.spec.windows, self.buckets, strict=True):
            index = ts_ms // window.bucket_ms
            stats = buckets.setdefault(index, [0, 0, 0, 0])
            stats[0] += 1
            stats[1] += cents
            stats[2] += cents * cents
            stats[3] = max(stats[3], cents)
            for old in [i for i in buckets if i <= index - window.buckets]:
                del buckets[old]
        horizon = self.spec.horizon_ms(ts_ms)
        for column in self.spec.distinct:
            seen = self.last_seen[column]
            value = (members or {}).get(column)
            if value is not None:
                seen[value] = max(seen.get(value, ts_ms), ts_ms)
            for old in [v for v, t in seen.items() if t < horizon]:
                del seen[old]


class _RangeMax:
    """Maxima of ``values[lo:hi]`` for many ranges at once (a sparse table, built lazily up to
    the longest range asked for); an empty range gives 0."""

    def __init__(self, values: np.ndarray) -> None:
        self._levels = [np.asarray(values, dtype=np.int64)]

    def query(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        length = hi - lo
        out = np.zeros(len(lo), dtype=np.int64)
        nonempty = length > 0
        if not nonempty.any():
            return out
        level = np.zeros(len(lo), dtype=np.int64)
        level[nonempty] = np.floor(np.log2(length[nonempty])).astype(np.int64)
        # log2 of an exact power of two may round down by one ulp: fix either way
        level[nonempty & ((1 << (level + 1)) <= length)] += 1
        level[nonempty & ((1 << level) > length)] -= 1
        while len(self._levels) <= int(level.max()):
            previous, step = self._levels[-1], 1 << (len(self._levels) - 1)
            self._levels.append(np.maximum(previous[:-step], previous[step:]))
        for j in np.unique(level[nonempty]):
            rows = np.flatnonzero(nonempty & (level == j))
            table = self._levels[int(j)]
            out[rows] = np.maximum(table[lo[rows]], table[hi[rows] - (1 << int(j))])
        return out


def joined_key(values: Sequence[str]) -> str:
    """The online key of an entity keyed by several columns: the values joined by
    :data:`KEY_SEPARATOR`, each escaped so that no two different tuples join alike (one column:
    the value itself)."""
    if len(values) == 1:
        return values[0]
    return KEY_SEPARATOR.join(
        v.replace("\\", "\\\\").replace(KEY_SEPARATOR, "\\" + KEY_SEPARATOR) for v in values
    )


def column_codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a key column's values, equal exactly where their text (what the online
    state keys on) is equal; -1 where a value is missing. Hashing, not sorting: no text sort."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) not in (
        "string",
        "empty",
    ):
        values = values.astype(str).where(values.notna())  # mixed types compare as text
    return pd.factorize(values)[0].astype(np.int64)


class ColumnCodes:
    """The :func:`column_codes` of a frame's columns, each computed once: several entities share
    the customer and merchant columns."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._codes: dict[str, np.ndarray] = {}

    def __call__(self, column: str) -> np.ndarray:
        if column not in self._codes:
            self._codes[column] = column_codes(self.frame[column])
        return self._codes[column]


def joint_codes(of: ColumnCodes, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of the tuple of ``columns`` per row, and where one of them is missing."""
    codes = of(columns[0]).copy()
    missing = codes < 0
    for column in columns[1:]:
        more = of(column)
        missing |= more < 0
        # both codes are below the row count, so the pair fits an int64 for any frame
        pair = codes * (int(more.max(initial=-1)) + 2) + (more + 1)
        codes = pd.factorize(pair)[0].astype(np.int64)
    return codes, missing


def _missing_apart(codes: np.ndarray) -> np.ndarray:
    """``codes`` with each missing one (-1) made a code of its own, so that a row without a key
    shares no history with anything."""
    missing = codes < 0
    if not missing.any():
        return codes
    out = codes.copy()
    out[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return out


def earlier_order(key_codes: np.ndarray, time_order: np.ndarray) -> np.ndarray:
    """Row positions grouped by key, each key's rows in time order (``time_order`` sorts the rows
    by time, then transaction id): the order in which a row's 'earlier' rows of the same key are
    the ones before it. A stable sort of the codes on top of the time order, so no text is sorted
    again."""
    return time_order[np.argsort(key_codes[time_order], kind="stable")]


def in_row_order(columns: Mapping[str, np.ndarray], order: np.ndarray) -> dict[str, np.ndarray]:
    """Columns computed in ``order`` put back in the rows' own order (a scatter per column:
    measured faster than gathering through the inverse permutation, or than moving whole rows)."""
    out = {}
    for name, values in columns.items():
        placed = np.empty(len(order), dtype=np.float64)
        placed[order] = values
        out[name] = placed
    return out


def _next_same(entity: np.ndarray, member: np.ndarray) -> np.ndarray:
    """For rows in entity order, the position of the next row of the same entity and member
    (``len`` if none)."""
    n = len(entity)
    pair = entity * (int(member.max(initial=0)) + 2) + (member + 1)
    by_pair = np.argsort(pair, kind="stable")
    nxt = np.full(n, n, dtype=np.int64)
    same = pair[by_pair[1:]] == pair[by_pair[:-1]]
    nxt[by_pair[:-1][same]] = by_pair[1:][same]
    return nxt


def _distinct_counts(lower: np.ndarray, nxt: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Distinct members among rows ``lower[i] .. i - 1`` for every row ``i`` (entity order).

    Row ``j`` is the last occurrence of its member before row ``i`` exactly when ``j < i <=
    next[j]``; it is in ``i``'s window when ``lower[i] <= j``, and ``lower`` never decreases, so
    the rows ``i`` that count ``j`` form one range: ``j + 1`` up to ``min(next[j], end[j] - 1)``,
    where ``end[j]`` is the first row whose window starts after ``j``. A difference array sums
    those ranges in one pass.
    """
    n = len(lower)
    end = np.searchsorted(lower, np.arange(n), side="right")
    last = np.minimum(nxt, end - 1)
    start = np.arange(n) + 1
    valid = present & (last >= start)
    delta = np.bincount(start[valid], minlength=n + 2) - np.bincount(
        last[valid] + 1, minlength=n + 2
    )
    return np.cumsum(delta)[:n].astype(np.float64)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
