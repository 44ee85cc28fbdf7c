"""Drift benchmark: FraudOps drift against Evidently's data-drift preset, same data, same box.

1,000,000 reference rows and 1,000,000 live rows of 30 features, a shift planted in five of them
and a negligible one in a sixth (:mod:`drift.planted`). FraudOps profiles the reference once (at
training time, into the bundle) and compares the window with the profile; Evidently 0.7's
``DataDriftPreset`` compares the two frames (it picks Wasserstein distance for numerical and
Jensen-Shannon for categorical columns at this size). Both are timed in-process around the call
alone (data generation and loading excluded), the drift call of FraudOps as the median of three.
The table gives the seconds and the ratio, then every column's verdict from both.

Evidently lives in a virtual environment of its own, ``~/.cache/fraudops/evidently-venv``
(binary wheels only), created on first run. Not part of ``make test``:

    .venv/bin/python benchmarks/bench_drift.py            # about two minutes (first run: +1)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks")]

from drift import planted  # noqa: E402
from fraud_training.monitoring.drift import column_drift, matrix_columns  # noqa: E402
from fraud_training.profile import reference_profile  # noqa: E402
from reference_venv import CACHE, ensure_venv  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

EVIDENTLY_VENV = CACHE / "evidently-venv"
# pandas 3 removed a helper Evidently 0.7 imports
EVIDENTLY_REQUIREMENTS = ("evidently==0.7.*", "pandas<3")


def ensure_evidently_venv() -> Path:
    """The Python of the Evidently virtual environment (created on first use)."""

    def importable(venv: Path) -> bool:
        probe = [str(venv / "bin" / "python"), "-c", "import evidently.presets"]
        python_exists = (venv / "bin" / "python").exists()
        return python_exists and subprocess.run(probe, capture_output=True).returncode == 0

    venv = ensure_venv(EVIDENTLY_VENV, EVIDENTLY_REQUIREMENTS, "Evidently 0.7", importable)
    return venv / "bin" / "python"


def run_evidently(reference: np.ndarray, window: np.ndarray, names: list[str]) -> dict:
    """Evidently's seconds and per-column verdicts, run in its own environment."""
    python = ensure_evidently_venv()
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as scratch:
        folder = Path(scratch)
        np.save(folder / "reference.npy", reference)
        np.save(folder / "window.npy", window)
        (folder / "names.json").write_text(json.dumps(names))
        done = subprocess.run(
            [
                str(python),
                str(REPO / "benchmarks" / "drift" / "evidently_side.py"),
                str(folder / "reference.npy"),
                str(folder / "window.npy"),
                str(folder / "names.json"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    console = Console(width=150)
    names = planted.column_names()
    console.print(f"generating {args.rows:,} reference and {args.rows:,} live rows x {len(names)}")
    reference = planted.sample(args.rows, seed=1, shifted=False)
    window = planted.sample(args.rows, seed=2, shifted=True)

    started = time.perf_counter()
    profile = reference_profile(reference, names)
    profile_s = time.perf_counter() - started
    columns = matrix_columns(window, names)
    drift_runs = []
    for _ in range(3):
        started = time.perf_counter()
        ours = column_drift(columns, profile)
        drift_runs.append(time.perf_counter() - started)
    drift_s = statistics.median(drift_runs)

    console.print("running Evidently's DataDriftPreset (one run)...")
    evidently = run_evidently(reference, window, names)
    evidently_s = evidently["seconds"]

    timing = Table(title=f"Drift of {args.rows:,} rows x {len(names)} features")
    for heading in ("what", "seconds", "Evidently / this"):
        timing.add_column(heading, justify="right" if heading != "what" else "left")
    timing.add_row("Evidently 0.7 DataDriftPreset", f"{evidently_s:.2f}", "1.0x")
    timing.add_row(
        "FraudOps drift vs stored profile (per monitor pass)",
        f"{drift_s:.3f}",
        f"{evidently_s / drift_s:.0f}x",
    )
    timing.add_row("FraudOps profile of the reference (once, at training)", f"{profile_s:.2f}", "")
    timing.add_row(
        "FraudOps profile + drift",
        f"{profile_s + drift_s:.2f}",
        f"{evidently_s / (profile_s + drift_s):.0f}x",
    )
    console.print(timing)

    verdicts = Table(title="Per-column verdicts on the planted shift")
    for heading in ("column", "planted", "PSI", "q (BH)", "ours", "Evidently", "value", "theirs"):
        verdicts.add_column(heading)
    agree = 0
    for name in names:
        mine = ours.column(name)
        theirs = evidently["columns"][name]
        agree += mine.drifted == theirs["drifted"]
        verdicts.add_row(
            name,
            planted.PLANTED.get(name) or planted.SUBTLE.get(name, ""),
            f"{mine.psi:.3f}",
            f"{mine.q_value:.1e}",
            "DRIFT" if mine.drifted else "-",
            theirs["method"].replace(" distance", "").replace(" (normed)", ", normed"),
            f"{theirs['value']:.3f}",
            "DRIFT" if theirs["drifted"] else "-",
        )
    console.print(verdicts)
    console.print(
        f"same verdict on {agree} of {len(names)} columns; planted: {sorted(planted.PLANTED)}; "
        f"flagged by FraudOps: {sorted(ours.drifted)}"
    )


if __name__ == "__main__":
    main()
