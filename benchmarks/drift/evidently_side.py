"""Evidently's data-drift preset on the benchmark's frames; run by the Evidently venv's Python.

Usage: ``python evidently_side.py reference.npy window.npy names.json`` — prints one JSON line:
seconds taken by ``Report([DataDriftPreset()]).run`` and each column's method, value, threshold
and verdict.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset


def drifted(method: str, value: float, threshold: float) -> bool:
    """Distances (Wasserstein, Jensen-Shannon, PSI) drift at or above the threshold, p-values
    below it: Evidently's own rule."""
    distance = "distance" in method.lower() or "psi" in method.lower()
    return value >= threshold if distance else value < threshold


def main() -> None:
    reference_file, window_file, names_file = sys.argv[1:4]
    names = json.loads(Path(names_file).read_text())
    reference = pd.DataFrame(np.load(reference_file), columns=names)
    window = pd.DataFrame(np.load(window_file), columns=names)
    started = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=window, reference_data=reference)
    seconds = time.perf_counter() - started
    columns = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith("ValueDrift"):
            value = float(metric["value"])
            columns[config["column"]] = {
                "method": config["method"],
                "value": value,
                "threshold": float(config["threshold"]),
                "drifted": drifted(config["method"], value, float(config["threshold"])),
            }
    print(json.dumps({"seconds": seconds, "columns": columns}))


if __name__ == "__main__":
    main()
