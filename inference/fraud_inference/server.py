"""Run the service under uvicorn: one worker process, uvloop and httptools, no access log.

One worker per process on purpose: scale with processes or pods (one per core), each with its
own model copy and a single-threaded predictor; the metrics registry is per process.
"""

from __future__ import annotations

import uvicorn

from fraud_inference.api import create_app
from fraud_inference.logs import log_config
from fraud_inference.runtime import tune_garbage_collector
from fraud_inference.settings import Settings


def run(settings: Settings) -> None:
    """Serve until interrupted (SIGTERM drains and flushes the audit trail)."""
    tune_garbage_collector()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        workers=1,
        access_log=False,
        log_config=log_config(settings.log_level),
        timeout_graceful_shutdown=20,
    )
