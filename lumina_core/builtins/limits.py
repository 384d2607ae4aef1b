"""The ``rate_limits`` service (plugins reach it with ``service:rate_limits``), and chat token budgets.

The HTTP limits themselves run in :class:`~lumina_core.services.limits.RateLimitMiddleware`;
after every chat turn the tokens it used are spent from the user's per-minute budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lumina_core.context import PluginContext
from lumina_core.contract import ChatTurn
from lumina_core.hookspecs import hookimpl
from lumina_core.services.limits import RateLimiter, build_limiter, parse_limit


@hookimpl
def register_services(ctx: PluginContext) -> Mapping[str, Any]:
    settings = ctx.kernel.settings
    for limit in filter(None, [settings.rate_limit, *settings.rate_limit_routes.values()]):
        parse_limit(limit)
    limiter = build_limiter(settings.redis_url, settings.redis_prefix)
    ctx.on_stop(limiter.aclose)
    return {"rate_limits": limiter}


@hookimpl
async def after_chat_turn(ctx: PluginContext, turn: ChatTurn) -> None:
    per_minute = ctx.kernel.settings.chat_tokens_per_minute
    if per_minute and turn.usage.total_tokens:
        limiter: RateLimiter = ctx.kernel.services.get("rate_limits")
        await limiter.hit(f"{per_minute}/minute", "tokens", turn.request.user_id, cost=turn.usage.total_tokens)
