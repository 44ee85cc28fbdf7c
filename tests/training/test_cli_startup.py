"""``fraudctl`` starts without the training stack: help and argument errors answer at once."""

from __future__ import annotations

import subprocess
import sys

from fraud_training.algorithms import ALGORITHMS
from fraud_training.choices import ALGORITHM_NAMES, DEFAULT_ALGORITHM

HEAVY_MODULES = ("mlflow", "sklearn", "pandas", "xgboost", "lightgbm", "imblearn", "pandera")


def test_loading_the_command_line_imports_none_of_the_training_stack() -> None:
    probe = (
        "import sys, fraud_training.cli; "
        f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == ""


def test_the_algorithms_the_command_line_offers_are_the_ones_training_builds() -> None:
    assert tuple(ALGORITHMS) == ALGORITHM_NAMES
    assert DEFAULT_ALGORITHM in ALGORITHM_NAMES
