"""The platform dashboard: the audit trail, online features (Redis), pods and training Jobs."""

from __future__ import annotations

from fraudops_dashboards.panels import SCOPE, DashboardSpec, PanelSpec, Query

DASHBOARD = DashboardSpec(
    uid="fraudops-platform",
    title="FraudOps / Platform",
    description="What the scoring services depend on: PostgreSQL for the audit trail, Redis for "
    "online features, and the training Jobs.",
    rows=(
        (
            "Audit trail (PostgreSQL)",
            (
                PanelSpec(
                    title="Audit backlog",
                    description="Audit rows not yet in PostgreSQL (queued in memory plus spooled "
                    "on disk), by pod; FraudOpsAuditBacklog fires above 10k for 10 minutes.",
                    queries=(Query(f"fraudops_audit_backlog_rows{{{SCOPE}}}", "{{instance}}"),),
                    width=8,
                ),
                PanelSpec(
                    title="Audit rows written per second",
                    description="Decisions written to PostgreSQL.",
                    queries=(
                        Query(
                            "sum by (job) (rate(fraudops_audit_rows_written_total"
                            f"{{{SCOPE}}}[$__rate_interval]))",
                            "{{job}}",
                        ),
                    ),
                    unit="rowsps",
                    width=8,
                ),
                PanelSpec(
                    title="Audit rows dropped in the last hour",
                    description="Decisions lost from the audit trail because the disk spool was "
                    "full; anything above 0 fires FraudOpsAuditRowsDropped.",
                    queries=(
                        Query(
                            f"sum(increase(fraudops_audit_rows_dropped_total{{{SCOPE}}}[1h]))",
                            "dropped",
                        ),
                    ),
                    kind="stat",
                    width=8,
                ),
            ),
        ),
        (
            "Online features (Redis)",
            (
                PanelSpec(
                    title="Transactions scored without online features",
                    description="Share of scored transactions that had no per-customer history "
                    "because Redis was unavailable; FraudOpsFeaturesDegraded fires above 5%.",
                    queries=(
                        Query(
                            "max by (job) "
                            f"(job:fraudops_features_degraded:ratio_rate5m{{{SCOPE}}})",
                            "{{job}}",
                        ),
                    ),
                    unit="percentunit",
                ),
                PanelSpec(
                    title="Degraded scorings per second",
                    description="Transactions scored with empty online history, by pod.",
                    queries=(
                        Query(
                            "sum by (instance) (rate(fraudops_features_degraded_total"
                            f"{{{SCOPE}}}[$__rate_interval]))",
                            "{{instance}}",
                        ),
                    ),
                    unit="ops",
                ),
            ),
        ),
        (
            "Pods and Jobs",
            (
                PanelSpec(
                    title="Pods serving a model",
                    description="Scoring pods with a model loaded, by service.",
                    queries=(Query(f"count by (job) (fraudops_model_info{{{SCOPE}}})", "{{job}}"),),
                    kind="stat",
                ),
                PanelSpec(
                    title="Failed training Jobs",
                    description="Training and retraining Jobs that failed, as kube-state-metrics "
                    "reports them (FraudOpsTrainingJobFailed).",
                    queries=(
                        Query(
                            'sum by (namespace, job_name) (kube_job_failed{condition="true", '
                            'namespace=~"$namespace", '
                            'job_name=~".+-train-g[0-9]+|.+-retrain-[0-9]+"})',
                            "{{namespace}}/{{job_name}}",
                            instant=True,
                        ),
                    ),
                    kind="table",
                    awaits="kube_job_failed",
                ),
            ),
        ),
    ),
)
