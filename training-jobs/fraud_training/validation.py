"""Validation of a data set before anything trains on it, with Pandera schemas built from
:mod:`fraud_training.schema`.

Validation runs in two vectorised steps. Values are first converted to the schema's types
(numbers, UTC times, strings); what cannot be converted becomes missing. Pandera then checks the
typed frame lazily, so *every* problem is collected: missing columns, unreadable or missing values,
values outside their range or set, duplicate transaction ids. The error names, for each problem,
the column, the rule and up to five offending rows with the value as the file wrote it.

The conversion is done here rather than by Pandera's ``coerce=True`` because Pandera looks for
the values that failed to convert one element at a time in Python, which takes minutes on a
million rows; here a failed conversion is a missing value, found in one vectorised pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from fraud_training.errors import DataError
from fraud_training.schema import (
    CREDITCARD_PCA_COLUMNS,
    LABEL,
    PATTERN,
    REQUIRED_FIELDS,
    TRANSACTION_COLUMNS,
    Channel,
)
from fraud_training.timestamps import ISO_TIMESTAMPS, UTC_NS, TimestampFormat, parse_timestamps

FEATURE_SET_NAMES = ("transactions", "creditcard")
#: The values a categorical column may take. Only ``channel`` is closed: its values mean
#: something to the features. Merchant categories are an open vocabulary (the generator's
#: ``CATEGORIES`` are one-hot encoded, any other value is a category of its own).
ALLOWED_VALUES: dict[str, tuple[str, ...]] = {
    "channel": tuple(channel.value for channel in Channel),
}
#: The kinds a pass-through feature column can have.
NUMERIC, CATEGORICAL = "numeric", "categorical"
#: Inclusive bounds of numeric columns; None leaves a side open.
VALUE_RANGES: dict[str, tuple[float | None, float | None]] = {
    "amount": (0.0, None),
    "lat": (-90.0, 90.0),
    "lon": (-180.0, 180.0),
    "home_lat": (-90.0, 90.0),
    "home_lon": (-180.0, 180.0),
}
UNIQUE_COLUMNS = ("transaction_id",)
LABEL_VALUES = (0, 1)
#: Offending rows quoted per problem.
MAX_EXAMPLES = 5

#: Text columns are checked as ``object``: :func:`to_schema_types` has already made every value a
#: ``str`` (or missing), and Pandera's ``str`` check would test each element again in Python.
_KIND_DTYPES: dict[str, object] = {
    "str": object,
    "category": object,
    "float": np.float64,
    "datetime": UTC_NS,
    "int": np.float64,  # checked as a number, stored as int64 once valid
}
_KIND_NAMES = {
    "str": "text",
    "category": "text",
    "float": "a number",
    "int": "a number",
}


def column_kinds(feature_set: str, require_label: bool = True) -> dict[str, str]:
    """Every column a feature set's data must have, with its kind (see ``schema.Column``).

    The transaction features read every transaction column (loaders fill the optional ones from
    ``OPTIONAL_DEFAULTS``); the ULB set needs the required ones and its PCA components.
    """
    if feature_set == "transactions":
        kinds = {column.name: column.kind for column in TRANSACTION_COLUMNS}
    elif feature_set == "creditcard":
        kinds = {c.name: c.kind for c in TRANSACTION_COLUMNS if c.name in REQUIRED_FIELDS}
        kinds.update(dict.fromkeys(CREDITCARD_PCA_COLUMNS, "float"))
    else:
        raise DataError(
            f"feature set: {feature_set!r} is not one of {', '.join(FEATURE_SET_NAMES)}"
        )
    if require_label:
        kinds[LABEL] = "int"
    return kinds


def _checks(name: str, kind: str) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if name in ALLOWED_VALUES:
        allowed = ALLOWED_VALUES[name]
        checks.append(pa.Check.isin(allowed, error=f"must be one of {', '.join(allowed)}"))
    low, high = VALUE_RANGES.get(name, (None, None))
    if low is not None and high is not None:
        checks.append(pa.Check.in_range(low, high, error=f"must be between {low:g} and {high:g}"))
    elif low is not None:
        checks.append(pa.Check.ge(low, error=f"must be >= {low:g}"))
    if kind == "int":
        checks.append(pa.Check.isin(LABEL_VALUES, error="must be 0 or 1"))
    return checks


def build_schema(feature_set: str, require_label: bool = True) -> pa.DataFrameSchema:
    """The Pandera schema of a typed frame of ``feature_set``, derived from the column table."""
    columns = {
        name: pa.Column(
            _KIND_DTYPES[kind],
            checks=_checks(name, kind),
            nullable=False,
            unique=name in UNIQUE_COLUMNS,
        )
        for name, kind in column_kinds(feature_set, require_label).items()
    }
    if feature_set == "transactions":
        columns[PATTERN] = pa.Column(object, nullable=False, required=False)
    return pa.DataFrameSchema(columns, strict=False, coerce=False, name=feature_set)


def to_schema_types(
    frame: pd.DataFrame, kinds: Mapping[str, str], timestamp_format: TimestampFormat
) -> pd.DataFrame:
    """A copy of ``frame`` with each known column converted to its kind's type, vectorised;
    values that cannot be converted become missing (validation reports them)."""
    typed = frame.copy(deep=False)
    for name, kind in kinds.items():
        if name not in typed.columns:
            continue
        values = typed[name]
        if kind == "datetime":
            typed[name] = parse_timestamps(values, timestamp_format)
        elif kind in ("float", "int"):
            typed[name] = pd.to_numeric(values, errors="coerce").astype(np.float64)
        elif pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            typed[name] = values.astype(object).where(values.isna(), values.astype(str))
    return typed


def validate_frame(
    frame: pd.DataFrame,
    feature_set: str,
    *,
    source: str = "data",
    timestamp_format: TimestampFormat = ISO_TIMESTAMPS,
    require_label: bool = True,
    pass_through: Sequence[str] = (),
    keys: Sequence[str] = (),
) -> pd.DataFrame:
    """The frame converted to the schema's types, or :class:`DataError` listing every problem.

    ``keys`` are the key columns the user names as entities: kept last, as text, an empty value
    missing (such a row has no history of that entity).

    ``pass_through`` columns are the user's own feature columns: kept after the schema's, numbers
    as float64 (empty values missing) when every non-empty value is a number, text otherwise;
    they may hold empty values, which the learner treats as missing.

    ``frame`` holds the values as read (text or numbers); ``source`` names it in the message.
    The result holds the feature set's columns in schema order (then ``fraud_pattern``, if
    present), indexed by row position; the label is int64, times ``datetime64[ns, UTC]``.
    """
    kinds = column_kinds(feature_set, require_label)
    if frame.empty:
        raise DataError(f"{source}: has no rows")
    original = frame.reset_index(drop=True)
    typed = to_schema_types(original, kinds, timestamp_format)
    try:
        build_schema(feature_set, require_label).validate(typed, lazy=True)
    except SchemaErrors as errors:
        raise DataError(
            describe_failures(errors.failure_cases, original, kinds, source, timestamp_format)
        ) from None
    if require_label:
        typed[LABEL] = typed[LABEL].astype(np.int64)
    for name in pass_through:
        typed[name] = _pass_through_values(original[name])
    for name in keys:
        values = original[name]
        typed[name] = values.astype(str).where(values.notna(), None).astype(object)
    pattern = [PATTERN] if PATTERN in typed.columns else []
    return typed[[*kinds, *pattern, *pass_through, *keys]]


def _pass_through_values(values: pd.Series) -> pd.Series:
    """Numbers as float64 if every non-empty value is one, else text with empties missing."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().sum() == values.notna().sum():
        return numbers.astype(np.float64)
    return values.astype(object).where(values.isna(), values.astype(str))


