"""The operator process carries no training or serving stack: it loads no model and unpickles
nothing, so importing every one of its modules imports none of those libraries."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import fraud_operator

#: Libraries that load or score models, or whose weight the operator does not need.
FORBIDDEN = ("mlflow", "sklearn", "xgboost", "lightgbm", "pandas", "numpy", "scipy", "onnxruntime")
#: The one training module the operator may import: the registry's tag names, which imports
#: nothing (one definition of the contract between the Jobs, fraudctl and the operator).
ALLOWED_TRAINING = {"fraud_training", "fraud_training.version_tags"}


def loaded_by_importing_the_operator() -> set[str]:
    """Top-level names and fraud_* modules in sys.modules after importing every operator module,
    in a fresh interpreter (this test process has imported the world)."""
    modules = [
        info.name
        for info in pkgutil.walk_packages(fraud_operator.__path__, "fraud_operator.")
        if info.name != "fraud_operator.__main__"
    ]
    program = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "import fraud_operator.__main__\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return set(json.loads(out))


LOADED = loaded_by_importing_the_operator()


def test_the_operator_imports_no_model_library() -> None:
    heavy = sorted(m for m in LOADED if m.split(".")[0] in FORBIDDEN)
    assert heavy == []


def test_the_operator_imports_no_training_code_beyond_the_tag_names() -> None:
    training = {m for m in LOADED if m.split(".")[0] == "fraud_training"}
    assert training <= ALLOWED_TRAINING


def test_the_operator_imports_no_serving_code() -> None:
    assert not {m for m in LOADED if m.split(".")[0] == "fraud_inference"}
