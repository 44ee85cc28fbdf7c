"""The model dashboard: live precision and recall from confirmed outcomes, label lag, scores; the
monitoring pass's drift and live metrics, gate outcomes and cost saved (from the operator)."""

from __future__ import annotations

from fraudops_dashboards.panels import FM_SCOPE, SCOPE, DashboardSpec, PanelSpec, Query

FEEDBACK = "fraudops_feedback_total"
LABEL_LAG = "fraudops_label_lag_seconds"

DASHBOARD = DashboardSpec(
    uid="fraudops-model",
    title="FraudOps / Model",
    description="How good the served models are in production: confirmed outcomes against the "
    "decisions served, and the scores they give.",
    rows=(
        (
            "Live quality",
            (
                PanelSpec(
                    title="Live precision at the decline threshold",
                    description="Share of the declines confirmed in the last day that were fraud, "
                    "by model version; training sets the threshold for 0.9, "
                    "FraudOpsLivePrecisionBelowPolicy fires below 0.8.",
                    queries=(
                        Query(
                            f"version:fraudops_live_precision:ratio_rate1d{{{SCOPE}}}",
                            "v{{model_version}}",
                        ),
                    ),
                    unit="percentunit",
                    max_value=1,
                ),
                PanelSpec(
                    title="Live recall at the decline threshold",
                    description="Share of the fraud confirmed in the last day that was declined, "
                    "by model version.",
                    queries=(
                        Query(
                            f"version:fraudops_live_recall:ratio_rate1d{{{SCOPE}}}",
                            "v{{model_version}}",
                        ),
                    ),
                    unit="percentunit",
                    max_value=1,
                ),
                PanelSpec(
                    title="Confirmed outcomes per day, by decision served",
                    description="Feedback received (chargebacks, analyst reviews), by the "
                    "decision the model had served and the confirmed outcome.",
                    queries=(
                        Query(
                            "86400 * sum by (decision, outcome) "
                            f"(version_decision_outcome:fraudops_feedback:rate1d{{{SCOPE}}})",
                            "{{decision}} → {{outcome}}",
                        ),
                    ),
                    unit="short",
                    stacked=True,
                ),
                PanelSpec(
                    title="Label lag p50 / p90",
                    description="Time from a decision to its confirmed outcome: how long live "
                    "precision lags behind the traffic.",
                    queries=(
                        Query(
                            "histogram_quantile(0.5, sum by (le) "
                            f"(rate({LABEL_LAG}_bucket{{{SCOPE}}}[1d])))",
                            "p50",
                        ),
                        Query(
                            "histogram_quantile(0.9, sum by (le) "
                            f"(rate({LABEL_LAG}_bucket{{{SCOPE}}}[1d])))",
                            "p90",
                        ),
                    ),
                    unit="s",
                ),
            ),
        ),
        (
            "Scores and decisions",
            (
                PanelSpec(
                    title="Fraud score p50 / p90 / p99",
                    description="Quantiles of the fraud probabilities served, over 5 minutes: "
                    "they move when the traffic or the model drifts.",
                    queries=tuple(
                        Query(
                            f"histogram_quantile({q}, sum by (le) "
                            f"(rate(fraudops_fraud_score_bucket{{{SCOPE}}}[5m])))",
                            f"p{round(float(q) * 100)}",
                        )
                        for q in ("0.5", "0.9", "0.99")
                    ),
                    unit="percentunit",
                ),
                PanelSpec(
                    title="Alert rate (review or decline)",
                    description="Share of scored transactions sent to review or declined: the "
                    "analysts' workload and the customers' friction.",
                    queries=(
                        Query(
                            "1 - sum(decision:fraudops_predictions:rate5m"
                            f'{{{SCOPE}, decision="approve"}}) / '
                            f"sum(decision:fraudops_predictions:rate5m{{{SCOPE}}})",
                            "alert rate",
                        ),
                    ),
                    unit="percentunit",
                    max_value=1,
                ),
            ),
        ),
        (
            "Monitoring pass, gate and cost",
            (
                PanelSpec(
                    title="Drift score per model",
                    description="Largest PSI (features and score) of each FraudModel's last "
                    "monitoring pass (status.monitoring.driftScore); FraudOpsDriftAbovePolicy "
                    "fires at the model's retraining.drift.psiThreshold (0.25 without one).",
                    queries=(
                        Query(
                            f"max by (fraudmodel_namespace, fraudmodel) "
                            f"(fraudops_monitoring_drift_score{{{FM_SCOPE}}})",
                            "{{fraudmodel_namespace}}/{{fraudmodel}}",
                        ),
                    ),
                    awaits="fraudops_monitoring_drift_score",
                ),
                PanelSpec(
                    title="Monitored live precision and recall",
                    description="Live precision (flagged labelled rows that were fraud) and "
                    "recall (labelled frauds flagged) of each FraudModel's last monitoring pass; "
                    "FraudOpsMonitorPrecisionBelowPolicy fires below its minPrecision.",
                    queries=(
                        Query(
                            f"max by (fraudmodel_namespace, fraudmodel) "
                            f"(fraudops_monitoring_live_precision{{{FM_SCOPE}}})",
                            "{{fraudmodel_namespace}}/{{fraudmodel}} precision",
                        ),
                        Query(
                            f"max by (fraudmodel_namespace, fraudmodel) "
                            f"(fraudops_monitoring_live_recall{{{FM_SCOPE}}})",
                            "{{fraudmodel_namespace}}/{{fraudmodel}} recall",
                        ),
                    ),
                    unit="percentunit",
                    max_value=1,
                    awaits="fraudops_monitoring_live_precision",
                ),
                PanelSpec(
                    title="Gate outcomes in the last day",
                    description="Candidate versions judged by the gate, by FraudModel: passed, "
                    "failed (rejected) or error (the gate Job failed); a failure or an error "
                    "fires FraudOpsGateFailed.",
                    queries=(
                        Query(
                            "sum by (fraudmodel_namespace, fraudmodel, outcome) "
                            f"(outcome:fraudops_operator_gate_decisions:increase1d{{{FM_SCOPE}}})",
                            "{{fraudmodel_namespace}}/{{fraudmodel}} {{outcome}}",
                            instant=True,
                        ),
                    ),
                    kind="table",
                ),
                PanelSpec(
                    title="Cost saved per day (estimate)",
                    description="Confirmed frauds declined times 122.21 (the ULB data set's "
                    "average fraud amount) minus legitimate transactions declined times 5 (an "
                    "assumed cost of a false decline), over the last day, by model version.",
                    queries=(
                        Query(
                            f"version:fraudops_cost_saved:increase1d{{{SCOPE}}}",
                            "v{{model_version}}",
                        ),
                    ),
                    unit="short",
                ),
            ),
        ),
    ),
)
