"""The FraudModel CRD as the operator reads it: the one place its defaults are written.

The API server fills every ``default:`` of the CRD when an object is written, so the operator
normally receives a complete spec. Objects stored before a default was added (or written while the
CRD was older) may lack one; :func:`with_defaults` fills those from the same CRD file, so builders
index the spec directly and no module keeps a second copy of a default. The file is the CRD in
``manifests/crds/`` (a symlink in this package).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from fraud_operator.naming import VERSION

CRD_FILE = Path(__file__).with_name("fraudmodel-crd.yaml")


@cache
def definition() -> dict[str, Any]:
    """The CustomResourceDefinition, parsed once."""
    return yaml.safe_load(CRD_FILE.read_text())


def schema(version: str = VERSION) -> dict[str, Any]:
    """The openAPIV3Schema of one served version."""
    for entry in definition()["spec"]["versions"]:
        if entry["name"] == version:
            return entry["schema"]["openAPIV3Schema"]
    raise KeyError(f"the CRD serves no version {version!r}")


def apply_defaults(value: Any, node: Mapping[str, Any]) -> Any:
    """A copy of ``value`` with every absent ``default:`` of ``node`` filled in, recursively.

    Mirrors the API server's structural defaulting: a defaulted object is itself walked, so
    ``training: {default: {}}`` brings the defaults of ``training``'s own fields with it.
    """
    if isinstance(value, dict):
        result = dict(value)
        properties = node.get("properties", {})
        for key, sub in properties.items():
            if key not in result and "default" in sub:
                result[key] = copy.deepcopy(sub["default"])
        for key, item in result.items():
            sub = properties.get(key, node.get("additionalProperties"))
            if isinstance(sub, dict):
                result[key] = apply_defaults(item, sub)
        return result
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        return [apply_defaults(item, node["items"]) for item in value]
    return value


def with_defaults(fm: Mapping[str, Any]) -> dict[str, Any]:
    """The FraudModel with its spec completed by the CRD's defaults (metadata untouched)."""
    spec_schema = schema()["properties"]["spec"]
    return {**fm, "spec": apply_defaults(dict(fm.get("spec") or {}), spec_schema)}
