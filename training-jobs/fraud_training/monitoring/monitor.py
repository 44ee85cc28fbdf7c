"""One monitoring pass over a window of the audit trail: what the Job and ``fraudctl monitor`` run.

Traffic (volume, decision mix, latency, model versions), drift of every feature and of the score
against the served bundle's reference profiles, and live performance from the labels received
so far. Below ``min_rows`` audited predictions the pass says "not enough data" instead of a drift
verdict: a PSI over a few dozen rows is noise. Rows scored without online history (Redis was
down: history features fall back to constants) are left out of drift, or an outage would read
as a shift in every history feature; their share is reported with the traffic.
:meth:`MonitorReport.result` is the small document the operator copies into
``status.monitoring``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from fraud_training.evaluation import CostModel
from fraud_training.monitoring.drift import ColumnDrift, DriftBands, DriftResult, column_drift
from fraud_training.monitoring.live import (
    APPROVE,
    LivePerformance,
    live_performance,
    live_performance_by_version,
)
from fraud_training.monitoring.window import AuditWindow

#: The name the score goes by among the drift columns.
SCORE = "fraud_probability"
DEFAULT_MIN_ROWS = 1000
LATENCY_PERCENTILES = (50, 95, 99)
STABLE, DRIFTING, NOT_ENOUGH_DATA = "stable", "drifting", "not enough data"


@dataclass(frozen=True)
class Reference:
    """What live traffic is compared with: the served bundle's profiles and its identity."""

    model: str
    features: Mapping[str, Mapping[str, Sequence[float]]]
    score: Mapping[str, Sequence[float]] = field(default_factory=dict)

    @classmethod
    def of_bundle(cls, bundle: object, model: str) -> Reference:
        """The reference profiles a bundle carries (bundles older than the score profile
        have none: score drift is then skipped with that reason)."""
        return cls(
            model=model,
            features=getattr(bundle, "reference_profile", {}) or {},
            score=getattr(bundle, "score_profile", {}) or {},
        )


@dataclass(frozen=True)
class MonitorOptions:
    """How a pass judges: the drift bands, the minimum window and the cost of mistakes."""

    bands: DriftBands = field(default_factory=DriftBands)
    min_rows: int = DEFAULT_MIN_ROWS
    cost_model: CostModel = field(default_factory=CostModel)

    def __post_init__(self) -> None:
        if self.min_rows < 1:
            raise ValueError(f"min_rows: must be at least 1, got {self.min_rows}")


@dataclass(frozen=True)
class Traffic:
    """Volume and shape of what was served in the window."""

    rows: int
    rows_per_hour: float
    decision_mix: dict[str, float]
    flagged_share: float | None
    degraded_share: float | None
    healthy_rows: int
    labelled_fraud_rate: float | None
    latency_ms: dict[str, float]
    versions: dict[str, int]


@dataclass(frozen=True)
class MonitorReport:
    """Everything one pass found; rendered as HTML and terminal text by ``report``."""

    model: str
    start: datetime
    end: datetime
    generated_at: datetime
    verdict: str
    traffic: Traffic
    drift: DriftResult | None
    live: LivePerformance
    live_by_version: dict[str, LivePerformance]
    options: MonitorOptions

    @property
    def feature_drift(self) -> list[ColumnDrift]:
        """The features' drift (the score excluded), largest PSI first."""
        if self.drift is None:
            return []
        return sorted((c for c in self.drift.columns if c.name != SCORE), key=lambda c: -c.psi)

    @property
    def score_drift(self) -> ColumnDrift | None:
        """The score's drift, if it could be computed."""
        if self.drift is None:
            return None
        return next((c for c in self.drift.columns if c.name == SCORE), None)

    def result(self, report: str = "") -> dict[str, object]:
        """The ``status.monitoring`` document (camelCase, JSON-able, small)."""
        score = self.score_drift
        return {
            "verdict": self.verdict,
            "driftScore": None if self.drift is None else round(self.drift.score, 4),
            "driftedFeatures": []
            if self.drift is None
            else [name for name in self.drift.drifted if name != SCORE],
            "scorePsi": None if score is None else round(score.psi, 4),
            "livePrecision": _rounded(self.live.precision),
            "liveRecall": _rounded(self.live.recall),
            "labelledRows": self.live.labelled_rows,
            "rows": self.traffic.rows,
            "windowStart": _iso(self.start),
            "windowEnd": _iso(self.end),
            "lastRun": _iso(self.generated_at),
            "model": self.model,
            "report": report,
        }


def run_monitor_pass(
    window: AuditWindow,
    reference: Reference,
    options: MonitorOptions | None = None,
    now: datetime | None = None,
) -> MonitorReport:
    """Judge ``window`` against ``reference``."""
    options = options or MonitorOptions()
    frame = window.frame
    healthy = ~window.degraded()
    drift = None
    if int(healthy.sum()) >= options.min_rows:
        columns = window.features(healthy)
        profile: dict[str, Mapping[str, Sequence[float]]] = dict(reference.features)
        if reference.score:
            columns[SCORE] = frame["fraud_probability"].to_numpy(np.float64)[healthy]
            profile[SCORE] = reference.score
        drift = column_drift(columns, profile, options.bands)
        if not reference.score:
            drift.skipped[SCORE] = "the bundle carries no score profile"
    verdict = NOT_ENOUGH_DATA if drift is None else DRIFTING if drift.drifted else STABLE
    return MonitorReport(
        model=reference.model,
        start=window.start,
        end=window.end,
        generated_at=now or datetime.now(UTC),
        verdict=verdict,
        traffic=traffic(window),
        drift=drift,
        live=live_performance(frame, options.cost_model),
        live_by_version=live_performance_by_version(frame, options.cost_model),
        options=options,
    )


def traffic(window: AuditWindow) -> Traffic:
    """Volume, decision mix, latency percentiles and version mix of a window."""
    frame = window.frame
    rows = window.rows
    hours = max((window.end - window.start).total_seconds() / 3600.0, 1e-9)
    decisions = frame["decision"].value_counts(normalize=True, sort=True)
    labels = frame["label"].dropna()
    latency = frame["latency_ms"].to_numpy(np.float64)
    versions = (
        (frame["model_name"].astype(str) + "/" + frame["model_version"].astype(str))
        .value_counts()
        .to_dict()
    )
    return Traffic(
        rows=rows,
        rows_per_hour=rows / hours,
        decision_mix={str(k): float(v) for k, v in decisions.items()},
        flagged_share=float((frame["decision"] != APPROVE).mean()) if rows else None,
        degraded_share=float(window.degraded().mean()) if rows else None,
        healthy_rows=int((~window.degraded()).sum()),
        labelled_fraud_rate=float(labels.mean()) if len(labels) else None,
        latency_ms=(
            {
                f"p{p}": float(v)
                for p, v in zip(
                    LATENCY_PERCENTILES, np.percentile(latency, LATENCY_PERCENTILES), strict=True
                )
            }
            if rows
            else {}
        ),
        versions={str(k): int(v) for k, v in versions.items()},
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
