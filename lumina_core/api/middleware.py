"""What the host does around every HTTP request, in one plain ASGI layer.

Each request gets an id (accepted from ``X-Request-ID`` or made up), returned in the response
and put on every log line, and is counted with its latency by route (:mod:`.metrics`).
One layer rather than one per concern, and no BaseHTTPMiddleware: every layer costs a call
and a wrapped ``send`` per request, which a trivial endpoint would feel.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lumina_core.api.metrics import REQUEST_METRICS, UNMATCHED, RequestMetrics

REQUEST_ID_HEADER = b"x-request-id"
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestMiddleware:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics = REQUEST_METRICS) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = _given_id(scope["headers"]) or _next_id()
        id_header = (REQUEST_ID_HEADER, rid.encode("latin-1"))
        token = request_id.set(rid)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED)
            self.metrics.record(scope["method"], route, status, time.perf_counter() - started)
            request_id.reset(token)


_PROCESS_PREFIX = uuid.uuid4().hex[:16]
_sequence = itertools.count()


def _next_id() -> str:
    """Unique across processes (random prefix) yet cheap (a counter): 32 hex digits."""
    return f"{_PROCESS_PREFIX}{next(_sequence):016x}"


def _given_id(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            return value.decode("latin-1")[:128]
    return ""


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True
