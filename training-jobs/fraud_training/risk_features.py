"""Label-aware risk features: what confirmed frauds of the past say about a transaction's merchant
(or any other entity) and its card, counting only labels production would already have.

A fraud is confirmed long after it happens (a chargeback takes days to weeks), so a feature learned
from labels may only use transactions at least ``label_delay`` old. For a transaction at time
``t``, an entity ``e`` (the merchant by default; any key column, or several joined) and a window
``w``, the **delayed period** is the transaction times ``(t - delay - w, t - delay]``:

* ``{e}_delayed_txn_count_{w}`` — the entity's transactions (all cards) in the delayed period;
* ``{e}_risk_{w}`` — their fraud rate, smoothed toward the prior (the fraud rate of the training
  rows, kept in the bundle) for entities with few transactions:
  ``(frauds + m * prior) / (count + m)``, ``m`` = :attr:`RiskFeatures.smoothing`;
* ``card_confirmed_compromised`` — the card has a confirmed fraud whose transaction time is
  ``<= t - delay``.

The delay is strictly positive, so a transaction never sees its own label, and a window is
defined on the labelled transactions' own times, so appending later rows or later labels cannot
change a past row. Offline, every label in the training data counts once its transaction is
``delay`` old (:meth:`RiskFeatures.build`, vectorised). Online, serving counts the transactions it
scored and the labels ``POST /feedback`` brings (``fraud_inference.online_risk``): the two agree
exactly whenever each fraud's feedback arrives within ``delay`` of its transaction. A label that
arrives later counts online from its arrival on (serving cannot rewrite scores already given),
and from then on both paths agree again. :meth:`RiskFeatures.derive` turns the counts into
features on both paths, so the arithmetic is shared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from fraud_training.choices import (
    DEFAULT_RISK_LABEL_DELAY_DAYS,
    DEFAULT_RISK_SMOOTHING,
    DEFAULT_RISK_WINDOWS,
)
from fraud_training.entity_history import (
    ColumnCodes,
    column_codes,
    in_row_order,
    joined_key,
    joint_codes,
)
from fraud_training.errors import FraudOpsError
from fraud_training.lazy_module import LazyModule
from fraud_training.repeats import repeated

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")  # frames only: the scoring service runs without pandas

DAY_MS = 86_400_000
#: A missing key value: the empty string (joined like any other value).
MISSING_KEY = ""
CARD_FEATURE = "card_confirmed_compromised"
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": DAY_MS}
#: Longest delay or window accepted: one year.
MAX_SPAN_MS = 366 * DAY_MS


@dataclass(frozen=True)
class RiskEntity:
    """An entity whose delayed fraud rate is a feature: its name (the features' prefix) and the
    column or columns holding its key."""

    name: str
    columns: tuple[str, ...]

    def key_of(self, values: Sequence[Any]) -> str:
        """One transaction's key from its values of :attr:`columns` (online)."""
        return joined_key([key_text(value) for value in values])

    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        """Every row's key as an integer code (offline), equal exactly where :meth:`key_of`
        gives equal keys (a missing value is the empty string)."""
        texts = frame[list(self.columns)].apply(_with_empty_text)
        return joint_codes(ColumnCodes(texts), self.columns)[0]


def key_text(value: Any) -> str:
    """A key value as text, the same on both paths (a missing value is the empty string)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_KEY
    return str(value)


def _with_empty_text(values: pd.Series) -> pd.Series:
    """A key column whose missing values are :data:`MISSING_KEY`, as :func:`key_text` has them."""
    if values.hasnans:
        return values.astype(object).where(values.notna(), MISSING_KEY)
    return values


#: The entity of the default risk features.
MERCHANT = RiskEntity("merchant", ("merchant_id",))
#: Columns that cannot be a risk entity: unique per row, the label itself, or the card (which has
#: its own flag).
NOT_RISK_ENTITIES = frozenset(
    ("transaction_id", "timestamp", "amount", "is_fraud", "fraud_pattern", "customer_id")
)


def risk_entities(columns: Sequence[str], option: str = "--risk-entity") -> tuple[RiskEntity, ...]:
    """The merchant, then an entity per further column the user names, each keyed by that
    column alone; a column that cannot be one is refused by name."""
    for column in columns:
        if not str(column).strip():
            raise FraudOpsError(f"{option}: a column name must not be empty")
        if column in MERCHANT.columns:
            raise FraudOpsError(f"{option} {column}: the merchant is a risk entity already")
        if column in NOT_RISK_ENTITIES:
            raise FraudOpsError(
                f"{option} {column}: cannot be a risk entity (it is unique per transaction, the "
                "label, or the card, which has card_confirmed_compromised)"
            )
    if twice := repeated(columns):
        raise FraudOpsError(f"{option}: given more than once: {', '.join(twice)}")
    return (MERCHANT, *(RiskEntity(str(c), (str(c),)) for c in columns))


def parse_window(text: str, option: str) -> tuple[str, int]:
    """``"7d"`` as ``("7d", 604800000)``; minutes, hours or days, whole numbers, up to a year."""
    text = str(text).strip()
    unit = text[-1:]
    amount = text[:-1]
    if unit not in _UNIT_MS or not amount.isdigit() or int(amount) <= 0:
        raise FraudOpsError(
            f"{option}: {text!r} is not a window; write a whole number and m, h or d (e.g. 7d)"
        )
    width = int(amount) * _UNIT_MS[unit]
    if width > MAX_SPAN_MS:
        raise FraudOpsError(f"{option}: {text!r} is longer than a year")
    return text, width


def parse_windows(windows: Sequence[str], option: str) -> tuple[tuple[str, int], ...]:
    """Several windows (:func:`parse_window`): at least one, none twice."""
    if not windows:
        raise FraudOpsError(f"{option}: give at least one window")
    parsed = tuple(parse_window(w, option) for w in windows)
    if twice := repeated(suffix for suffix, _ in parsed):
        raise FraudOpsError(f"{option}: windows repeat: {', '.join(twice)}")
    return parsed


@dataclass(frozen=True)
class RiskFeatures:
    """The risk features' definition as data (windows, delay, smoothing, entities, card column)
    plus the one value fitted on training labels, the prior fraud rate."""

    label_delay_ms: int = int(DEFAULT_RISK_LABEL_DELAY_DAYS * DAY_MS)
    windows_ms: tuple[tuple[str, int], ...] = tuple(
        parse_window(w, "windows") for w in DEFAULT_RISK_WINDOWS
    )
    smoothing: float = DEFAULT_RISK_SMOOTHING
    entities: tuple[RiskEntity, ...] = (MERCHANT,)
    card_column: str = "customer_id"
    #: Fraud rate of the training rows; NaN until :meth:`fitted`.
    prior: float = field(default=float("nan"))

    @classmethod
    def configured(
        cls,
        label_delay_days: float = DEFAULT_RISK_LABEL_DELAY_DAYS,
        windows: Sequence[str] = DEFAULT_RISK_WINDOWS,
        smoothing: float = DEFAULT_RISK_SMOOTHING,
        entities: Sequence[RiskEntity] = (MERCHANT,),
        option_prefix: str = "--risk-",
    ) -> RiskFeatures:
        """A checked definition; errors name the option (``option_prefix`` + its name)."""
        delay_option = f"{option_prefix}label-delay-days"
        if not isinstance(label_delay_days, int | float) or not math.isfinite(label_delay_days):
            raise FraudOpsError(f"{delay_option}: must be a number of days, got {label_delay_days}")
        delay_ms = round(label_delay_days * DAY_MS)
        if delay_ms < 1 or delay_ms > MAX_SPAN_MS:
            raise FraudOpsError(
                f"{delay_option}: must be > 0 and at most 366 days (a zero delay would let a "
                f"transaction see labels production does not have yet), got {label_delay_days}"
            )
        parsed = parse_windows(windows, f"{option_prefix}window")
        smoothing_option = f"{option_prefix}smoothing"
        if not isinstance(smoothing, int | float) or not 0 <= smoothing < math.inf:
            raise FraudOpsError(
                f"{smoothing_option}: must be a number >= 0 (pseudo-transactions at the prior "
                f"rate), got {smoothing}"
            )
        names = [entity.name for entity in entities]
        if not entities or repeated(names):
            raise FraudOpsError(f"risk entities: need distinct entities, got {names}")
        return cls(delay_ms, parsed, float(smoothing), tuple(entities))

    def fitted(self, labels: np.ndarray) -> RiskFeatures:
        """This definition with the prior set to the fraud rate of ``labels`` (training rows)."""
        labels = np.asarray(labels)
        prior = float(labels.mean()) if len(labels) else 0.0
        return replace(self, prior=prior)

    @property
    def longest_ms(self) -> int:
        """The longest window."""
        return max(width for _, width in self.windows_ms)

    @property
    def retention_ms(self) -> int:
        """How long a transaction can still fall in a delayed period: delay + longest window."""
        return self.label_delay_ms + self.longest_ms

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The features :meth:`derive` returns, in column order."""
        return (
            *(
                name
                for entity in self.entities
                for name in (
                    *(f"{entity.name}_risk_{w}" for w, _ in self.windows_ms),
                    *(f"{entity.name}_delayed_txn_count_{w}" for w, _ in self.windows_ms),
                )
            ),
            CARD_FEATURE,
        )

    @property
    def aggregate_fields(self) -> tuple[str, ...]:
        """The counts both paths produce, by name (what :meth:`derive` reads)."""
        return (
            *(
                name
                for entity in self.entities
                for name in (
                    *(f"{entity.name}:delayed_count_{w}" for w, _ in self.windows_ms),
                    *(f"{entity.name}:delayed_frauds_{w}" for w, _ in self.windows_ms),
                )
            ),
            "card:first_fraud_ts_ms",
        )

    def no_history(self, rows: int) -> dict[str, np.ndarray]:
        """The counts of an entity and card never seen: what a degraded score uses."""
        return {
            name: np.full(rows, np.nan if name.endswith("_ts_ms") else 0.0)
            for name in self.aggregate_fields
        }

    def aggregates(self, frame: pd.DataFrame, labels: np.ndarray) -> dict[str, np.ndarray]:
        """Every row's counts from the frame's own labels, vectorised, in frame order.

        Per entity: one sort of ``entity * span + time`` and, per window, two binary searches for
        the delayed period's bounds; fraud counts are differences of a prefix sum of labels.
        Ties in time need no tie-break: a period takes every transaction at a time or none.
        """
        from fraud_training.features import timestamp_ms

        ts = timestamp_ms(frame["timestamp"])
        labels = np.asarray(labels, dtype=np.int64)
        n = len(ts)
        out: dict[str, np.ndarray] = {}
        t0 = int(ts.min()) if n else 0
        span = (int(ts.max()) - t0 if n else 0) + self.retention_ms + 1
        for entity in self.entities:
            codes = entity.codes(frame)
            if n and int(codes.max()) >= np.iinfo(np.int64).max // span:
                raise ValueError(f"too many {entity.name} ids over too long a period")
            key = codes * span + (ts - t0)
            order = np.argsort(key, kind="stable")
            sorted_key = key[order]
            frauds = np.concatenate(([0], np.cumsum(labels[order])))
            # queries in sorted order: a binary search per row that walks memory in order
            upper = np.searchsorted(sorted_key, sorted_key - self.label_delay_ms, side="right")
            in_order: dict[str, np.ndarray] = {}
            for suffix, width in self.windows_ms:
                lower = np.searchsorted(
                    sorted_key, sorted_key - (self.label_delay_ms + width), side="right"
                )
                in_order[f"{entity.name}:delayed_count_{suffix}"] = upper - lower
                in_order[f"{entity.name}:delayed_frauds_{suffix}"] = frauds[upper] - frauds[lower]
            out.update(in_row_order(in_order, order))
        card_index = column_codes(_with_empty_text(frame[self.card_column]))
        first = np.full(int(card_index.max(initial=-1)) + 1, np.inf)
        fraud_rows = np.flatnonzero(labels == 1)
        np.minimum.at(first, card_index[fraud_rows], ts[fraud_rows].astype(np.float64))
        first_fraud = first[card_index]
        # The card's earliest fraud of all time: derive() only counts it once it is delay old,
        # as online it counts the earliest confirmed one.
        out["card:first_fraud_ts_ms"] = np.where(np.isinf(first_fraud), np.nan, first_fraud)
        return out

    def derive(self, ts_ms: np.ndarray, agg: Mapping[str, np.ndarray]) -> np.ndarray:
        """The feature matrix (rows x :attr:`feature_names`) from the counts, on both paths."""
        ts = np.asarray(ts_ms, dtype=np.int64)
        prior, m = self.prior, self.smoothing
        columns: list[np.ndarray] = []
        for entity in self.entities:
            counts = [
                np.asarray(agg[f"{entity.name}:delayed_count_{w}"], dtype=np.float64)
                for w, _ in self.windows_ms
            ]
            for (w, _), count in zip(self.windows_ms, counts, strict=True):
                frauds = np.asarray(agg[f"{entity.name}:delayed_frauds_{w}"], dtype=np.float64)
                denominator = count + m
                columns.append(
                    np.where(
                        denominator > 0,
                        (frauds + m * prior) / np.maximum(denominator, 1e-12),
                        prior,
                    )
                )
            columns.extend(counts)
        first_fraud = np.asarray(agg["card:first_fraud_ts_ms"], dtype=np.float64)
        known = ~np.isnan(first_fraud)
        compromised = known & (np.where(known, first_fraud, 0.0) <= ts - self.label_delay_ms)
        columns.append(compromised.astype(np.float64))
        return np.column_stack([np.broadcast_to(c, ts.shape) for c in columns]).reshape(
            len(ts), len(self.feature_names)
        )

    def build(self, frame: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
        """Offline: the risk feature matrix of a whole frame from its labels, in frame order."""
        from fraud_training.features import timestamp_ms

        return self.derive(timestamp_ms(frame["timestamp"]), self.aggregates(frame, labels))

    def describe(self) -> dict[str, Any]:
        """The definition as data: what the bundle, the serving manifest and MLflow show (and
        what :meth:`from_description` reads back)."""
        return {
            "label_delay_ms": self.label_delay_ms,
            "label_delay_days": self.label_delay_ms / DAY_MS,
            "windows": [w for w, _ in self.windows_ms],
            "smoothing": self.smoothing,
            "prior": self.prior,
            "entities": [
                {"entity": entity.name, "columns": list(entity.columns)} for entity in self.entities
            ],
            "card_column": self.card_column,
            "features": list(self.feature_names),
            "definition": (
                "{entity}_risk_{w} = (frauds + smoothing*prior) / (count + smoothing) over the "
                "entity's transactions with time in (t - label_delay - w, t - label_delay]; "
                f"{CARD_FEATURE} = the card has a fraud with time <= t - label_delay"
            ),
        }

    @classmethod
    def from_description(cls, data: Mapping[str, Any]) -> RiskFeatures:
        """The definition :meth:`describe` wrote (the serving manifest)."""
        return cls(
            label_delay_ms=int(data["label_delay_ms"]),
            windows_ms=tuple(parse_window(w, "risk.windows") for w in data["windows"]),
            smoothing=float(data["smoothing"]),
            entities=tuple(
                RiskEntity(entity["entity"], tuple(entity["columns"]))
                for entity in data["entities"]
            ),
            card_column=str(data["card_column"]),
            prior=float(data["prior"]),
        )
