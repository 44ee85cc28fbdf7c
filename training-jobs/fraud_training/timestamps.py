"""Authorisation times as files carry them, turned into one UTC datetime column.

Files hold times as ISO-8601 strings (our CSVs: ``2026-01-01T08:15:03.123Z``), native datetimes
(Parquet) or numbers counted from an origin (epoch seconds in a bank's export, the ULB set's
seconds since its first transaction). Values that cannot be read become ``NaT`` here; validation
then reports them with the value as written, so parsing itself never raises on bad data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

EPOCH_UNITS = ("s", "ms", "us", "ns")
UNIX_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
UTC_NS = pd.DatetimeTZDtype("ns", "UTC")
#: How an ISO-8601 time ends when it states its offset from UTC.
UTC_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"


@dataclass(frozen=True)
class TimestampFormat:
    """How a column's values denote instants: ISO-8601 text (``unit`` None) or numbers of
    ``unit`` since ``origin``. Text without a UTC offset is taken to be UTC."""

    unit: str | None = None
    origin: pd.Timestamp = UNIX_EPOCH

    def __post_init__(self) -> None:
        if self.unit is not None and self.unit not in EPOCH_UNITS:
            raise ValueError(f"timestamp unit must be one of {', '.join(EPOCH_UNITS)}")

    def describe(self) -> str:
        """What a valid value looks like, for error messages."""
        if self.unit is None:
            return "an ISO-8601 time such as 2026-01-01T08:15:03Z (epoch numbers need a unit)"
        return f"a number of {self.unit} since {self.origin.isoformat()}"


#: Our own files: ISO-8601 text (or native datetimes).
ISO_TIMESTAMPS = TimestampFormat()


def parse_timestamps(values: pd.Series, timestamp_format: TimestampFormat) -> pd.Series:
    """``values`` as ``datetime64[ns, UTC]``; what cannot be read becomes ``NaT``."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").astype(UTC_NS)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.dt.tz_localize("UTC").astype(UTC_NS)
    if timestamp_format.unit is not None:
        return _from_numbers(values, timestamp_format)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return pd.Series(pd.NaT, index=values.index, dtype=UTC_NS)
    return _from_text(values)


def _from_numbers(values: pd.Series, timestamp_format: TimestampFormat) -> pd.Series:
    """Whole units in integer nanoseconds (exact), the fraction of a unit rounded to a ns."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    ns_per_unit = pd.Timedelta(1, unit=timestamp_format.unit).value
    origin_ns = timestamp_format.origin.value
    limit = (np.iinfo(np.int64).max - abs(origin_ns)) / ns_per_unit * 0.99
    readable = np.isfinite(numbers) & (np.abs(numbers) < limit)
    numbers = np.where(readable, numbers, 0.0)
    whole = np.floor(numbers)
    ns = (
        origin_ns
        + whole.astype(np.int64) * ns_per_unit
        + np.rint((numbers - whole) * ns_per_unit).astype(np.int64)
    )
    ns[~readable] = np.iinfo(np.int64).min  # NaT
    return pd.Series(ns.view("datetime64[ns]"), index=values.index).dt.tz_localize("UTC")


def _from_text(values: pd.Series) -> pd.Series:
    """Arrow's C parser for the common case (every value ISO-8601 with an offset), pandas'
    ISO-8601 parser (which also takes times without offset) when Arrow refuses any value.

    Pandas is given values with and without an offset separately: in one call it applies an
    earlier value's offset to a later value that has none.
    """
    try:
        parsed = pa.array(values, from_pandas=True).cast(pa.timestamp("ns", tz="UTC"))
        return pd.Series(parsed.to_pandas(), index=values.index, dtype=UTC_NS)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    text = values.where(values.isna(), values.astype(str))
    with_offset = text.str.contains(UTC_OFFSET, regex=True, na=False)
    parsed = pd.Series(pd.NaT, index=values.index, dtype=UTC_NS)
    for rows in (with_offset, ~with_offset):
        parsed[rows] = pd.to_datetime(text[rows], format="ISO8601", utc=True, errors="coerce")
    return parsed
