"""Rate limits: per caller, per endpoint group, per plugin action, and chat tokens per minute."""

from __future__ import annotations

from lumina_core.services.limits.limiter import Decision, RateLimited, RateLimiter, build_limiter, parse_limit
from lumina_core.services.limits.middleware import RateLimitMiddleware

__all__ = ["Decision", "RateLimitMiddleware", "RateLimited", "RateLimiter", "build_limiter", "parse_limit"]
