"""Durations as the FraudModel spells them: ``90s``, ``30m``, ``1h``, ``24h``, ``7d``."""

from __future__ import annotations

import re
from datetime import timedelta

from fraud_training.errors import FraudOpsError

_DURATION = re.compile(r"^\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str, field: str) -> timedelta:
    """``text`` as a positive duration; ``field`` names it in the error."""
    match = _DURATION.match(text)
    if match is None:
        raise FraudOpsError(
            f"{field}: {text!r} is not a duration; write a number and s, m, h or d (e.g. 1h, 24h)"
        )
    duration = timedelta(**{_UNITS[match["unit"]]: float(match["amount"])})
    if duration <= timedelta(0):
        raise FraudOpsError(f"{field}: must be longer than zero, got {text!r}")
    return duration
