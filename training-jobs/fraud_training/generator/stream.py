"""Assemble the stream: population, honest behaviour, fraud patterns; sort, name, write.

Everything random comes from one ``numpy.random.default_rng(seed)`` consumed in a fixed order, and
the writers are deterministic, so the same configuration gives a byte-identical file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from fraud_training.errors import DataError
from fraud_training.generator.config import GeneratorConfig
from fraud_training.generator.draft import TERMINAL, Draft
from fraud_training.generator.legit import legit_transactions
from fraud_training.generator.patterns import PATTERN_NAMES, PATTERNS, split_rows
from fraud_training.generator.patterns.context import FraudContext
from fraud_training.generator.population import Population, build_population
from fraud_training.schema import CATEGORIES, LABEL, PATTERN, Channel

#: How timestamps are written in CSV: ISO-8601, UTC, milliseconds, "Z" suffix.
CSV_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # %S carries the milliseconds of a ms timestamp
WRITERS = (".csv", ".parquet")

StepCallback = Callable[[str], None]


def generate_transactions(
    config: GeneratorConfig, on_step: StepCallback | None = None
) -> pd.DataFrame:
    """The synthetic stream as a frame in the transaction schema plus ``is_fraud`` and
    ``fraud_pattern``, sorted by time. ``on_step`` hears the name of each step as it starts."""
    announce = on_step or (lambda _step: None)
    rng = np.random.default_rng(config.seed)
    announce("population")
    population = build_population(config, rng)
    announce("legit behaviour")
    legit = legit_transactions(population, config, rng, config.rows - config.fraud_rows)
    context = FraudContext.of(config, population, legit, rng)
    drafts = [legit]
    for code, (pattern, rows) in enumerate(
        zip(PATTERNS, split_rows(config.fraud_rows), strict=True), 1
    ):
        announce(pattern.name)
        drafts.append(pattern.generate(context, int(rows), code))
    announce("assemble")
    stream = Draft.concat(drafts)
    stream = stream.take(np.argsort(stream.ts_ms, kind="stable"))
    return _to_frame(stream, population)


def _labels(prefix: str, numbers: np.ndarray) -> np.ndarray:
    """``prefix`` + zero-padded numbers as an object array; each distinct number formatted once."""
    distinct, inverse = np.unique(numbers, return_inverse=True)
    width = len(str(int(distinct.max()))) if len(distinct) else 1
    text = pc.binary_join_element_wise(
        prefix, pc.utf8_lpad(pc.cast(pa.array(distinct), pa.string()), width, "0"), ""
    )
    return text.to_numpy(zero_copy_only=False)[inverse]


def _to_frame(stream: Draft, population: Population) -> pd.DataFrame:
    customers, merchants = population.customers, population.merchants
    n = len(stream)
    merchant, customer = stream.merchant, stream.customer
    online = merchants.online[merchant]
    terminal = stream.device == TERMINAL
    device = np.where(
        terminal,
        _labels("t", merchant),
        _labels("d", np.where(terminal, 0, stream.device)),
    )
    return pd.DataFrame(
        {
            "transaction_id": _labels("tx", np.arange(n)),
            "customer_id": _labels("c", customer),
            "timestamp": pd.to_datetime(stream.ts_ms, unit="ms", utc=True),
            "amount": stream.amount,
            "merchant_id": _labels("m", merchant),
            "merchant_category": np.asarray(CATEGORIES, dtype=object)[merchants.category[merchant]],
            "merchant_country": merchants.country[merchant].astype(object),
            "channel": np.where(online, Channel.ONLINE.value, Channel.IN_STORE.value).astype(
                object
            ),
            "device_id": device,
            "lat": stream.lat,
            "lon": stream.lon,
            "home_lat": customers.home_lat[customer],
            "home_lon": customers.home_lon[customer],
            "home_country": customers.country[customer].astype(object),
            LABEL: (stream.pattern != 0).astype(np.int64),
            PATTERN: np.asarray(PATTERN_NAMES, dtype=object)[stream.pattern],
        }
    )


def check_output_path(path: Path) -> None:
    """Refuse an output the writers cannot produce, before any work is done."""
    if Path(path).suffix.lower() not in WRITERS:
        raise DataError(f"--out: {Path(path).name} must end in .csv or .parquet")


def write_transactions(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as CSV or Parquet (by the extension), atomically: a reader never sees a
    half-written file and a failed write leaves nothing behind."""
    path = Path(path)
    check_output_path(path)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    timestamp = table.schema.get_field_index("timestamp")
    table = table.set_column(
        timestamp, "timestamp", pc.cast(table.column(timestamp), pa.timestamp("ms", tz="UTC"))
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        if path.suffix.lower() == ".parquet":
            pq.write_table(table, partial)
        else:
            text = pc.strftime(table.column(timestamp), format=CSV_TIMESTAMP_FORMAT)
            pa_csv.write_csv(table.set_column(timestamp, "timestamp", text), partial)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return path
