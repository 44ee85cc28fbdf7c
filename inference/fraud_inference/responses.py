"""JSON responses encoded with orjson, and the service's one error shape ``{"error": ...}``."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

JSON = "application/json"


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response; numpy scalars and arrays are serialised natively."""
    return Response(
        orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
        status_code=status_code,
        media_type=JSON,
        headers=headers,
    )


def problem(status_code: int, message: str, **extra: Any) -> Response:
    """An error response: one line saying what is wrong (and any details)."""
    return json_response({"error": message, **extra}, status_code)


class ClientError(Exception):
    """A request the service will not carry out, with the status code that says why."""

    def __init__(self, status_code: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = headers
