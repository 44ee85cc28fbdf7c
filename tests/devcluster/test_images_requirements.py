"""Each image installs its own component's stack, read from pyproject.toml's groups."""

from __future__ import annotations

import tomllib
from pathlib import Path

from images.requirements import requirements

PYPROJECT = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())


def names(group: str) -> set[str]:
    return {r.split("[")[0].split(">")[0].split("=")[0] for r in requirements(PYPROJECT, group)}


def test_the_operator_image_leaves_out_the_training_stack() -> None:
    operator = names("operator")

    assert {"kopf", "kubernetes", "httpx", "croniter", "pyyaml"} <= operator
    assert not operator & {
        "scikit-learn",
        "xgboost-cpu",
        "lightgbm",
        "pandas",
        "mlflow",
        "mlflow-skinny",
    }


def test_the_serving_image_leaves_out_the_training_stack() -> None:
    assert not names("serving") & {
        "scikit-learn",
        "xgboost-cpu",
        "lightgbm",
        "imbalanced-learn",
        "scipy",
        "pandas",
        "pyarrow",
        "mlflow",
        "onnxmltools",
    }


def test_the_serving_image_carries_the_payload_runtime_and_the_service() -> None:
    assert {
        "numpy",
        "onnxruntime",
        "mlflow-skinny",
        "fastapi",
        "uvicorn",
        "redis",
        "psycopg",
        "alembic",
    } <= names("serving")


def test_the_training_image_can_build_the_serving_payload() -> None:
    assert {"onnxruntime", "onnxmltools"} <= names("training")


def test_every_group_starts_from_the_shared_dependencies() -> None:
    shared = set(PYPROJECT["project"]["dependencies"])

    for group in ("operator", "training", "serving"):
        assert shared <= set(requirements(PYPROJECT, group))
