"""Which timer reconciles a FraudModel: every 5 s while work is in flight, 60 s once settled."""

from __future__ import annotations

import pytest
from crd_defaults import openapi_schema
from fraud_operator.main import SETTLED_PHASES, in_flight, settled


def crd_phases() -> set[str]:
    status = openapi_schema()["properties"]["status"]
    return set(status["properties"]["phase"]["enum"])


@pytest.mark.parametrize("phase", ["Pending", "Training", "Validating", "Promoting", "Deploying"])
def test_an_object_with_work_in_flight_gets_the_fast_timer(phase: str) -> None:
    status = {"phase": phase}

    assert in_flight(status=status) and not settled(status=status)


@pytest.mark.parametrize("phase", ["Ready", "Degraded", "Failed"])
def test_a_settled_object_gets_the_slow_timer(phase: str) -> None:
    status = {"phase": phase}

    assert settled(status=status) and not in_flight(status=status)


def test_an_object_without_status_yet_gets_the_fast_timer() -> None:
    assert in_flight(status={})


def test_every_settled_phase_is_a_phase_of_the_crd() -> None:
    assert crd_phases() >= SETTLED_PHASES
