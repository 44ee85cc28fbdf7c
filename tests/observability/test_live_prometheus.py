"""Every dashboard panel and every recording rule, evaluated by a real Prometheus scraping a real
scoring process under load and the operator's real exporter told a FraudModel's story: none is
empty, except panels marked as waiting for a metric that nothing exports yet (each is checked to
be empty, so a stale mark fails, and reported as skipped).
"""

from __future__ import annotations

import math
import os
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from dashboard_files import all_panels
from fraudops_dashboards import DASHBOARDS, serving
from fraudops_dashboards.promql import as_promql
from fraudops_dashboards.snapshot import render
from localservices.ports import wait_until
from observed_service import ADMIN_TOKEN, ObservedService
from operator_story import OPERATOR_JOB
from promtool import alerting_rules, recording_rules
from traffic import Traffic, burst

pytestmark = pytest.mark.services

PANELS = all_panels()
PANEL_IDS = [f"{uid}/{panel['title']}" for uid, panel in PANELS]
#: What each panel waits for, as the generator marks it.
AWAITS = {(spec.uid, panel.title): panel.awaits for spec in DASHBOARDS for panel in spec.panels()}
#: Metrics that rules may read although nothing here exports them yet, and why.
NOT_EXPORTED_YET = {
    "kube_job_failed": "kube-state-metrics, which the harness does not run",
}
SETTLE_TIMEOUT_S = 20.0
ALERT_TIMEOUT_S = 30.0
#: How long the service scores while Redis is away.
OUTAGE_SECONDS = 2.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The README's picture stays a small image.
MAX_PICTURE_BYTES = 200_000
#: The picture shows at most the last minutes of a long burst, when the 5-minute rates have
#: filled their window.
PICTURE_WINDOW_S = 180.0


def exported(observed: ObservedService, metric: str) -> bool:
    """Whether Prometheus holds any series of ``metric`` (a histogram by its _count)."""
    names = (metric, f"{metric}_count")
    return any(observed.prometheus.query(f"count({{__name__='{name}'}})") for name in names)


def rule_awaits(rule: dict[str, Any]) -> str | None:
    """The not-yet-exported metric a recording rule reads, directly or through another rule."""
    by_record = {r["record"]: r["expr"] for r in recording_rules()}
    pending, seen = [rule["expr"]], set()
    while pending:
        expr = pending.pop()
        for metric in NOT_EXPORTED_YET:
            if metric in expr:
                return metric
        for name in re.findall(r"\b\w+:\w+:\w+\b", expr):
            if name in by_record and name not in seen:
                seen.add(name)
                pending.append(by_record[name])
    return None


def finite(result: list[dict[str, Any]]) -> bool:
    """Whether a query result holds at least one finite value."""
    values = [
        float(value)
        for series in result
        for _, value in series.get("values", [series.get("value", (0, "NaN"))])
    ]
    return any(math.isfinite(value) for value in values)


def evaluated_at(rule: dict[str, Any]) -> float:
    """Unix time of a rule's last evaluation (Prometheus gives RFC 3339 with nanoseconds)."""
    stamp = re.sub(r"(\.\d{6})\d*", r"\1", rule["lastEvaluation"]).replace("Z", "+00:00")
    return datetime.fromisoformat(stamp).timestamp()


