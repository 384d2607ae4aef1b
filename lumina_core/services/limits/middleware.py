"""The HTTP side of rate limits, as plain ASGI: one decision per request before routing.

Each request counts against the default limit (``LUMINA_RATE_LIMIT``) of its caller (the user
behind its credentials, else its address), and against the limit of the endpoint group its path
falls in (``LUMINA_RATE_LIMIT_ROUTES``). Chat routes also check the caller's tokens per minute
(spent after each turn). Over a limit: 429 with ``Retry-After``, in the envelope of the route
family (OpenAI's on ``/v1``). Every answer carries the tightest ``X-RateLimit-*``.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lumina_core.api.errors import error_response
from lumina_core.errors import LuminaError, ServiceUnavailable
from lumina_core.services.bus.redis import REDIS_DOWN
from lumina_core.services.limits.limiter import REJECTED, Decision, RateLimiter

log = logging.getLogger("lumina.limits")

EXEMPT = ("/health", "/metrics")
CHAT_PATHS = ("/v1/chat", "/chat", "/api/chat")
SERVICE = "rate_limits"


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _under(scope["path"], EXEMPT):
            await self.app(scope, receive, send)
            return
        kernel = scope["app"].state.kernel
        try:
            limiter: RateLimiter = kernel.services.get(SERVICE)
        except ServiceUnavailable:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            decisions = await _decide(limiter, kernel.settings, request)
        except REDIS_DOWN as exc:  # a shared store that is away fails open
            log.warning("rate limits skipped: their store is unreachable (%s)", exc)
            await self.app(scope, receive, send)
            return
        refused = next((d for d in decisions if not d[1].allowed), None)
        if refused is not None:
            scope_name, decision = refused
            REJECTED.labels(scope_name).inc()
            message = f"rate limit of {decision.limit} {scope_name} reached; try again in {decision.retry_after_s} s"
            response = error_response(request, 429, "rate_limited", message, None, decision.headers())
            await response(scope, receive, send)
            return
        tightest = min((d for _, d in decisions), key=lambda d: d.remaining, default=None)
        await self.app(scope, receive, _with_headers(send, tightest))


async def _decide(limiter: RateLimiter, settings, request: Request) -> list[tuple[str, Decision]]:  # noqa: ANN001
    path = request.scope["path"]  # not request.url: building a URL costs more than the decision
    decisions: list[tuple[str, Decision]] = []
    caller = await _caller(request)
    if settings.rate_limit:
        decisions.append((f"requests per {_window(settings.rate_limit)}", await limiter.hit(settings.rate_limit, "api", caller)))
    for prefix, limit in settings.rate_limit_routes.items():
        if _under(path, (prefix,)):
            decisions.append((f"requests per {_window(limit)} on {prefix}", await limiter.hit(limit, "route", prefix, caller)))
    if settings.chat_tokens_per_minute and _under(path, CHAT_PATHS) and request.method == "POST":
        user = caller.removeprefix("user:")
        decisions.append(("chat tokens per minute", await limiter.peek(f"{settings.chat_tokens_per_minute}/minute", "tokens", user)))
    return decisions


async def _caller(request: Request) -> str:
    """Who is counted: the authenticated user, else the client's address."""
    from lumina_core.auth import current_user

    try:
        return f"user:{(await current_user(request)).id}"
    except LuminaError:
        client = request.client
        return f"addr:{client.host if client else 'unknown'}"


def limits_configured(settings) -> bool:  # noqa: ANN001
    """Whether any limit is set: without one the app leaves this layer out (nothing to pay)."""
    return bool(settings.rate_limit or settings.rate_limit_routes or settings.chat_tokens_per_minute)


def _window(limit: str) -> str:
    return limit.split("/")[-1].split(" ")[-1]


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def _with_headers(send: Send, decision: Decision | None) -> Send:
    if decision is None:
        return send
    extra = [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return send_with_headers
