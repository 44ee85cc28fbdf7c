"""The ``helm --set`` flags that install the chart's operator without its bundled services.

Most end-to-end tests run throw-away services on the host beside the devcluster (started and
stopped by the harness, offered to pods as Services, so a test can read PostgreSQL or MLflow
directly) instead of the chart's StatefulSets, and point the operator at those; one definition
keeps every such install alike. `make demo` and the platform test install the whole chart
(`operator_install.install_platform`).
"""

from __future__ import annotations


def operator_only(postgresql_host: str, prometheus_url: str) -> list[str]:
    """Flags that switch every bundled service off and name the external PostgreSQL and
    Prometheus the chart requires in their place; serving's database URL is then a plain value
    (``serving.databaseUrl``), not the bundled Secret."""
    return [
        "--set",
        "mlflow.enabled=false,postgresql.enabled=false,redis.enabled=false,objectStore.enabled=false",
        "--set",
        "prometheus.enabled=false,grafana.enabled=false,serving.databaseUrlSecret.name=",
        "--set",
        f"postgresql.external.host={postgresql_host}",
        "--set",
        f"prometheus.external.url={prometheus_url}",
    ]
