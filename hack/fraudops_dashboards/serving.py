"""The serving dashboard: traffic, latency percentiles, errors, decisions, scores, version mix."""

from __future__ import annotations

from fraudops_dashboards.panels import SCOPE, SCORING_ROUTES, DashboardSpec, PanelSpec, Query

DASHBOARD = DashboardSpec(
    uid="fraudops-serving",
    title="FraudOps / Serving",
    description="The scoring services of the FraudModels: what they receive, how fast they answer, "
    "what they decide.",
    rows=(
        (
            "Traffic",
            (
                PanelSpec(
                    title="Scoring requests per second",
                    description="Requests to the scoring routes (/predict, /predict/batch, V2 "
                    "infer), by route; a batch counts once.",
                    queries=(
                        Query(
                            "sum by (route) (route_status:fraudops_http_requests:rate5m"
                            f'{{{SCOPE}, route=~"{SCORING_ROUTES}"}})',
                            "{{route}}",
                        ),
                    ),
                    unit="reqps",
                ),
                PanelSpec(
                    title="Transactions scored per second, by decision",
                    description="Every scored transaction (a batch row counts once) by the "
                    "decision served: approve, review or decline.",
                    queries=(
                        Query(
                            f"sum by (decision) (decision:fraudops_predictions:rate5m{{{SCOPE}}})",
                            "{{decision}}",
                        ),
                    ),
                    unit="ops",
                    stacked=True,
                ),
            ),
        ),
        (
            "Latency and errors",
            (
                PanelSpec(
                    title="Scoring latency p50 / p95 / p99",
                    description="Time from request received to response sent, percentiles over "
                    "5 minutes, by scoring route.",
                    queries=(
                        Query(
                            "max by (route, quantile) "
                            "(route:fraudops_http_request_duration_seconds:quantile_rate5m"
                            f"{{{SCOPE}}})",
                            "{{route}} p{{quantile}}",
                        ),
                    ),
                    unit="s",
                ),
                PanelSpec(
                    title="Server error ratio (5xx)",
                    description="Share of requests (probes and /metrics excluded) answered with "
                    "a 5xx; FraudOpsScoringErrorsHigh fires above 1%.",
                    queries=(
                        Query(
                            f"max by (job) (job:fraudops_http_5xx:ratio_rate5m{{{SCOPE}}})",
                            "{{job}}",
                        ),
                    ),
                    unit="percentunit",
                ),
                PanelSpec(
                    title="Responses per second, by status",
                    description="Every response by HTTP status: 4xx are callers' mistakes (the "
                    "body names the field), 5xx the service's.",
                    queries=(
                        Query(
                            "sum by (status) "
                            f"(route_status:fraudops_http_requests:rate5m{{{SCOPE}}})",
                            "{{status}}",
                        ),
                    ),
                    unit="reqps",
                    stacked=True,
                    width=24,
                ),
            ),
        ),
        (
            "Model",
            (
                PanelSpec(
                    title="Fraud score distribution",
                    description="How many transactions got each fraud probability: a shift of "
                    "the mass is the first sign of drift.",
                    queries=(
                        Query(
                            "sum by (le) (increase(fraudops_fraud_score_bucket"
                            f"{{{SCOPE}}}[$__rate_interval]))",
                            "{{le}}",
                        ),
                    ),
                    kind="heatmap",
                ),
                PanelSpec(
                    title="Transactions scored per second, by model version",
                    description="The version mix: which model version scored the traffic (a "
                    "rollout shows both).",
                    queries=(
                        Query(
                            "sum by (name, version) "
                            f"(version:fraudops_predictions:rate5m{{{SCOPE}}})",
                            "{{name}} v{{version}}",
                        ),
                    ),
                    unit="ops",
                    stacked=True,
                ),
                PanelSpec(
                    title="Pods by served model",
                    description="Pods serving each model version, with its alias and algorithm.",
                    queries=(
                        Query(
                            "count by (name, version, alias, algorithm) "
                            f"(fraudops_model_info{{{SCOPE}}})",
                            instant=True,
                        ),
                    ),
                    kind="table",
                ),
                PanelSpec(
                    title="Model loads since the pods started, by outcome",
                    description="Loads and reloads of models by the running pods; a failure keeps "
                    "the previous model serving (FraudOpsModelLoadFailed).",
                    queries=(
                        Query(
                            f"sum by (outcome) (fraudops_model_loads_total{{{SCOPE}}})",
                            "{{outcome}}",
                        ),
                    ),
                    kind="stat",
                ),
            ),
        ),
    ),
)
