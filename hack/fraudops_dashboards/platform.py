"""The platform dashboard: the audit trail, online features (Redis), pods and training Jobs, and
the operator (reconciles, errors, durations, FraudModels by phase, Job outcomes)."""

from __future__ import annotations

from fraudops_dashboards.panels import FM_SCOPE, SCOPE, DashboardSpec, PanelSpec, Query

DASHBOARD = DashboardSpec(
    uid="fraudops-platform",
    title="FraudOps / Platform",
    description="What the scoring services depend on: PostgreSQL for the audit trail, Redis for "
    "online features, the training Jobs, and the operator that runs them.",
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
                    title="Failed training and gate Jobs in the last day",
                    description="Training Jobs, and gate Jobs that failed without a decision, "
                    "by FraudModel, as the operator saw them finish (no kube-state-metrics "
                    "needed); `kubectl get jobs -l fraudops.io/fraudmodel=<name>` lists them.",
                    queries=(
                        Query(
                            "sum by (fraudmodel_namespace, fraudmodel) (increase("
                            'fraudops_operator_training_jobs_total{outcome="failed", '
                            f"{FM_SCOPE}}}[1d]))",
                            "{{fraudmodel_namespace}}/{{fraudmodel}} training",
                            instant=True,
                        ),
                        Query(
                            "sum by (fraudmodel_namespace, fraudmodel) (increase("
                            'fraudops_operator_gate_decisions_total{outcome="error", '
                            f"{FM_SCOPE}}}[1d]))",
                            "{{fraudmodel_namespace}}/{{fraudmodel}} gate",
                            instant=True,
                        ),
                    ),
                    kind="table",
                ),
            ),
        ),
        (
            "Operator",
            (
                PanelSpec(
                    title="Reconciles and errors per second",
                    description="Reconcile passes of the operator, and those that raised by the "
                    "error's kind (kopf retries them); FraudOpsOperatorReconcileErrors fires "
                    "above 10% for 10 minutes.",
                    queries=(
                        Query(
                            "sum(rate(fraudops_operator_reconciles_total[$__rate_interval]))",
                            "reconciles",
                        ),
                        Query(
                            "sum by (reason) (reason:fraudops_operator_reconcile_errors:rate5m)",
                            "errors: {{reason}}",
                        ),
                    ),
                    unit="ops",
                    width=8,
                ),
                PanelSpec(
                    title="Reconcile duration p50 / p99",
                    description="Time of one reconcile pass, calls to the API server and MLflow "
                    "included, over 5 minutes.",
                    queries=tuple(
                        Query(
                            f"histogram_quantile({q}, sum by (le) (rate("
                            "fraudops_operator_reconcile_duration_seconds_bucket[5m])))",
                            f"p{round(float(q) * 100)}",
                        )
                        for q in ("0.5", "0.99")
                    ),
                    unit="s",
                    width=8,
                ),
                PanelSpec(
                    title="FraudModels by phase",
                    description="FraudModels the operator watches, by status.phase; one in a "
                    "phase other than Ready for 30 minutes fires FraudOpsFraudModelStuck.",
                    queries=(
                        Query(
                            f"sum by (phase) (fraudops_operator_fraudmodels{{{FM_SCOPE}}}) > 0",
                            "{{phase}}",
                        ),
                    ),
                    stacked=True,
                    width=8,
                ),
                PanelSpec(
                    title="Training Jobs finished in the last day",
                    description="Training Jobs of each FraudModel by outcome, as the operator "
                    "saw them finish; a failure fires FraudOpsTrainingFailed.",
                    queries=(
                        Query(
                            "sum by (fraudmodel_namespace, fraudmodel, outcome) (increase("
                            f"fraudops_operator_training_jobs_total{{{FM_SCOPE}}}[1d]))",
                            "{{fraudmodel_namespace}}/{{fraudmodel}} {{outcome}}",
                            instant=True,
                        ),
                    ),
                    kind="table",
                ),
                PanelSpec(
                    title="Promotions and rollbacks in the last day",
                    description="Champion changes by FraudModel: to a newer version "
                    "(promotion) or an older one (rollback).",
                    queries=(
                        Query(
                            "sum by (fraudmodel_namespace, fraudmodel) (increase("
                            f"fraudops_operator_promotions_total{{{FM_SCOPE}}}[1d]))",
                            "{{fraudmodel_namespace}}/{{fraudmodel}} promotions",
                            instant=True,
                        ),
                        Query(
                            "sum by (fraudmodel_namespace, fraudmodel) (increase("
                            f"fraudops_operator_rollbacks_total{{{FM_SCOPE}}}[1d]))",
                            "{{fraudmodel_namespace}}/{{fraudmodel}} rollbacks",
                            instant=True,
                        ),
                    ),
                    kind="table",
                ),
            ),
        ),
    ),
)
