"""Checks the API server's schema cannot make: they end in Failed, never in a retry loop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from croniter import croniter

SCALARS = (str, int, float, bool)


def spec_problem(spec: Mapping[str, Any]) -> str | None:
    """A sentence naming the field and what is wrong with it, or None when the spec is usable."""
    schedule = spec.get("retraining", {}).get("schedule")
    if schedule and not croniter.is_valid(schedule):
        return f"retraining.schedule {schedule!r} is not a valid cron expression"
    for key, value in (spec.get("training", {}).get("hyperparameters") or {}).items():
        if not isinstance(value, SCALARS):
            return f"training.hyperparameters.{key} must be a number, string or boolean"
    return None
