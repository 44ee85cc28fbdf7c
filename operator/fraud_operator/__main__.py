"""``python -m fraud_operator``: run the operator cluster-wide (or in FRAUDOPS_WATCH_NAMESPACE)."""

from __future__ import annotations

import logging
import os
import sys

import kopf

import fraud_operator.main  # noqa: F401  (registers the handlers)
from fraud_operator.config import ConfigError, OperatorConfig
from fraud_operator.metrics import METRICS, serve


def run() -> None:
    """Start kopf with a liveness endpoint and ``/metrics``; logs as plain lines (kubectl logs)."""
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per registry request would drown the handlers' own lines; failures still show.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        config = OperatorConfig.from_env()  # read again at start-up; a wrong variable stops us here
    except ConfigError as error:
        logging.getLogger("fraud_operator").error("configuration: %s", error)
        sys.exit(2)
    if config.metrics_port:
        try:
            serve(METRICS, config.metrics_port, config.metrics_host)
        except OSError as error:
            # Reconciling matters more than being watched: say so loudly and carry on.
            logging.getLogger("fraud_operator").error(
                "metrics: cannot serve on %s:%s (%s); set FRAUDOPS_METRICS_PORT (0: none)",
                config.metrics_host,
                config.metrics_port,
                error,
            )
    namespace = os.environ.get("FRAUDOPS_WATCH_NAMESPACE")
    kopf.run(
        standalone=True,
        clusterwide=namespace is None,
        namespaces=[namespace] if namespace else (),
        liveness_endpoint=os.environ.get("FRAUDOPS_LIVENESS", "http://0.0.0.0:8081/healthz"),
    )


if __name__ == "__main__":
    run()
