"""Running the server: the kernel starts before uvicorn listens, so ``--strict`` fails cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import click
import uvicorn

from lumina_core.api.app import create_app
from lumina_core.kernel import Kernel, StartupFailed
from lumina_core.logs import configure_logging
from lumina_core.settings import Settings

log = logging.getLogger("lumina.serve")

#: Runs next to the server for its whole life (``lumina dev``'s file watcher), cancelled at exit.
Companion = Callable[[Kernel], Awaitable[None]]


def run_server(settings: Settings, *, companion: Companion | None = None) -> int:
    """Serve until interrupted; return the process exit code."""
    configure_logging(settings)
    try:
        asyncio.run(_serve(settings, companion))
    except StartupFailed as exc:
        click.echo(f"lumina: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


async def _serve(settings: Settings, companion: Companion | None = None) -> None:
    app = create_app(settings)
    await app.state.kernel.start()
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_config=None, access_log=False, lifespan="on"
    )
    log.info("serving on http://%s:%d (data in %s)", settings.host, settings.port, settings.data_dir)
    beside = asyncio.create_task(companion(app.state.kernel)) if companion else None
    try:
        await uvicorn.Server(config).serve()
    finally:
        if beside is not None:
            beside.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beside
