"""Conditions follow the API conventions; Events are derived from status transitions."""

from __future__ import annotations

import pytest
from fraud_operator.status import Condition, changes, merge_conditions


def test_a_new_condition_gets_the_transition_time_and_generation() -> None:
    merged = merge_conditions([], [Condition("Validated", "True", "GatePassed", "ok")], 3, "T1")
    assert merged == [
        {
            "type": "Validated",
            "status": "True",
            "reason": "GatePassed",
            "message": "ok",
            "lastTransitionTime": "T1",
            "observedGeneration": 3,
        }
    ]


def test_an_unchanged_status_keeps_its_transition_time() -> None:
    first = merge_conditions([], [Condition("Validated", "True", "GatePassed", "ok")], 1, "T1")
    again = merge_conditions(
        first, [Condition("Validated", "True", "GatePassed", "still ok")], 2, "T2"
    )
    assert again[0]["lastTransitionTime"] == "T1"
    assert again[0]["message"] == "still ok"
    assert again[0]["observedGeneration"] == 2


def test_a_changed_status_moves_the_transition_time() -> None:
    first = merge_conditions([], [Condition("Validated", "True", "GatePassed", "ok")], 1, "T1")
    again = merge_conditions(first, [Condition("Validated", "False", "GateFailed", "no")], 2, "T2")
    assert again[0]["lastTransitionTime"] == "T2"


def test_conditions_come_in_the_standard_order() -> None:
    updates = [
        Condition("ServingReady", "False", "x", ""),
        Condition("TrainingSucceeded", "True", "y", ""),
    ]
    merged = merge_conditions([], updates, 1, "T")
    assert [c["type"] for c in merged] == ["TrainingSucceeded", "ServingReady"]


def test_a_phase_change_is_an_event_and_a_failure_is_a_warning() -> None:
    events = changes({"phase": "Training"}, {"phase": "Failed", "message": "exit code 2"})
    assert [(e.type, e.reason) for e in events] == [("Warning", "PhaseFailed")]
    assert "exit code 2" in events[0].message


def test_nothing_changed_means_no_event() -> None:
    status = {
        "phase": "Ready",
        "conditions": merge_conditions(
            [], [Condition("Validated", "True", "GatePassed", "ok")], 1, "T"
        ),
    }
    assert changes(status, status) == []


def test_a_condition_that_moved_is_an_event_naming_it() -> None:
    old = {
        "conditions": merge_conditions(
            [], [Condition("Validated", "Unknown", "Validating", "")], 1, "T"
        )
    }
    new = {
        "conditions": merge_conditions(
            [], [Condition("Validated", "False", "GateFailed", "low")], 1, "T"
        )
    }
    [event] = changes(old, new)
    assert (event.type, event.reason) == ("Warning", "GateFailed")
    assert event.message.startswith("Validated=False")


@pytest.mark.parametrize(
    ("type_", "reason"),
    [
        ("Promoted", "NoChampion"),
        ("ServingReady", "NothingToServe"),
        ("ServingReady", "RollingOut"),
    ],
)
def test_a_step_that_has_not_come_yet_is_a_normal_event_not_a_warning(
    type_: str, reason: str
) -> None:
    new = {"conditions": merge_conditions([], [Condition(type_, "False", reason, "")], 1, "T")}

    [event] = changes({}, new)

    assert (event.type, event.reason) == ("Normal", reason)
