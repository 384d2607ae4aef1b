"""The HTTP side of rate limits, as plain ASGI: one decision per request before routing.

Each request counts against the default limit (``LUMINA_RATE_LIMIT``) of its caller (the user
behind its credentials, else its address), and against the limit of the endpoint group its path
falls in (``LUMINA_RATE_LIMIT_ROUTES``). Chat routes also check the caller's tokens per minute
(spent after each turn). Over a limit: 429 with ``Retry-After``, in the envelope of the route
family (OpenAI's on ``/v1``). Every answer carries the tightest ``X-RateLimit-*``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lumina_core.api.errors import error_response
from lumina_core.auth import authenticate_once
from lumina_core.errors import LuminaError, ServiceUnavailable
from lumina_core.services.bus.redis import REDIS_DOWN
from lumina_core.services.limits.limiter import REJECTED, Decision, RateLimiter

if TYPE_CHECKING:
    from lumina_core.kernel import Kernel

log = logging.getLogger("lumina.limits")

EXEMPT = ("/health", "/metrics")
CHAT_PATHS = ("/v1/chat", "/chat", "/api/chat")
SERVICE = "rate_limits"


@dataclass(frozen=True)
class _Rule:
    """One limit a request may count against: its text, what it is called, and where it holds."""

    limit: str
    name: str
    prefix: str | None = None  # None: every path; else one endpoint group

    def applies(self, path: str) -> bool:
        return self.prefix is None or _under(path, (self.prefix,))

    def keys(self, caller: str) -> tuple[str, ...]:
        return ("api", caller) if self.prefix is None else ("route", self.prefix, caller)


class RateLimitMiddleware:
    """Added by the app only when a limit is set; the rules are read once from the settings."""

    def __init__(self, app: ASGIApp, kernel: Kernel) -> None:
        self.app = app
        self.kernel = kernel
        settings = kernel.settings
        self.rules = [_Rule(settings.rate_limit, f"requests per {_window(settings.rate_limit)}")] if settings.rate_limit else []
        self.rules += [
            _Rule(limit, f"requests per {_window(limit)} on {prefix}", prefix)
            for prefix, limit in settings.rate_limit_routes.items()
        ]
        tokens = settings.chat_tokens_per_minute
        self.chat_tokens = f"{tokens}/minute" if tokens else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _under(scope["path"], EXEMPT):
            await self.app(scope, receive, send)
            return
        try:
            limiter: RateLimiter = self.kernel.services.get(SERVICE)
        except ServiceUnavailable:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            decisions = await self._decide(limiter, request)
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

    async def _decide(self, limiter: RateLimiter, request: Request) -> list[tuple[str, Decision]]:
        path = request.scope["path"]  # not request.url: building a URL costs more than the decision
        caller = await self._caller(request)
        decisions = [
            (rule.name, await limiter.hit(rule.limit, *rule.keys(caller))) for rule in self.rules if rule.applies(path)
        ]
        if self.chat_tokens and _under(path, CHAT_PATHS) and request.method == "POST":
            user = caller.removeprefix("user:")
            decisions.append(("chat tokens per minute", await limiter.peek(self.chat_tokens, "tokens", user)))
        return decisions

    async def _caller(self, request: Request) -> str:
        """Who is counted: the authenticated user, else the client's address."""
        try:
            return f"user:{(await authenticate_once(request, self.kernel.services)).id}"
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
