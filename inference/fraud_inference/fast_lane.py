"""A direct lane to the scoring endpoints, past FastAPI's per-request machinery.

The scoring routes (``POST /predict`` and V2 ``infer``) are ordinary FastAPI routes: they define
the path, appear in the OpenAPI document and answer when called through FastAPI. Their handlers
take only the :class:`~starlette.requests.Request` and parse the body themselves, so FastAPI has
nothing to resolve for them; yet its router, dependency solver, exception and exit-stack layers
cost about two thirds of an infer call in process (97 us of 150 us, then 30 us through this
lane, measured with cProfile and a timing loop). This middleware matches those few routes by
their own compiled path patterns and calls the very same handlers, answering their errors with
the same handlers FastAPI uses. Everything else goes to FastAPI untouched.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from fraud_inference.errors import client_error_response


def lane_routes(routes: Iterable[Any], handlers: Iterable[Callable[..., Any]]) -> list[APIRoute]:
    """The FastAPI routes whose endpoint is one of ``handlers``.

    A handler must take the request and nothing else: the lane resolves no parameters, so one
    that grew a FastAPI parameter must fail here, at start-up, not answer wrongly.
    """
    wanted = set(handlers)
    found: list[APIRoute] = []
    for route in routes:
        if not isinstance(route, APIRoute) or route.endpoint not in wanted:
            continue
        parameters = list(inspect.signature(route.endpoint).parameters)
        if parameters != ["request"] or route.dependant.dependencies:
            raise TypeError(
                f"{route.path}: a fast-lane handler takes only `request`, got {parameters}"
            )
        found.append(route)
    missing = wanted - {route.endpoint for route in found}
    if missing:
        raise LookupError(f"fast lane: no route for {sorted(h.__name__ for h in missing)}")
    return found


class FastLane:
    """Pure ASGI middleware: serve the lane's routes directly, pass everything else on."""

    def __init__(self, app: ASGIApp, routes: list[APIRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self._match(scope)
            if route is not None:
                await self._serve(route, scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _match(self, scope: Scope) -> APIRoute | None:
        method, path = scope["method"], scope["path"]
        for route in self.routes:
            if method not in route.methods:
                continue
            match = route.path_regex.match(path)
            if match is None:
                continue
            scope["route"] = route
            scope["path_params"] = {
                name: route.param_convertors[name].convert(value)
                for name, value in match.groupdict().items()
            }
            return route
        return None

    @staticmethod
    async def _serve(route: APIRoute, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await route.endpoint(request)
        except Exception as error:
            response = await client_error_response(request, error)
            if response is None:
                raise
        await response(scope, receive, send)
