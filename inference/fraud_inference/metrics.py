"""Prometheus metrics of the scoring service, in a registry of its own per app instance.

Names follow the Prometheus conventions: a ``fraudops_`` prefix, ``_total`` counters, ``_seconds``
durations, base units. Labels stay low-cardinality: the route template (never the raw path, which
a scanner could make unbounded), method and status code; model version, served decision and
outcome for feedback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

if TYPE_CHECKING:  # the audit package imports this module
    from fraud_inference.audit.feedback import StoredFeedback

LATENCY_BUCKETS_S = (
    0.0005,
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)
#: Label lag: from a minute to three months (chargebacks can take that long).
LABEL_LAG_BUCKETS_S = tuple(
    float(hours * 3600) for hours in (1 / 60, 0.25, 1, 6, 12, 24, 48, 72, 168, 336, 720, 1440, 2160)
)
SCORE_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99)


class ServiceMetrics:
    """Every metric the service exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "fraudops_http_requests_total",
            "HTTP requests by route template, method and status code.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.request_duration = Histogram(
            "fraudops_http_request_duration_seconds",
            "Time from request received to response sent, by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS_S,
            registry=registry,
        )
        self.predictions = Counter(
            "fraudops_predictions_total",
            "Scored transactions by decision.",
            ["decision"],
            registry=registry,
        )
        self.scores = Histogram(
            "fraudops_fraud_score",
            "Distribution of fraud probabilities (watch it shift for drift).",
            buckets=SCORE_BUCKETS,
            registry=registry,
        )
        self.model_info = Gauge(
            "fraudops_model_info",
            "The model being served (value 1), named by its labels.",
            ["name", "version", "alias", "algorithm"],
            registry=registry,
        )
        self.model_loads = Counter(
            "fraudops_model_loads_total",
            "Model loads and reloads by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.features_degraded = Counter(
            "fraudops_features_degraded_total",
            "Transactions scored without online history because Redis was unavailable.",
            registry=registry,
        )
        self.audit_backlog = Gauge(
            "fraudops_audit_backlog_rows",
            "Audit rows not yet in PostgreSQL (queued in memory plus spooled on disk).",
            registry=registry,
        )
        self.audit_rows_written = Counter(
            "fraudops_audit_rows_written_total",
            "Audit rows written to PostgreSQL.",
            registry=registry,
        )
        self.audit_rows_dropped = Counter(
            "fraudops_audit_rows_dropped_total",
            "Audit rows dropped because the disk spool was full.",
            registry=registry,
        )

        self.feedback = Counter(
            "fraudops_feedback_total",
            "Confirmed outcomes received, by the model version and decision served and the "
            "outcome (fraud or legit); a repeated label is not counted again. Live precision "
            "and recall are ratios of these counters.",
            ["model_version", "decision", "outcome"],
            registry=registry,
        )
        self.label_lag = Histogram(
            "fraudops_label_lag_seconds",
            "Time from a prediction to its confirmed outcome.",
            buckets=LABEL_LAG_BUCKETS_S,
            registry=registry,
        )

    def label_received(self, stored: StoredFeedback) -> None:
        """Count a newly stored outcome by what was served for it."""
        served = stored.prediction
        outcome = "fraud" if stored.is_fraud else "legit"
        self.feedback.labels(served.model_version, served.decision, outcome).inc()
        self.label_lag.observe(stored.label_lag_seconds)

    def serving(self, name: str, version: str, alias: str | None, algorithm: str) -> None:
        """Point the model-info gauge at the model now being served."""
        self.model_info.clear()
        self.model_info.labels(name, version, alias or "", algorithm).set(1)
