"""Loading a data set from a file into one validated, normalised :class:`Dataset`.

Three inputs are understood:

* **our schema** (CSV or Parquet, as ``fraudctl generate`` writes it): feature set
  ``transactions``. Optional columns that are absent (or values that are empty) are filled from
  ``schema.OPTIONAL_DEFAULTS``, with a warning, so features built on them degrade to constants.
* **the ULB credit-card file** (``Time, V1..V28, Amount, Class``): feature set ``creditcard``.
  ``Time`` counts seconds from 2013-09-01T00:00Z; the transaction id is the row number (the file
  has exact duplicate rows, which are separate authorisations); the customer is ``"unknown"``.
* **any CSV through a column mapping** (our field → the file's column): feature set
  ``transactions``. Without a mapped ``transaction_id`` the ids are the row numbers, which are
  only stable while the file's row order is. The mapping may also name **pass-through feature
  columns** (``--feature``, ``features:`` in YAML): the file's own columns, kept under their own
  names as model inputs, numeric or categorical as their values say.

The format is detected from the header unless given. Loading always validates
(:func:`fraud_training.validation.validate_frame`): a :class:`Dataset` never holds data that
failed, and ``sha256`` (of the file's bytes) records exactly which file was read for lineage.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from fraud_training.choices import FORMATS
from fraud_training.errors import DataError
from fraud_training.features import CREDITCARD_FEATURES, ENTITY_HISTORIES, TRANSACTION_FEATURES
from fraud_training.object_store import is_object_uri, local_copy
from fraud_training.repeats import repeated
from fraud_training.schema import (
    CREDITCARD_COLUMNS,
    CREDITCARD_PCA_COLUMNS,
    LABEL,
    OPTIONAL_DEFAULTS,
    PATTERN,
    REQUIRED_FIELDS,
    TRANSACTION_COLUMNS,
    TRANSACTION_FIELDS,
)
from fraud_training.timestamps import EPOCH_UNITS, ISO_TIMESTAMPS, TimestampFormat
from fraud_training.validation import pass_through_kind, validate_frame

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: The ULB set's ``Time`` is seconds since its first transaction, which it does not date; the
#: collection ran over two days in September 2013.
ULB_START = pd.Timestamp("2013-09-01", tz="UTC")
ULB_CUSTOMER = "unknown"
ULB_TIMESTAMPS = TimestampFormat(unit="s", origin=ULB_START)
#: Fields a mapping may name: the transaction schema plus the label and the pattern.
MAPPABLE_FIELDS: tuple[str, ...] = (*TRANSACTION_FIELDS, LABEL, PATTERN)
#: Names a pass-through feature may not take: the ULB components and our derived features' own
#: names would be ambiguous in the model's feature list.
RESERVED_NAMES = frozenset((*CREDITCARD_PCA_COLUMNS, *TRANSACTION_FEATURES, *CREDITCARD_FEATURES))
#: Names a user entity may not take: the default entities' own (their features would clash).
ENTITY_NAMES = frozenset(("customer", *(entity.name for entity in ENTITY_HISTORIES)))
#: Fields whose values are identifiers: read as text so ``007`` stays ``007``.
TEXT_FIELDS = frozenset(c.name for c in TRANSACTION_COLUMNS if c.kind in ("str", "category"))
HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class Dataset:
    """A validated data set: the frame in the schema of ``feature_set``, where it came from and
    the sha256 of the file's bytes."""

    frame: pd.DataFrame
    feature_set: str
    source: str
    sha256: str
    #: Pass-through feature columns of the frame and their kind (numeric or categorical).
    pass_through: dict[str, str] = field(default_factory=dict)
    #: Key columns of the frame the user named as entities (each gets history features).
    entities: tuple[str, ...] = ()

    def summary(self) -> dict[str, object]:
        """Rows, frauds, fraud rate, time span and customers (what ``check-data`` prints)."""
        frame = self.frame
        frauds = int(frame[LABEL].sum()) if LABEL in frame else None
        first, last = frame["timestamp"].min(), frame["timestamp"].max()
        summary: dict[str, object] = {
            "rows": len(frame),
            "frauds": frauds,
            "fraud_rate": None if frauds is None else frauds / len(frame),
            "first": first,
            "last": last,
            "span_days": (last - first).total_seconds() / 86_400.0,
            "customers": int(frame["customer_id"].nunique()),
        }
        if PATTERN in frame:
            summary["patterns"] = frame[PATTERN].value_counts().sort_index().to_dict()
        return summary


