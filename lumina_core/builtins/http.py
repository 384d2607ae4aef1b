"""The shared outgoing HTTP client (``ctx.http``, permission ``net:http``).

One ``httpx.AsyncClient`` for the whole host: connections are pooled across plugins, every
request says it comes from Lumina (User-Agent), and timeouts are bounded, so no plugin has to
remember to set them. Plugins add their own headers per request (a crawler adds its contact).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from lumina_core.context import PluginContext
from lumina_core.hookspecs import hookimpl
from lumina_core.version import __version__

USER_AGENT = f"Lumina/{__version__} (local-first assistant; httpx/{httpx.__version__})"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=8)


def make_client() -> httpx.AsyncClient:
    """The client every plugin shares: Lumina's User-Agent, bounded timeouts, pooled connections."""
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT}, timeout=TIMEOUT, limits=LIMITS, follow_redirects=True
    )


class SharedClient:
    """The shared client, built on first use: its TLS context costs ~40 ms of start-up otherwise."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = make_client()
        return getattr(self._client, name)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


@hookimpl
def register_services(ctx: PluginContext) -> Mapping[str, Any]:
    client = SharedClient()
    ctx.on_stop(client.aclose)
    return {"http": client}
