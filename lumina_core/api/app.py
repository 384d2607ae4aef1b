"""``create_app()``: the FastAPI application around one kernel."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from lumina_core.api.errors import install_error_handlers
from lumina_core.api.middleware import RequestMiddleware
from lumina_core.api.routes import RouteRegistry
from lumina_core.builtins import BUILTINS
from lumina_core.kernel import Kernel
from lumina_core.services.limits import RateLimitMiddleware, limits_configured
from lumina_core.settings import Settings, load_settings
from lumina_core.version import __version__


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; plugins start in its lifespan, so the same app serves uvicorn and tests."""
    kernel = Kernel(settings or load_settings(), builtins=BUILTINS)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await kernel.start()
        gc.freeze()  # what start-up loaded lives as long as the app: the collector skips it from now
        try:
            yield
        finally:
            await kernel.stop()

    app = FastAPI(
        title="Lumina",
        version=__version__,
        description="A local-first, private AI assistant built as a plugin host.",
        lifespan=lifespan,
    )
    app.state.kernel = kernel
    kernel.routes = RouteRegistry(app)
    install_error_handlers(app)
    if limits_configured(kernel.settings):  # settings are fixed for the app's life
        app.add_middleware(RateLimitMiddleware, kernel=kernel)
    app.add_middleware(RequestMiddleware)
    return app
