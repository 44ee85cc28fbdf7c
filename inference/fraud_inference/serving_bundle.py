"""A bundle as the scoring service reads it: the serving payload, no pickled estimator.

:mod:`fraud_training.serving_payload` writes the payload when the bundle is saved, checked against
the estimator; this reads it back with numpy and ONNX Runtime alone, so the serving image carries
neither scikit-learn, XGBoost nor LightGBM, and loading a model unpickles nothing.

A bundle without a payload (saved before payloads existed, or of an algorithm without an ONNX
export) is served from its pickled estimator when the training stack is installed (the ``all``
image, a development install): serving it that way is what every earlier version did, so such
models keep working where they always did. Without the training stack the load fails with an
error that names the missing file and both ways out, rather than a bare ``ModuleNotFoundError``
from inside unpickling.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fraud_training.bundle_layout import BUNDLE_FILE, SERVING_FOLDER
from fraud_training.decisions import Thresholds
from fraud_training.errors import RegistryError
from fraud_training.features import (
    ENTITY_HISTORIES,
    EntityHistory,
    FeatureInputs,
    PassThroughFeature,
)
from fraud_training.risk_features import RiskFeatures

#: The payload formats this service reads (see ``fraud_training.serving_payload``).
READABLE_FORMATS = (1, 2)
MANIFEST_FILE = "serving.json"
#: What unpickling a bundle's estimator imports.
TRAINING_STACK = ("sklearn", "imblearn", "xgboost", "lightgbm")


class ServableBundle(Protocol):
    """What serving reads of a bundle, whether from its payload or from its pickle."""

    feature_set: str
    algorithm: str
    thresholds: Thresholds
    metrics: dict[str, float]
    inputs: FeatureInputs
    risk: RiskFeatures | None

    @property
    def feature_names(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class ServingBundle:
    """A bundle's serving payload: feature definition, thresholds and compiled models."""

    feature_set: str
    algorithm: str
    feature_names: tuple[str, ...]
    thresholds: Thresholds
    model_onnx: bytes = field(repr=False)
    explainer_onnx: bytes | None = field(repr=False)
    metrics: dict[str, float] = field(default_factory=dict)
    inputs: FeatureInputs = field(default_factory=FeatureInputs)
    schema: dict[str, Any] = field(default_factory=dict)
    reference_profile: dict[str, Any] = field(default_factory=dict)
    risk: RiskFeatures | None = None

    def input_schema(self) -> dict[str, Any]:
        """What a raw transaction must and may carry for this model (as the bundle said)."""
        return self.schema

    @classmethod
    def load(cls, folder: Path) -> ServingBundle:
        """Read the payload in ``folder/serving``; a missing or unreadable part is named."""
        payload = folder / SERVING_FOLDER
        manifest_path = payload / MANIFEST_FILE
        if not manifest_path.is_file():
            raise RegistryError(
                f"model_uri: the bundle in {folder} has no {SERVING_FOLDER}/{MANIFEST_FILE}"
            )
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format") not in READABLE_FORMATS:
            raise RegistryError(
                f"model_uri: {manifest_path} has payload format {manifest.get('format')!r}; this "
                f"service reads {list(READABLE_FORMATS)}: upgrade the serving image"
            )
        explainer = manifest.get("explainer")
        return cls(
            feature_set=manifest["feature_set"],
            algorithm=manifest["algorithm"],
            feature_names=tuple(manifest["feature_names"]),
            thresholds=Thresholds(**manifest["thresholds"]),
            model_onnx=_read(payload, manifest["model"]),
            explainer_onnx=_read(payload, explainer) if explainer else None,
            metrics=manifest.get("metrics", {}),
            inputs=FeatureInputs(
                tuple(
                    PassThroughFeature(
                        column["name"],
                        column["kind"],
                        tuple(column.get("vocabulary", ())),
                        tuple(column.get("frequencies", ())),
                    )
                    for column in manifest.get("inputs", [])
                ),
                tuple(
                    EntityHistory.from_description(entity)
                    for entity in manifest.get("entities", [])
                ),
                _builtin_histories(manifest),
            ),
            schema=manifest.get("input_schema", {}),
            reference_profile=manifest.get("reference_profile", {}),
            risk=RiskFeatures.from_description(manifest["risk"]) if manifest.get("risk") else None,
        )


def _builtin_histories(manifest: dict[str, Any]) -> tuple[EntityHistory, ...]:
    """The built-in histories a payload names; a format-1 payload (written before they were
    configurable) used the default ones."""
    if "builtin" not in manifest:
        return ENTITY_HISTORIES
    return tuple(EntityHistory.from_description(entity) for entity in manifest["builtin"])


def has_payload(folder: Path) -> bool:
    """Whether the bundle folder carries a serving payload."""
    return (folder / SERVING_FOLDER / MANIFEST_FILE).is_file()


def training_stack_installed() -> bool:
    """Whether this environment can unpickle a bundle's estimator."""
    return not _missing_training_stack()


def _missing_training_stack() -> list[str]:
    missing = []
    for name in TRAINING_STACK:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:
            found = False
        if not found:
            missing.append(name)
    return missing


def read_pickled_bundle(folder: Path, why: str | None = None) -> Any:
    """The pickled :class:`~fraud_training.bundle.ModelBundle` (needs the training stack);
    ``why`` says, for the error, what asked for the estimator."""
    missing = _missing_training_stack()
    if missing:
        reason = why or (
            f"the bundle in {folder} has no serving payload ({SERVING_FOLDER}/{MANIFEST_FILE}); "
            "serving it from its estimator"
        )
        raise RegistryError(
            f"model_uri: {reason} needs the training stack, which this image lacks "
            f"({', '.join(missing)} not installed); re-train the model (bundles saved now carry "
            "the payload) or serve it from the image with the training stack (fraudops[all])"
        )
    from fraud_training.bundle import ModelBundle

    if not (folder / BUNDLE_FILE).is_file():
        raise RegistryError(f"model_uri: no {BUNDLE_FILE} in {folder}")
    return ModelBundle.load(folder)


def read_servable(folder: Path) -> ServableBundle:
    """The payload if the bundle has one, else the pickled bundle (see the module docstring)."""
    if has_payload(folder):
        return ServingBundle.load(folder)
    return read_pickled_bundle(folder)


def _read(payload: Path, name: str) -> bytes:
    path = payload / name
    if not path.is_file():
        raise RegistryError(f"model_uri: the serving payload in {payload} lacks {name}")
    return path.read_bytes()
