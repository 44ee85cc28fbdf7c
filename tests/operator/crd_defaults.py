"""FraudModels as the API server stores them: the CRD's own ``default:`` values filled in.

The CRD (manifests/crds/) is the one source of truth for defaults, read by the operator itself
(:mod:`fraud_operator.crd`). Tests build their FraudModels through :func:`fraud_model` so that no
test restates a default, and a default changed in the CRD reaches the builder tests at once.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from fraud_operator.crd import CRD_FILE, apply_defaults, definition, schema
from fraud_operator.naming import API_VERSION, KIND

REPO = Path(__file__).resolve().parents[2]
CRD_PATH = REPO / "manifests" / "crds" / "fraudmodels.fraudops.io.yaml"
SERVED_VERSION = "v1alpha1"
assert CRD_FILE.resolve() == CRD_PATH.resolve(), "the operator reads the CRD of manifests/crds"

crd = definition
openapi_schema = schema


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
