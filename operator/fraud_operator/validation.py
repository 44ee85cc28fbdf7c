"""Checks the API server's schema cannot make: they end in Failed, never in a retry loop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from croniter import croniter

from fraud_operator.config import ALLOWED_TRACKING_URIS, OperatorConfig

SCALARS = (str, int, float, bool)


def spec_problem(spec: Mapping[str, Any], config: OperatorConfig) -> str | None:
    """A sentence naming the field and what is wrong with it, or None when the spec is usable."""
    for field, block in (
        ("retraining", spec.get("retraining")),
        ("monitoring", spec.get("monitoring")),
    ):
        schedule = (block or {}).get("schedule")
        if schedule and not croniter.is_valid(schedule):
            return f"{field}.schedule {schedule!r} is not a valid cron expression"
    for key, value in ((spec.get("training") or {}).get("hyperparameters") or {}).items():
        if not isinstance(value, SCALARS):
            return f"training.hyperparameters.{key} must be a number, string or boolean"
    uri = (spec.get("registry") or {}).get("trackingUri")
    if uri and not config.tracking_uri_allowed(uri):
        allowed = ", ".join((config.tracking_uri, *config.allowed_tracking_uris))
        return (
            f"registry.trackingUri {uri!r} is not an MLflow server this operator may use "
            f"(allowed: {allowed}; an administrator adds one to {ALLOWED_TRACKING_URIS})"
        )
    return None
