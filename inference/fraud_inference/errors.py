"""Exception handlers: every client mistake becomes a 4xx naming the field and the problem.

Validation errors list each offending field as a dotted path (``transactions[3].amount``) with
Pydantic's message; anything unexpected is logged with its traceback and answered with a terse
500, which the fuzz test holds at zero for anything a client can send.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from fraud_inference.responses import ClientError, json_response, problem
from fraud_inference.scoring import UnscorableModel

log = logging.getLogger(__name__)


def field_path(location: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "transactions", 3, "amount")`` -> ``transactions[3].amount``."""
    path = ""
    for part in location:
        if part in ("body", "query", "path", "header") and not path:
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def validation_problem(errors: list[dict[str, Any]]) -> Response:
    """422 with one readable line and the per-field details."""
    details = [
        {
            "field": field_path(error.get("loc", ())),
            "message": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in errors
    ]
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    if len(details) > 5:
        summary += f"; and {len(details) - 5} more"
    return json_response({"error": summary, "detail": details}, 422)


async def _on_validation_error(_: Request, error: RequestValidationError) -> Response:
    return validation_problem(list(error.errors()))


async def _on_client_error(_: Request, error: ClientError) -> Response:
    response = problem(error.status_code, error.message)
    if error.headers:
        response.headers.update(error.headers)
    return response


async def _on_http_error(_: Request, error: HTTPException) -> Response:
    response = problem(error.status_code, str(error.detail))
    if error.headers:
        response.headers.update(error.headers)
    return response


async def _on_unscorable(_: Request, error: UnscorableModel) -> Response:
    return problem(409, str(error))


async def _on_unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(500, "internal error; see the service log")


#: Client mistakes and domain errors, each with the handler that answers it.
CLIENT_ERROR_HANDLERS: dict[type[Exception], Any] = {
    RequestValidationError: _on_validation_error,
    ClientError: _on_client_error,
    HTTPException: _on_http_error,
    UnscorableModel: _on_unscorable,
}


async def client_error_response(request: Request, error: Exception) -> Response | None:
    """The answer to ``error`` if a client or the model's kind caused it; ``None`` otherwise
    (then it is unexpected: the 500 handler logs it)."""
    for kind in type(error).__mro__:
        handler = CLIENT_ERROR_HANDLERS.get(kind)
        if handler is not None:
            return await handler(request, error)
    return None


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    for kind, handler in CLIENT_ERROR_HANDLERS.items():
        app.add_exception_handler(kind, handler)
    app.add_exception_handler(Exception, _on_unexpected)
