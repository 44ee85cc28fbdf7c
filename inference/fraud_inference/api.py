"""The FastAPI application: routes, V2 protocol, error handlers, request metrics, lifespan."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fraud_inference import errors, routes, v2
from fraud_inference.fast_lane import FastLane, lane_routes
from fraud_inference.metrics import ServiceMetrics
from fraud_inference.services import Services
from fraud_inference.settings import Settings

UNMATCHED_ROUTE = "unmatched"
#: The hot routes, served through the :mod:`~fraud_inference.fast_lane`.
SCORING_HANDLERS = (routes.predict, v2.infer)


class RequestMetrics:
    """Counts requests and times them by route template, method and status (pure ASGI, cheap).

    The label is the matched route's template, never the raw path: a scanner must not be able to
    create a time series per URL it tries.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", UNMATCHED_ROUTE)
            method = scope["method"]
            self.metrics.requests.labels(template, method, str(status)).inc()
            self.metrics.request_duration.labels(template, method).observe(
                time.perf_counter() - started
            )


def create_app(settings: Settings) -> FastAPI:
    """A service instance configured by ``settings``."""
    parts = Services.build(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await parts.start()
        try:
            yield
        finally:
            await parts.stop()

    app = FastAPI(
        title="FraudOps scoring service",
        summary="Fraud probability, decision and explanation per card transaction.",
        version="1",
        lifespan=lifespan,
        # Prometheus is the service's telemetry; FastAPI's native OpenTelemetry would look for
        # a configured provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # The routes themselves, not the routers: an included router is matched as a branch
        # (every route tried once for the branch, again to dispatch), which cost 35 us a call.
        routes=[*v2.router.routes, *routes.router.routes],
    )
    app.state.services = parts
    errors.install(app)
    app.add_middleware(FastLane, routes=lane_routes(app.routes, SCORING_HANDLERS))
    app.add_middleware(RequestMetrics, metrics=parts.metrics)
    return app
