"""When a monitoring pass starts a retraining, and how its result is read (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fraud_operator.monitoring import monitor_result, retraining_due

NOW = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)
SPEC = {
    "retraining": {
        "drift": {"psiThreshold": 0.25, "minRows": 1000, "cooldown": "24h"},
        "performance": {"minPrecision": 0.8, "minLabelledRows": 500, "cooldown": "2h"},
    }
}


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def passed(**fields: object) -> dict[str, object]:
    return {
        "driftScore": 0.05,
        "rows": 5000,
        "livePrecision": 0.9,
        "labelledRows": 1000,
        "lastRun": stamp(NOW),
        **fields,
    }


def test_a_drift_score_at_the_threshold_is_a_breach() -> None:
    trigger = retraining_due(SPEC, passed(driftScore=0.25), None, NOW)

    assert trigger is not None
    assert trigger.reason == "Drift"


def test_drift_is_named_first_when_both_breach() -> None:
    trigger = retraining_due(SPEC, passed(driftScore=0.5, livePrecision=0.5), None, NOW)

    assert trigger is not None
    assert trigger.reason == "Drift"


def test_a_pass_already_acted_on_triggers_nothing() -> None:
    monitoring = passed(driftScore=0.5)
    retraining = {
        "monitorRun": monitoring["lastRun"],
        "triggeredAt": stamp(NOW - timedelta(days=3)),
    }

    assert retraining_due(SPEC, monitoring, retraining, NOW) is None


def test_a_pass_older_than_the_last_retraining_triggers_nothing() -> None:
    monitoring = passed(driftScore=0.5, lastRun=stamp(NOW - timedelta(days=2)))
    retraining = {"triggeredAt": stamp(NOW - timedelta(days=1))}

    assert retraining_due(SPEC, monitoring, retraining, NOW + timedelta(days=5)) is None


def test_each_threshold_has_its_own_cooldown() -> None:
    retraining = {"triggeredAt": stamp(NOW - timedelta(hours=3))}
    monitoring = passed(driftScore=0.5, livePrecision=0.5)

    trigger = retraining_due(SPEC, monitoring, retraining, NOW)

    assert trigger is not None
    assert trigger.reason == "PerformanceDegraded"  # drift waits 24 h, precision 2 h


def test_no_breach_within_every_cooldown() -> None:
    retraining = {"triggeredAt": stamp(NOW - timedelta(hours=1))}

    assert retraining_due(SPEC, passed(driftScore=0.5, livePrecision=0.5), retraining, NOW) is None


def test_unknown_live_precision_is_no_breach() -> None:
    assert retraining_due(SPEC, passed(livePrecision=None), None, NOW) is None


def test_the_newest_successful_termination_message_is_the_result() -> None:
    def pod(finished: str, code: int, message: str) -> dict[str, object]:
        terminated = {"exitCode": code, "finishedAt": finished, "message": message}
        return {
            "status": {
                "containerStatuses": [{"name": "monitor", "state": {"terminated": terminated}}]
            }
        }

    pods = [
        pod("2026-06-02T11:00:00Z", 0, json.dumps({"verdict": "stable"})),
        pod("2026-06-02T11:05:00Z", 1, "Traceback ..."),
        pod("2026-06-02T11:10:00Z", 0, json.dumps({"verdict": "drifting"})),
    ]

    assert monitor_result(pods, "monitor") == {"verdict": "drifting"}


def test_a_message_that_is_not_a_result_is_ignored() -> None:
    terminated = {"exitCode": 0, "message": "error: log tail"}
    pods = [
        {
            "status": {
                "containerStatuses": [{"name": "monitor", "state": {"terminated": terminated}}]
            }
        }
    ]

    assert monitor_result(pods, "monitor") is None
