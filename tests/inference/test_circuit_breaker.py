"""The circuit breaker in front of Redis: skip a failed dependency, retry once per cool-down."""

from __future__ import annotations

import time

from fraud_inference.circuit_breaker import CircuitBreaker

COOLDOWN_S = 0.05


def test_a_closed_breaker_allows_calls() -> None:
    assert CircuitBreaker(COOLDOWN_S).allow()


def test_a_failure_opens_the_breaker_for_the_cool_down() -> None:
    breaker = CircuitBreaker(COOLDOWN_S)

    breaker.record_failure()

    assert not breaker.allow()


def test_after_the_cool_down_one_trial_call_goes_through() -> None:
    breaker = CircuitBreaker(COOLDOWN_S)
    breaker.record_failure()
    time.sleep(COOLDOWN_S * 1.5)

    assert breaker.allow()
    assert not breaker.allow(), "concurrent callers wait for the trial's outcome"


def test_a_successful_trial_closes_the_breaker() -> None:
    breaker = CircuitBreaker(COOLDOWN_S)
    breaker.record_failure()
    time.sleep(COOLDOWN_S * 1.5)
    breaker.allow()

    breaker.record_success()

    assert breaker.allow() and breaker.allow()
