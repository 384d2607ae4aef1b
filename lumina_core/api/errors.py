"""Every error the HTTP API sends has one shape, and no error is ever a traceback.

Lumina's own routes answer ``{"error": {"type", "message", "field"}}``. Protocol-compatible
route families (OpenAI's ``/v1``, Ollama's ``/api``) register their own envelope for their path
prefix with :func:`register_envelope`, so clients of those protocols see what they expect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lumina_core.errors import LuminaError

log = logging.getLogger("lumina.api")

#: Builds the response for an error: (status, type, message, field, headers) -> Response.
Envelope = Callable[[int, str, str, str | None, dict[str, str] | None], Response]

_TYPES_BY_STATUS = {
    400: "validation_error",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "validation_error",
    409: "conflict",
    413: "validation_error",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


def lumina_envelope(
    status: int, kind: str, message: str, field: str | None, headers: dict[str, str] | None
) -> Response:
    body: dict[str, Any] = {"type": kind, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status, headers=headers)


_envelopes: list[tuple[str, Envelope]] = []


def register_envelope(prefix: str, envelope: Envelope) -> None:
    """Send errors of routes under ``prefix`` in ``envelope``'s shape."""
    _envelopes[:] = [(p, e) for p, e in _envelopes if p != prefix] + [(prefix, envelope)]
    _envelopes.sort(key=lambda item: len(item[0]), reverse=True)


def error_response(
    request: Request, status: int, kind: str, message: str, field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error response for ``request``'s route family."""
    path = request.url.path
    envelope = next((e for p, e in _envelopes if path == p or path.startswith(p + "/")), lumina_envelope)
    return envelope(status, kind, message, field, headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LuminaError, _on_lumina_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    for outage in (RedisConnectionError, RedisTimeoutError):
        app.add_exception_handler(outage, _on_store_unreachable)
    app.add_exception_handler(Exception, _on_unexpected)


async def _on_lumina_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LuminaError)
    headers = getattr(exc, "headers", None)
    return error_response(request, exc.status, exc.type, exc.message, exc.field, headers)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kind = _TYPES_BY_STATUS.get(exc.status_code, "internal" if exc.status_code >= 500 else "validation_error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"nothing is served at {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    return error_response(request, exc.status_code, kind, message, None, dict(exc.headers or {}) or None)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [(field_path(e["loc"]), e["msg"]) for e in exc.errors()]
    message = "; ".join(f"{where}: {what}" for where, what in problems) or "the request is not valid"
    return error_response(request, 422, "validation_error", message, problems[0][0] if problems else None)


async def _on_store_unreachable(request: Request, exc: Exception) -> Response:
    """Redis away is an outage of one part, not a bug: 503, and the part recovers by itself."""
    log.warning("Redis unreachable on %s %s: %s", request.method, request.url.path, exc)
    message = f"Redis is unreachable ({exc}); this part works again by itself when Redis returns"
    return error_response(request, 503, "unavailable", message, None, {"Retry-After": "2"})


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    request_id = request.headers.get("x-request-id", "")
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    message = f"an internal error occurred; it is logged with request id {request_id}".rstrip()
    return error_response(request, 500, "internal", message)


def field_path(location: Sequence[Any]) -> str:
    """``("body", "messages", 0, "content")`` → ``messages[0].content`` (query/path stay named)."""
    parts = list(location)
    if parts and parts[0] == "body":
        parts = parts[1:]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"
