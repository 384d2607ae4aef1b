"""Request counts and latency by route, as plain ASGI (no BaseHTTPMiddleware: no task per request).

The route label is the route's path template (``/tasks/{task_id}``), read after routing, so ids
never multiply the series; requests that matched no route share one label.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("lumina_http_requests_total", "HTTP requests, by method, route and status.", ["method", "route", "status"])
LATENCY = Histogram(
    "lumina_http_request_duration_seconds",
    "Time to the end of the response, by method and route.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UNMATCHED = "<unmatched>"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED)
            counter, latency = _series(scope["method"], route, status)
            counter.inc()
            latency.observe(time.perf_counter() - started)


@functools.lru_cache(maxsize=8192)
def _series(method: str, route: str, status: int) -> tuple[Any, Any]:
    """The labelled children for one (method, route, status): looked up once, not per request."""
    return REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route)
