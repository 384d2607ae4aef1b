"""Request ids: accepted from ``X-Request-ID`` or made up, returned, and put on every log line.

Written as plain ASGI (no BaseHTTPMiddleware) so it adds microseconds, not a task per request.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = b"x-request-id"
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _given_id(scope["headers"]) or _next_id()
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER, rid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
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