@dataclass(frozen=True)
class ColumnMapping:
    """Which column of a file holds each of our fields, and how its timestamps are written."""

    columns: dict[str, str] = field(default_factory=dict)
    timestamp_unit: str | None = None
    #: The file's own columns passed through as model inputs, under their own names.
    features: tuple[str, ...] = ()
    #: The file's key columns (e-mail domain, IP, BIN, ...) that get entity history features.
    entities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(MAPPABLE_FIELDS))
        if unknown:
            raise DataError(
                f"mapping: unknown field(s) {', '.join(unknown)}; "
                f"fields are: {', '.join(MAPPABLE_FIELDS)}"
            )
        mapped = {column: name for name, column in self.columns.items()}
        for feature in self.features:
            if not feature.strip():
                raise DataError("--feature: a feature column name must not be empty")
            if feature in mapped:
                raise DataError(
                    f"--feature {feature}: the column is already mapped to {mapped[feature]}; "
                    "a column is either a mapped field or a pass-through feature"
                )
            if feature in MAPPABLE_FIELDS or feature in RESERVED_NAMES:
                raise DataError(
                    f"--feature {feature}: the name is one of our own fields; map it with "
                    f"--map {feature}=COLUMN instead"
                )
        if twice := repeated(self.features):
            raise DataError(f"--feature: given more than once: {', '.join(twice)}")
        for entity in self.entities:
            if not entity.strip():
                raise DataError("--entity: an entity column name must not be empty")
            if entity in mapped:
                raise DataError(
                    f"--entity {entity}: the column is already mapped to {mapped[entity]}; "
                    "a column is either a mapped field or an entity"
                )
            if entity in self.features:
                raise DataError(
                    f"--entity {entity}: the column is also a --feature; a column is either a "
                    "pass-through feature or an entity"
                )
            if entity in MAPPABLE_FIELDS or entity in RESERVED_NAMES or entity in ENTITY_NAMES:
                raise DataError(
                    f"--entity {entity}: the name is one of our own fields or entities; rename "
                    "the column"
                )
        if twice := repeated(self.entities):
            raise DataError(f"--entity: given more than once: {', '.join(twice)}")
        if self.timestamp_unit is not None and self.timestamp_unit not in EPOCH_UNITS:
            raise DataError(
                f"timestamp_unit: {self.timestamp_unit!r} is not one of {', '.join(EPOCH_UNITS)} "
                "(leave it out for ISO-8601 text)"
            )

    @classmethod
    def from_pairs(
        cls,
        pairs: Iterable[str],
        timestamp_unit: str | None = None,
        features: Iterable[str] = (),
        entities: Iterable[str] = (),
    ) -> ColumnMapping:
        """From ``field=column`` strings (the CLI's repeated ``--map``), ``--feature`` and
        ``--entity`` names."""
        columns: dict[str, str] = {}
        for pair in pairs:
            name, sep, column = pair.partition("=")
            if not sep or not name.strip() or not column.strip():
                raise DataError(f"--map: {pair!r} is not of the form field=column")
            columns[name.strip()] = column.strip()
        return cls(
            columns,
            timestamp_unit,
            tuple(f.strip() for f in features),
            tuple(e.strip() for e in entities),
        )

    @classmethod
    def from_yaml(cls, path: Path) -> ColumnMapping:
        """From a YAML file: ``columns: {field: column, ...}`` and optionally ``timestamp_unit``,
        ``features: [column, ...]`` and ``entities: [column, ...]``."""
        try:
            document = yaml.safe_load(Path(path).read_text())
        except OSError as error:
            raise DataError(f"mapping file {path}: cannot be read ({error.strerror})") from None
        except yaml.YAMLError as error:
            raise DataError(f"mapping file {path}: not valid YAML ({error})") from None
        if not isinstance(document, dict) or not isinstance(document.get("columns"), dict):
            raise DataError(
                f"mapping file {path}: expected a 'columns:' section of field: column entries"
            )
        extra = sorted(set(document) - {"columns", "timestamp_unit", "features", "entities"})
        if extra:
            raise DataError(f"mapping file {path}: unknown key(s) {', '.join(map(str, extra))}")
        columns = {str(k): str(v) for k, v in document["columns"].items()}
        unit = document.get("timestamp_unit")
        features = document.get("features") or []
        if not isinstance(features, list):
            raise DataError(f"mapping file {path}: 'features:' must be a list of column names")
        entities = document.get("entities") or []
        if not isinstance(entities, list):
            raise DataError(f"mapping file {path}: 'entities:' must be a list of column names")
        return cls(
            columns,
            None if unit is None else str(unit),
            tuple(map(str, features)),
            tuple(map(str, entities)),
        )

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> ColumnMapping:
        """From a FraudModel's ``spec.data.columnMapping``: our field names → columns, plus
        ``features``, ``entities`` and ``timestampUnit`` (the CRD's shape of the same mapping)."""
        columns = {
            str(name): str(column)
            for name, column in spec.items()
            if name not in ("features", "entities", "timestampUnit")
        }
        unit = spec.get("timestampUnit")
        return cls(
            columns,
            None if unit is None else str(unit),
            tuple(map(str, spec.get("features") or ())),
            tuple(map(str, spec.get("entities") or ())),
        )

    def updated(self, other: ColumnMapping) -> ColumnMapping:
        """This mapping with ``other``'s entries (and unit, if set) taking precedence; the
        pass-through features of both."""
        return ColumnMapping(
            {**self.columns, **other.columns},
            other.timestamp_unit or self.timestamp_unit,
            tuple(dict.fromkeys((*self.features, *other.features))),
            tuple(dict.fromkeys((*self.entities, *other.entities))),
        )