def pass_through_kind(values: pd.Series) -> str:
    """numeric or categorical, from a column :func:`validate_frame` returned."""
    return NUMERIC if pd.api.types.is_float_dtype(values) else CATEGORICAL


def describe_failures(
    failure_cases: pd.DataFrame,
    original: pd.DataFrame,
    kinds: Mapping[str, str],
    source: str,
    timestamp_format: TimestampFormat,
) -> str:
    """One line per (column, rule): how many rows break it and the first few, quoted as the
    source wrote them. Work is per group of failures, never per failing row."""
    lines = []
    absent = failure_cases["check"] == "column_in_dataframe"
    present = ", ".join(map(str, original.columns)) or "none"
    for column in failure_cases.loc[absent, "failure_case"]:
        lines.append(f"  - {column}: column is missing (the data has: {present})")
    cells = failure_cases[~absent]
    for (column, check), group in cells.groupby(["column", "check"], sort=False):
        written = original[column].loc[np.sort(pd.unique(group["index"]))]
        if check == "not_nullable":
            empty = written.isna()
            kind = kinds.get(column, "str")
            expected = timestamp_format.describe() if kind == "datetime" else _KIND_NAMES[kind]
            lines.append(_problem(column, "must not be empty", written[empty]))
            lines.append(_problem(column, f"must be {expected}", written[~empty]))
        elif check == "field_uniqueness":
            lines.append(_problem(column, "must be unique (duplicated)", written))
        else:
            lines.append(_problem(column, str(check), written))
    lines = [line for line in lines if line]
    header = (
        f"{source}: {len(original):,} rows failed validation "
        f"({len(lines)} problem{'s' if len(lines) != 1 else ''}; rows counted from 0):"
    )
    return "\n".join([header, *lines])


def _problem(column: str, rule: str, written: pd.Series) -> str:
    """``  - column: rule — N rows, e.g. row i: value, ...`` or nothing for no rows."""
    if written.empty:
        return ""
    examples = ", ".join(
        f"row {index}: {_show(value)}" for index, value in written.iloc[:MAX_EXAMPLES].items()
    )
    count = f"{len(written):,} row{'s' if len(written) != 1 else ''}"
    return f"  - {column}: {rule} — {count}, e.g. {examples}"


def _show(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if pd.isna(value):
        return "empty"
    return str(value)