@pytest.fixture(scope="module")
def settled(observed: ObservedService) -> ObservedService:
    """The observed service once Prometheus has evaluated every rule after its last scrape."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        groups = observed.prometheus.api("rules")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        if rules and all(evaluated_at(rule) > observed.scraped_at for rule in rules):
            return observed
        assert time.monotonic() < deadline, f"rules never evaluated: {rules}"
        time.sleep(0.5)


def test_the_burst_was_scored_with_every_decision_and_its_outcomes_stored(
    settled: ObservedService,
) -> None:
    """Every decision occurs, so that live precision and recall have declines to judge."""
    decisions = settled.prometheus.query("sum by (decision) (fraudops_predictions_total)")

    assert settled.traffic.statuses[200] > 100
    assert settled.traffic.statuses[422] > 0
    assert {series["metric"]["decision"] for series in decisions} == {
        "approve",
        "review",
        "decline",
    }
    assert "decline" in settled.traffic.decisions.values()
    assert settled.feedback_rows > sum(settled.traffic.outcomes.values()) > 0


def test_prometheus_loaded_every_rule_of_the_rules_file(settled: ObservedService) -> None:
    groups = settled.prometheus.api("rules")["groups"]
    loaded = sorted(rule["name"] for group in groups for rule in group["rules"])
    expected = sorted(
        [rule["record"] for rule in recording_rules()]
        + [rule["alert"] for rule in alerting_rules()]
    )

    assert loaded == expected
    assert [r for g in groups for r in g["rules"] if r["health"] != "ok"] == []


@pytest.mark.parametrize(
    "rule", recording_rules(), ids=lambda rule: f"{rule['record']}{rule.get('labels', '')}"
)
def test_every_recording_rule_records_series(
    settled: ObservedService, rule: dict[str, Any]
) -> None:
    selector = ",".join(f'{k}="{v}"' for k, v in rule.get("labels", {}).items())
    result = settled.prometheus.query(f"{rule['record']}{{{selector}}}")
    awaited = rule_awaits(rule)

    if awaited and not exported(settled, awaited):
        assert result == [], f"{rule['record']} has data although {awaited} is not exported"
        pytest.skip(f"waits for {awaited}: {NOT_EXPORTED_YET[awaited]}")
    assert finite(result), f"{rule['record']}: {result}"


@pytest.mark.parametrize(("uid", "panel"), PANELS, ids=PANEL_IDS)
def test_every_panel_query_returns_data(
    settled: ObservedService, uid: str, panel: dict[str, Any]
) -> None:
    now = time.time()
    results = [
        settled.prometheus.query_range(as_promql(target["expr"]), settled.started_at, now, 1)
        for target in panel["targets"]
    ]
    awaited = AWAITS[(uid, panel["title"])]

    if awaited and not exported(settled, awaited):
        assert results == [[]] * len(results), f"{panel['title']} has data without {awaited}"
        pytest.skip(f"waits for {awaited}: {NOT_EXPORTED_YET[awaited]}")
    assert all(finite(result) for result in results), f"{panel['title']}: {results}"


def about_serving(alert: dict[str, Any]) -> bool:
    """Whether an alert is about the scoring service (not the operator, nor a FraudModel)."""
    return "fraudmodel" not in alert["labels"] and alert["labels"].get("job") != OPERATOR_JOB


def serving_alerts(observed: ObservedService) -> list[dict[str, Any]]:
    """Active alerts about the scoring service."""
    return [a for a in observed.prometheus.api("alerts")["alerts"] if about_serving(a)]


def operator_alerts(observed: ObservedService) -> dict[str, str]:
    """State of every active alert about the operator or a FraudModel, by name."""
    alerts = observed.prometheus.api("alerts")["alerts"]
    return {a["labels"]["alertname"]: a["state"] for a in alerts if not about_serving(a)}


def scraped_value(observed: ObservedService, expr: str) -> float:
    (series,) = observed.prometheus.query(expr)
    return float(series["value"][1])


def precision_policy_breached(traffic: Traffic) -> bool:
    """Whether the burst's own declines and their confirmed outcomes breach the live-precision
    alert's policy, by the floor and minimum count written in the rule itself."""
    (rule,) = [r for r in alerting_rules() if r["alert"] == "FraudOpsLivePrecisionBelowPolicy"]
    floor = float(re.search(r"ratio_rate1d < ([0-9.]+)", rule["expr"]).group(1))
    minimum = int(re.search(r"\* 86400 >= ([0-9]+)", rule["expr"]).group(1))
    declined = [tid for tid, decision in traffic.decisions.items() if decision == "decline"]
    frauds = sum(bool(traffic.outcomes[tid]) for tid in declined)
    return len(declined) >= minimum and frauds / len(declined) < floor


def test_a_healthy_service_under_load_raises_no_alert_but_what_its_labels_say(
    settled: ObservedService,
) -> None:
    """Serving is healthy, so nothing fires; live precision is judged on the outcomes the test
    reported, so its alert is pending exactly when those declines breach the policy."""
    alerts = serving_alerts(settled)
    expected = (
        [("FraudOpsLivePrecisionBelowPolicy", "pending")]
        if precision_policy_breached(settled.traffic)
        else []
    )

    assert [(alert["labels"]["alertname"], alert["state"]) for alert in alerts] == expected


def test_the_operators_exporter_was_scraped_with_every_event_of_its_story(
    settled: ObservedService,
) -> None:
    """The counters Prometheus holds are the transitions the real reconciles made."""
    told = settled.told
    fm = 'fraudmodel_namespace="risk", fraudmodel="cards"'

    def total(metric: str, labels: str = "") -> float:
        return scraped_value(settled, f"sum(fraudops_operator_{metric}_total{{{labels}}})")

    assert total("reconciles") == told.reconciles
    assert total("reconcile_errors", 'reason="RegistryUnavailable"') == told.errors
    assert {o: total("training_jobs", f'{fm}, outcome="{o}"') for o in told.training} == (
        told.training
    )
    assert {o: total("gate_decisions", f'{fm}, outcome="{o}"') for o in told.gate} == told.gate
    assert total("promotions", fm) == told.promotions
    assert scraped_value(settled, 'fraudops_operator_fraudmodels{phase="Ready"}') == 1
    assert scraped_value(settled, f"fraudops_monitoring_drift_score{{{fm}}}") == 0.41


