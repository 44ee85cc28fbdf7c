"""kubectl and FraudModel helpers for the end-to-end tests."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devcluster.pytest_plugin import eventually

REPO = Path(__file__).resolve().parents[3]

CRD = REPO / "manifests" / "crds" / "fraudmodels.fraudops.io.yaml"
SAMPLES = REPO / "manifests" / "samples"
#: One transaction of the generator's schema, for the stories' predictions.
TRANSACTION = {
    "transaction_id": "e2e-1",
    "customer_id": "c-42",
    "timestamp": "2026-01-20T12:00:00Z",
    "amount": 129.99,
    "merchant_id": "m-7",
    "merchant_category": "electronics",
    "merchant_country": "US",
    "channel": "online",
    "device_id": "d-1",
    "lat": 40.7,
    "lon": -74.0,
    "home_lat": 40.7,
    "home_lon": -74.0,
    "home_country": "US",
}


def kubectl(
    *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """The devcluster's kubectl (first on PATH while the devcluster fixture is active)."""
    return subprocess.run(
        ["kubectl", *args], input=stdin, capture_output=True, text=True, check=check, timeout=60
    )


def get_json(*args: str) -> Any:
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def fraudmodel(namespace: str, name: str) -> dict[str, Any]:
    return get_json("fraudmodel", name, "-n", namespace)


def wait_for_status(
    namespace: str,
    name: str,
    predicate: Callable[[dict[str, Any]], bool],
    what: str,
    timeout: float = 300,
) -> dict[str, Any]:
    """Poll the FraudModel until its status satisfies ``predicate``."""
    return eventually(
        lambda: (s := fraudmodel(namespace, name).get("status", {})) and predicate(s) and s,
        what,
        timeout=timeout,
    )


def wait_until_ready(namespace: str, name: str, timeout: float = 600) -> dict[str, Any]:
    """Poll the FraudModel until its phase is Ready."""
    return wait_for_status(
        namespace, name, lambda s: s.get("phase") == "Ready", "phase Ready", timeout=timeout
    )


def patch_spec(namespace: str, name: str, spec: str) -> int:
    """Merge ``spec`` (JSON) into the FraudModel's spec; the generation that makes."""
    kubectl(
        "patch", "fraudmodel", name, "-n", namespace, "--type=merge", "-p", f'{{"spec": {spec}}}'
    )
    return int(fraudmodel(namespace, name)["metadata"]["generation"])
