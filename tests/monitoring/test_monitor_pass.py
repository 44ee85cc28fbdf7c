"""A monitoring pass over the audit trail in a real PostgreSQL: traffic, drift, live metrics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fraud_training.errors import FraudOpsError
from fraud_training.monitoring.monitor import MonitorOptions, Reference
from fraud_training.monitoring.run import monitor_database
from fraud_training.monitoring.window import read_window
from monitoring_data import NOW

pytestmark = pytest.mark.services

RESULT_KEYS = {
    "verdict",
    "driftScore",
    "driftedFeatures",
    "scorePsi",
    "livePrecision",
    "liveRecall",
    "labelledRows",
    "rows",
    "windowStart",
    "windowEnd",
    "lastRun",
    "model",
    "report",
}


def test_a_planted_shift_in_one_feature_is_flagged(
    audit_database: str, fill_audit: Callable[..., list[str]], reference: Reference
) -> None:
    fill_audit(4000, labelled=400, amount_shift=0.8)

    report = monitor_database(audit_database, reference, timedelta(hours=1), now=NOW)
    result = report.result("runs:/abc/monitoring/report.html")

    assert result["verdict"] == "drifting"
    assert result["driftedFeatures"] == ["amount"]
    assert result["driftScore"] == pytest.approx(report.drift.column("amount").psi, abs=1e-4)
    assert result["scorePsi"] < 0.1
    assert set(result) == RESULT_KEYS
    assert result["report"] == "runs:/abc/monitoring/report.html"


def test_unshifted_traffic_is_stable_and_its_labels_give_live_metrics(
    audit_database: str, fill_audit: Callable[..., list[str]], reference: Reference
) -> None:
    fill_audit(4000, labelled=400)

    result = monitor_database(audit_database, reference, timedelta(hours=1), now=NOW).result()

    assert result["verdict"] == "stable"
    assert result["driftedFeatures"] == []
    assert result["labelledRows"] == 400
    # the synthetic labels call every flagged row a fraud and every approved one legitimate
    assert (result["livePrecision"], result["liveRecall"]) == (1.0, 1.0)


def test_too_few_rows_is_not_enough_data_rather_than_a_verdict(
    audit_database: str, fill_audit: Callable[..., list[str]], reference: Reference
) -> None:
    fill_audit(300, amount_shift=2.0)

    report = monitor_database(
        audit_database, reference, timedelta(hours=1), MonitorOptions(min_rows=1000), now=NOW
    )

    assert report.verdict == "not enough data"
    assert report.result()["driftScore"] is None
    assert report.result()["driftedFeatures"] == []
    assert report.traffic.rows == 300


def test_the_window_holds_only_its_hour_and_the_traffic_shape(
    audit_database: str, fill_audit: Callable[..., list[str]], reference: Reference
) -> None:
    fill_audit(500, prefix="old", end=NOW - timedelta(hours=3))
    fill_audit(1200, prefix="new", model_version="2")

    report = monitor_database(audit_database, reference, timedelta(hours=1), now=NOW)

    assert report.traffic.rows == 1200
    assert report.traffic.versions == {"fraud-detector/2": 1200}
    assert sum(report.traffic.decision_mix.values()) == pytest.approx(1.0)
    assert report.traffic.latency_ms["p50"] == pytest.approx(2.5)


def test_features_the_bundle_does_not_know_are_reported_not_judged(
    audit_database: str, fill_audit: Callable[..., list[str]], reference: Reference
) -> None:
    fill_audit(1500)
    smaller = Reference(
        model=reference.model,
        features={"amount": reference.features["amount"], "gone": reference.features["amount"]},
        score=reference.score,
    )

    report = monitor_database(audit_database, smaller, timedelta(hours=1), now=NOW)

    assert {c.name for c in report.drift.columns} == {"amount", "fraud_probability"}
    assert report.drift.skipped == {"gone": "no values in the window"}


def test_a_database_without_an_audit_trail_is_named_as_the_problem(
    postgres_server: object,
) -> None:
    with pytest.raises(FraudOpsError, match="database-url: no audit trail"):
        read_window(postgres_server.dsn.rsplit("/", 1)[0] + "/postgres", NOW, NOW)  # type: ignore[attr-defined]


def test_the_window_keeps_scoring_times_as_utc_timestamps(
    audit_database: str, fill_audit: Callable[..., list[str]]
) -> None:
    fill_audit(50)

    window = read_window(audit_database, NOW - timedelta(hours=1), NOW, ["amount"])

    assert str(window.frame["scored_at"].dtype) == "datetime64[ns, UTC]"
    assert window.frame["scored_at"].max() < NOW


def test_rows_scored_without_online_history_are_left_out_of_drift(
    audit_database: str, fill_audit: Callable[..., list[str]], reference: Reference
) -> None:
    fill_audit(3000, amount_shift=0.8, degraded=2500)

    report = monitor_database(audit_database, reference, timedelta(hours=1), now=NOW)

    assert report.verdict == "not enough data"
    assert report.traffic.degraded_share == pytest.approx(2500 / 3000)
    assert report.traffic.healthy_rows == 500