def test_the_operators_events_raise_their_alerts_and_nothing_else(
    settled: ObservedService,
) -> None:
    """A failed training Job and a rejected candidate fire at once; the monitoring pass's drift
    and low precision wait out their 5 minutes as pending; the one reconcile error in the story
    stays under the error alert's 10%."""
    told = settled.told
    expected = {
        "FraudOpsTrainingFailed": "firing",
        "FraudOpsGateFailed": "firing",
        "FraudOpsDriftAbovePolicy": "pending",
        "FraudOpsMonitorPrecisionBelowPolicy": "pending",
    }
    if told.errors / told.reconciles > 0.1:
        expected["FraudOpsOperatorReconcileErrors"] = "pending"

    assert operator_alerts(settled) == expected


def test_the_serving_dashboard_draws_every_panel_from_prometheus_data(
    settled: ObservedService, tmp_path: Path
) -> None:
    """FRAUDOPS_DASHBOARD_PNG names where to keep the picture (the README's, with a longer
    FRAUDOPS_LOAD_SECONDS); by default it is drawn into the test's folder."""
    out = Path(os.environ.get("FRAUDOPS_DASHBOARD_PNG") or tmp_path / "serving.png")
    end = time.time()
    start = max(settled.started_at, end - PICTURE_WINDOW_S)

    drawn = render(settled.prometheus.url, serving.DASHBOARD, out, start, end)

    assert drawn == [panel.title for panel in serving.DASHBOARD.panels()]
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    assert out.stat().st_size < MAX_PICTURE_BYTES


def firing(observed: ObservedService) -> set[str]:
    """Names of the serving alerts firing now."""
    return {a["labels"]["alertname"] for a in serving_alerts(observed) if a["state"] == "firing"}


def test_a_failed_reload_fires_model_load_failed_and_nothing_else(
    settled: ObservedService, tmp_path: Path
) -> None:
    """The event the model-load alert is for, caused for real (last in this module: the alerts
    above expect a healthy service). The failure counter's first sample is the one increase()
    cannot see; the rule catches it, and the previous model keeps serving."""
    response = httpx.post(
        f"{settled.service.url}/reload",
        json={"model_uri": str(tmp_path / "no-model-here")},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=30.0,
    )
    assert response.status_code in (422, 503), response.text

    wait_until(
        lambda: "FraudOpsModelLoadFailed" in firing(settled),
        ALERT_TIMEOUT_S,
        "FraudOpsModelLoadFailed firing",
    )

    assert firing(settled) == {"FraudOpsModelLoadFailed"}
    assert settled.service.wait_until("/readyz", 200)


def alert_states(observed: ObservedService) -> dict[str, str]:
    """State (pending or firing) of every active serving alert, by name."""
    return {a["labels"]["alertname"]: a["state"] for a in serving_alerts(observed)}


def degraded_total(observed: ObservedService) -> float:
    """Transactions scored without online features, as Prometheus last scraped them."""
    return float(observed.prometheus.query("sum(fraudops_features_degraded_total)")[0]["value"][1])


def test_scoring_without_redis_shows_on_the_degraded_panel_and_makes_its_alert_pending(
    settled: ObservedService, redis_server: Any, stream: pd.DataFrame
) -> None:
    """Redis taken away for real (and brought back): the degraded share rises past the alert's
    5% at once, and the alert waits out its 5 minutes as pending."""
    before = degraded_total(settled)
    redis_server.stop()
    try:
        outage = burst(settled.service.url, stream, OUTAGE_SECONDS)
    finally:
        redis_server.start()

    wait_until(
        lambda: degraded_total(settled) == before + len(outage.outcomes),
        ALERT_TIMEOUT_S,
        f"a scrape counting all {len(outage.outcomes)} transactions scored without Redis",
    )
    wait_until(
        lambda: alert_states(settled).get("FraudOpsFeaturesDegraded") == "pending",
        ALERT_TIMEOUT_S,
        "FraudOpsFeaturesDegraded pending",
    )
    (ratio,) = settled.prometheus.query("job:fraudops_features_degraded:ratio_rate5m")
    assert len(outage.outcomes) > 0
    assert float(ratio["value"][1]) > 0.05
