"""What the monitoring passes say, and when they start a retraining (pure).

The operator reads a pass's result from the termination message of its Job's pod, not from the
MLflow run the pass also logs: the message belongs to the Job the operator is looking at (no
search of an experiment by tag, no second source that could disagree), costs one pod list it
makes for failed Jobs already, and keeps the operator's MLflow client to the registry calls it has.
The MLflow run stays the place of the report (``status.monitoring.report``).

Every decision is derived from the object's status and the newest pass, never from memory: a
retraining is due when the newest pass breaches a threshold, ran after the last retraining the
operator started (so one pass triggers at most once), and that retraining is older than the
breached threshold's cooldown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fraud_operator.status import DRIFTING, PERFORMANCE_DEGRADED, Condition

#: Retraining reasons, as status, Events, labels and the version's tag spell them.
DRIFT = "Drift"
#: The keys of the result document copied into ``status.monitoring``.
RESULT_FIELDS = (
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
)
NOT_ENOUGH_DATA = "not enough data"
_DURATION = re.compile(r"^(?P<amount>\d+(?:\.\d+)?)(?P<unit>[smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def duration(text: str) -> timedelta:
    """A duration as the CRD spells it (``24h``, ``7d``); the CRD has validated the format."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration")
    return timedelta(**{_UNITS[match["unit"]]: float(match["amount"])})


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp as Kubernetes and the monitoring pass write them."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def monitor_result(pods: Sequence[Mapping[str, Any]], container: str) -> dict[str, Any] | None:
    """The result document of a finished pass: the termination message of ``container`` that
    exited 0 (the newest, if the Job retried), or None when no pod has a readable one."""
    found: list[tuple[str, dict[str, Any]]] = []
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            terminated = (status.get("state") or {}).get("terminated") or {}
            if status.get("name") != container or terminated.get("exitCode") != 0:
                continue
            try:
                document = json.loads(terminated.get("message") or "")
            except json.JSONDecodeError:
                continue
            if isinstance(document, dict) and "verdict" in document:
                found.append((terminated.get("finishedAt") or "", document))
    return max(found, key=lambda item: item[0])[1] if found else None


def monitoring_status(result: Mapping[str, Any], job: str) -> dict[str, Any]:
    """``status.monitoring``: the result's fields and the Job it came from."""
    return {**{key: result.get(key) for key in RESULT_FIELDS if key in result}, "job": job}


def _window(monitoring: Mapping[str, Any]) -> str:
    return f"{monitoring.get('rows', 0):,} requests up to {monitoring.get('windowEnd', '?')}"


def drifting_condition(monitoring: Mapping[str, Any] | None, audited: bool) -> Condition:
    """Drifting, from the newest pass (True is the finding a person has to look at)."""
    if not audited:
        return Condition(
            DRIFTING,
            "Unknown",
            "NoAuditTrail",
            "the operator has no audit database (no DATABASE_URL for serving pods): nothing "
            "is monitored",
        )
    if not monitoring:
        return Condition(DRIFTING, "Unknown", "NoMonitoringPass", "no monitoring pass has run yet")
    verdict = monitoring.get("verdict")
    if verdict == NOT_ENOUGH_DATA:
        return Condition(
            DRIFTING,
            "Unknown",
            "NotEnoughData",
            f"only {_window(monitoring)}: too few for a drift verdict (monitoring.minRows)",
        )
    score = monitoring.get("driftScore")
    if verdict == "drifting":
        features = ", ".join(monitoring.get("driftedFeatures") or []) or "the score"
        return Condition(
            DRIFTING,
            "True",
            "FeaturesDrifted",
            f"{features} drifted from the training data (largest PSI {score}) over "
            f"{_window(monitoring)}; report {monitoring.get('report', '-')}",
        )
    return Condition(
        DRIFTING,
        "False",
        "Stable",
        f"no feature drifted (largest PSI {score}) over {_window(monitoring)}",
    )


