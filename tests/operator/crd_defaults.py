"""FraudModels as the API server stores them: the CRD's own ``default:`` values filled in.

The CRD (manifests/crds/) is the one source of truth for defaults. Tests build their FraudModels
through :func:`fraud_model` so that no test restates a default, and a default changed in the CRD
reaches the builder tests at once.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from fraud_operator.naming import API_VERSION, KIND

REPO = Path(__file__).resolve().parents[2]
CRD_PATH = REPO / "manifests" / "crds" / "fraudmodels.fraudops.io.yaml"
SERVED_VERSION = "v1alpha1"


@cache
def crd() -> dict[str, Any]:
    """The FraudModel CustomResourceDefinition as parsed from its YAML."""
    return yaml.safe_load(CRD_PATH.read_text())


def openapi_schema(version: str = SERVED_VERSION) -> dict[str, Any]:
    """The structural openAPIV3Schema of one served version."""
    for entry in crd()["spec"]["versions"]:
        if entry["name"] == version:
            return entry["schema"]["openAPIV3Schema"]
    raise KeyError(f"the CRD serves no version {version!r}")


def apply_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """A copy of ``value`` with every absent ``default:`` of ``schema`` filled in, recursively.

    Mirrors the API server's structural defaulting: a defaulted object is itself walked, so
    ``training: {default: {}}`` brings the defaults of ``training``'s own fields with it.
    """
    if isinstance(value, dict):
        result = dict(value)
        properties = schema.get("properties", {})
        for key, sub_schema in properties.items():
            if key not in result and "default" in sub_schema:
                result[key] = copy.deepcopy(sub_schema["default"])
        for key, item in result.items():
            sub_schema = properties.get(key, schema.get("additionalProperties"))
            if isinstance(sub_schema, dict):
                result[key] = apply_defaults(item, sub_schema)
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(item, schema["items"]) for item in value]
    return value


def fraud_model(
    spec: dict[str, Any],
    name: str = "card-fraud",
    namespace: str = "risk",
    generation: int = 1,
    uid: str = "0b9a8c2e-5d7f-4e41-9c1a-3f2b6d8e7a10",
) -> dict[str, Any]:
    """A FraudModel carrying ``spec`` with the CRD's defaults applied, as a handler receives it."""
    body = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace, "generation": generation, "uid": uid},
        "spec": copy.deepcopy(spec),
    }
    return apply_defaults(body, openapi_schema())
