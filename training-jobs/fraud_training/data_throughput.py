"""How fast the data layer is: generate, validate, write and load a stream, timed per step.

For ``benchmarks/bench_pipeline.py``: it prints the rows per second; nothing here asserts a
speed (the machine is shared, timings are noisy).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fraud_training.generator import GeneratorConfig, generate_transactions, write_transactions
from fraud_training.loaders import load_dataset
from fraud_training.validation import validate_frame


@dataclass(frozen=True)
class StepTiming:
    """Wall time of one data-layer step over ``rows`` rows."""

    step: str
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def time_data_layer(rows: int = 1_000_000, seed: int = 0) -> list[StepTiming]:
    """Time generation, in-memory validation, writing and loading (read + validate) of a stream
    of ``rows`` rows at 2 % fraud, as Parquet and CSV in a temporary directory."""
    timings: list[StepTiming] = []

    def timed(step: str, work: Callable[[], object]) -> object:
        started = time.perf_counter()
        result = work()
        timings.append(StepTiming(step, rows, time.perf_counter() - started))
        return result

    frame = timed("generate", lambda: generate_transactions(GeneratorConfig(rows=rows, seed=seed)))
    timed("validate", lambda: validate_frame(frame, "transactions"))
    with tempfile.TemporaryDirectory(prefix="fraudops-bench-") as workdir:
        for suffix in (".parquet", ".csv"):
            path = Path(workdir) / f"stream{suffix}"
            timed(f"write {suffix[1:]}", lambda path=path: write_transactions(frame, path))
            timed(f"load {suffix[1:]}", lambda path=path: load_dataset(path))
    return timings
