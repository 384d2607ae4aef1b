"""Rate limits: per caller, per endpoint group, per plugin action, and chat tokens per minute."""

from __future__ import annotations

from lumina_core.services.limits.limiter import (
    Decision,
    RateLimited,
    RateLimiter,
    build_limiter,
    parse_limit,
)
from lumina_core.services.limits.middleware import RateLimitMiddleware, limits_configured

__all__ = ["Decision", "RateLimitMiddleware", "RateLimited", "RateLimiter", "build_limiter", "limits_configured", "parse_limit"]