def load_dataset(
    path: Path | str,
    *,
    data_format: str = "auto",
    mapping: ColumnMapping | None = None,
    require_label: bool = True,
) -> Dataset:
    """Read, normalise and validate the data set at ``path``: a local file or an
    ``s3://bucket/key`` object (read from a scratch copy, see :mod:`fraud_training.object_store`;
    the Dataset's ``source`` is then the URI).

    ``data_format`` is one of :data:`FORMATS`; a ``mapping`` implies ``"mapped"``. Raises
    :class:`DataError` naming the problem when the file cannot be read, mapped or validated, and
    :class:`~fraud_training.object_store.StorageError` when the object cannot be fetched.
    """
    with local_copy(path) as local:
        options = {"data_format": data_format, "mapping": mapping, "require_label": require_label}
        if not is_object_uri(path):
            return _load_file(local, str(local), **options)
        try:
            return _load_file(local, str(path), **options)
        except DataError as error:
            # the person wrote the URI: the scratch copy's path means nothing to them
            raise DataError(str(error).replace(str(local), str(path))) from None


def _load_file(
    path: Path,
    source: str,
    *,
    data_format: str,
    mapping: ColumnMapping | None,
    require_label: bool,
) -> Dataset:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if data_format not in FORMATS:
        raise DataError(f"format: {data_format!r} is not one of {', '.join(FORMATS)}")
    if mapping is not None and data_format not in ("auto", "mapped"):
        raise DataError(f"format {data_format}: a column mapping only applies to mapped files")
    if mapping is None and data_format == "mapped":
        raise DataError("format mapped: give a column mapping (--map field=column or --mapping)")
    reader = _reader_for(path)
    header = reader.header()
    if mapping is None and data_format == "auto":
        data_format = detect_format(header, str(path))
    if mapping is not None:
        feature_set, timestamps = "transactions", TimestampFormat(mapping.timestamp_unit)
        raw = fill_optional_defaults(
            _mapped_frame(reader, header, mapping, require_label), str(path)
        )
        pass_through, entities = list(mapping.features), list(mapping.entities)
    elif data_format == "creditcard":
        feature_set, timestamps = "creditcard", ULB_TIMESTAMPS
        raw = _creditcard_frame(reader, header)
        pass_through, entities = [], []
    else:
        feature_set, timestamps = "transactions", ISO_TIMESTAMPS
        raw = fill_optional_defaults(_our_frame(reader, header), str(path))
        pass_through, entities = [], []
    frame = validate_frame(
        raw,
        feature_set,
        source=source,
        timestamp_format=timestamps,
        require_label=require_label,
        pass_through=pass_through,
        keys=entities,
    )
    kinds = {name: pass_through_kind(frame[name]) for name in pass_through}
    return Dataset(frame, feature_set, source, file_sha256(path), kinds, tuple(entities))


