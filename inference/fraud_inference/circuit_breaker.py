"""A circuit breaker: after a failure, skip a dependency for a cool-down instead of waiting on it.

Without it a dead Redis would cost every request a connect timeout; with it only one request per
cool-down pays, and the rest are scored degraded at once.
"""

from __future__ import annotations

import time


class CircuitBreaker:
    """Closed (calls allowed) until a failure opens it for ``cooldown_s``; then one trial call."""

    def __init__(self, cooldown_s: float) -> None:
        self.cooldown_s = cooldown_s
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        """Whether calls should be skipped right now."""
        return time.monotonic() < self._open_until

    def allow(self) -> bool:
        """Whether to try the dependency; a trial after the cool-down re-arms the timer first,
        so concurrent requests do not all pile onto a dependency that may still be down."""
        if self.is_open:
            return False
        if self._open_until:
            self._open_until = time.monotonic() + self.cooldown_s
        return True

    def record_success(self) -> None:
        """The dependency answered: close the breaker."""
        self._open_until = 0.0

    def record_failure(self) -> None:
        """The dependency failed: open the breaker for a cool-down."""
        self._open_until = time.monotonic() + self.cooldown_s
