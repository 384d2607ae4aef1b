"""Running the server: the kernel starts before uvicorn listens, so ``--strict`` fails cleanly."""

from __future__ import annotations

import asyncio
import logging

import click
import uvicorn

from lumina_core.api.app import create_app
from lumina_core.kernel import StartupFailed
from lumina_core.logs import configure_logging
from lumina_core.settings import Settings

log = logging.getLogger("lumina.serve")


def run_server(settings: Settings) -> int:
    """Serve until interrupted; return the process exit code."""
    configure_logging(settings.log_level)
    try:
        asyncio.run(_serve(settings))
    except StartupFailed as exc:
        click.echo(f"lumina: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


async def _serve(settings: Settings) -> None:
    app = create_app(settings)
    await app.state.kernel.start()
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_config=None, access_log=False, lifespan="on"
    )
    log.info("serving on http://%s:%d (data in %s)", settings.host, settings.port, settings.data_dir)
    await uvicorn.Server(config).serve()