def detect_format(header: list[str], source: str) -> str:
    """``creditcard`` for the ULB header, ``transactions`` for ours; otherwise a mapping is
    needed and the error says how to give one."""
    columns = set(header)
    if set(CREDITCARD_COLUMNS) <= columns:
        return "creditcard"
    if set(REQUIRED_FIELDS) <= columns:
        return "transactions"
    raise DataError(
        f"{source}: cannot tell the format from its columns ({', '.join(header) or 'none'}). "
        f"Our schema needs at least {', '.join(REQUIRED_FIELDS)}; the ULB credit-card file has "
        "Time, V1..V28, Amount, Class. For other files give a column mapping "
        "(--map field=column, repeated, or --mapping file.yaml)."
    )


def fill_optional_defaults(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Absent optional columns, and empty values in present ones, from ``OPTIONAL_DEFAULTS``;
    a warning line says what was filled."""
    frame = frame.copy(deep=False)
    absent = [name for name in OPTIONAL_DEFAULTS if name not in frame.columns]
    for name in absent:
        frame[name] = OPTIONAL_DEFAULTS[name]
    if absent:
        defaults = ", ".join(f"{name}={OPTIONAL_DEFAULTS[name]!r}" for name in absent)
        log.warning("%s: optional columns missing, filled with defaults: %s", source, defaults)
    for name, default in OPTIONAL_DEFAULTS.items():
        empty = int(frame[name].isna().sum())
        if empty:
            frame[name] = frame[name].fillna(default)
            log.warning("%s: %s has %d empty values, filled with %r", source, name, empty, default)
    return frame


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def row_ids(n: int) -> pd.Series:
    """Transaction ids from row numbers, zero-padded to one width so they sort as numbers."""
    width = len(str(max(n - 1, 0)))
    return pd.Series(range(n), dtype="int64").astype(str).str.zfill(width)


def _our_frame(reader: _Reader, header: list[str]) -> pd.DataFrame:
    known = [name for name in header if name in MAPPABLE_FIELDS]
    ignored = [name for name in header if name not in MAPPABLE_FIELDS]
    if ignored:
        log.warning("%s: ignoring columns not in the schema: %s", reader.path, ", ".join(ignored))
    return reader.read(known, text=[name for name in known if name in TEXT_FIELDS])


def _creditcard_frame(reader: _Reader, header: list[str]) -> pd.DataFrame:
    missing = [name for name in CREDITCARD_COLUMNS if name not in header]
    if missing:
        raise DataError(
            f"{reader.path}: not the ULB credit-card file, it lacks {', '.join(missing)} "
            f"(the file has: {', '.join(header)})"
        )
    raw = reader.read(list(CREDITCARD_COLUMNS), text=[])
    return pd.DataFrame(
        {
            "transaction_id": row_ids(len(raw)),
            "customer_id": ULB_CUSTOMER,
            "timestamp": raw["Time"],
            "amount": raw["Amount"],
            **{name: raw[name] for name in CREDITCARD_PCA_COLUMNS},
            LABEL: raw["Class"],
        }
    )


def _mapped_frame(
    reader: _Reader, header: list[str], mapping: ColumnMapping, require_label: bool
) -> pd.DataFrame:
    """The mapped columns renamed to our fields; every mapping problem reported at once."""
    needed = [name for name in REQUIRED_FIELDS if name != "transaction_id"]
    if require_label:
        needed.append(LABEL)
    problems = []
    unmapped = [name for name in needed if name not in mapping.columns]
    if unmapped:
        problems.append(f"required field(s) not mapped: {', '.join(unmapped)}")
    absent = {f: c for f, c in mapping.columns.items() if c not in header}
    if absent:
        named = ", ".join(f"{f}={c!r}" for f, c in absent.items())
        problems.append(f"mapped column(s) not in the file: {named}")
    if problems:
        raise DataError(
            f"{reader.path}: {'; '.join(problems)}. The file's columns are: {', '.join(header)}"
        )
    missing_features = [name for name in mapping.features if name not in header]
    if missing_features:
        raise DataError(
            f"{reader.path}: --feature column(s) not in the file: {', '.join(missing_features)}. "
            f"The file's columns are: {', '.join(header)}"
        )
    missing_entities = [name for name in mapping.entities if name not in header]
    if missing_entities:
        raise DataError(
            f"{reader.path}: --entity column(s) not in the file: {', '.join(missing_entities)}. "
            f"The file's columns are: {', '.join(header)}"
        )
    source_columns = list(
        dict.fromkeys([*mapping.columns.values(), *mapping.features, *mapping.entities])
    )
    text = [c for f, c in mapping.columns.items() if f in TEXT_FIELDS] + list(mapping.entities)
    raw = reader.read(source_columns, text=text)
    frame = pd.DataFrame(
        {
            **{name: raw[column] for name, column in mapping.columns.items()},
            **{name: raw[name] for name in mapping.features},
            **{name: raw[name] for name in mapping.entities},
        }
    )
    if "transaction_id" not in frame:
        log.warning(
            "%s: no transaction_id mapped; ids are row numbers, stable only while the file's "
            "row order is",
            reader.path,
        )
        frame.insert(0, "transaction_id", row_ids(len(frame)))
    return frame


class _Reader:
    """Reads the header and selected columns of a CSV or Parquet file; read errors become
    :class:`DataError` naming the file."""

    def __init__(self, path: Path, parquet: bool) -> None:
        self.path = path
        self.parquet = parquet

    def header(self) -> list[str]:
        try:
            if self.parquet:
                return [str(name) for name in pq.read_schema(self.path).names]
            return [str(name) for name in pd.read_csv(self.path, nrows=0).columns]
        except pd.errors.EmptyDataError:
            raise DataError(f"{self.path}: the file is empty") from None
        except (pa.ArrowException, pd.errors.ParserError, UnicodeDecodeError, OSError) as error:
            raise DataError(f"{self.path}: cannot be read ({error})") from None

    def read(self, columns: list[str], text: list[str]) -> pd.DataFrame:
        """The given columns; ``text`` ones as strings (CSV) so ids keep their leading zeros."""
        try:
            if self.parquet:
                return pq.read_table(self.path, columns=columns).to_pandas()
            return pd.read_csv(
                self.path, usecols=columns, dtype=dict.fromkeys(text, str), low_memory=False
            )
        except (pa.ArrowException, pd.errors.ParserError, UnicodeDecodeError, OSError) as error:
            raise DataError(f"{self.path}: cannot be read ({error})") from None


def _reader_for(path: Path) -> _Reader:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return _Reader(path, parquet=True)
    if name.endswith(CSV_SUFFIXES):
        return _Reader(path, parquet=False)
    raise DataError(
        f"{path}: unknown file type; expected one of {', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}"
    )