def performance_condition(
    monitoring: Mapping[str, Any] | None, performance: Mapping[str, Any] | None
) -> Condition:
    """PerformanceDegraded, from the newest pass's live precision against
    ``retraining.performance``."""
    if not monitoring:
        return Condition(
            PERFORMANCE_DEGRADED, "Unknown", "NoMonitoringPass", "no monitoring pass has run yet"
        )
    precision, labelled = monitoring.get("livePrecision"), monitoring.get("labelledRows") or 0
    if not performance:
        return Condition(
            PERFORMANCE_DEGRADED,
            "Unknown",
            "NoThreshold",
            f"live precision {precision} on {labelled} labelled requests; set "
            "retraining.performance.minPrecision to judge it",
        )
    needed, floor = performance["minLabelledRows"], performance["minPrecision"]
    if precision is None or labelled < needed:
        return Condition(
            PERFORMANCE_DEGRADED,
            "Unknown",
            "TooFewLabels",
            f"{labelled} labelled requests in the window, "
            f"retraining.performance.minLabelledRows is {needed}",
        )
    if precision < floor:
        return Condition(
            PERFORMANCE_DEGRADED,
            "True",
            "PrecisionBelowThreshold",
            f"live precision {precision} on {labelled} labelled requests is below "
            f"retraining.performance.minPrecision {floor}",
        )
    return Condition(
        PERFORMANCE_DEGRADED,
        "False",
        "PrecisionHeld",
        f"live precision {precision} on {labelled} labelled requests, at least {floor}",
    )


@dataclass(frozen=True)
class Trigger:
    """A retraining to start: why (Drift or PerformanceDegraded) and the sentence saying so."""

    reason: str
    message: str
    cooldown: timedelta


def breaches(spec: Mapping[str, Any], monitoring: Mapping[str, Any]) -> list[Trigger]:
    """The thresholds of ``spec.retraining`` the pass breaches, drift first."""
    retraining = spec.get("retraining") or {}
    found: list[Trigger] = []
    drift, score = retraining.get("drift"), monitoring.get("driftScore")
    rows = monitoring.get("rows") or 0
    if drift and score is not None and rows >= drift["minRows"] and score >= drift["psiThreshold"]:
        features = ", ".join(monitoring.get("driftedFeatures") or []) or "no single feature"
        found.append(
            Trigger(
                DRIFT,
                f"drift score {score} >= retraining.drift.psiThreshold {drift['psiThreshold']} "
                f"over {rows:,} requests (drifted: {features})",
                duration(drift["cooldown"]),
            )
        )
    performance, precision = retraining.get("performance"), monitoring.get("livePrecision")
    labelled = monitoring.get("labelledRows") or 0
    if (
        performance
        and precision is not None
        and labelled >= performance["minLabelledRows"]
        and precision < performance["minPrecision"]
    ):
        found.append(
            Trigger(
                PERFORMANCE_DEGRADED,
                f"live precision {precision} < retraining.performance.minPrecision "
                f"{performance['minPrecision']} on {labelled:,} labelled requests",
                duration(performance["cooldown"]),
            )
        )
    return found


def retraining_due(
    spec: Mapping[str, Any],
    monitoring: Mapping[str, Any] | None,
    retraining: Mapping[str, Any] | None,
    now: datetime,
) -> Trigger | None:
    """The retraining to start now, if the newest pass breaches a threshold, was not acted on
    before, and the last retraining the operator started is older than that threshold's
    cooldown."""
    if not monitoring or not monitoring.get("lastRun"):
        return None
    retraining = retraining or {}
    if retraining.get("monitorRun") == monitoring["lastRun"]:
        return None
    last = retraining.get("triggeredAt")
    if last and parse_time(monitoring["lastRun"]) <= parse_time(last):
        return None  # the pass judged the model before the last retraining
    for trigger in breaches(spec, monitoring):
        if last is None or now - parse_time(last) >= trigger.cooldown:
            return trigger
    return None
