"""The testing kit for plugin authors (and for Lumina's own tests): a pytest plugin.

It starts a real host in-process, with the plugins you choose, on a temporary data folder, and
gives you an ``httpx`` client speaking HTTP to it::

    async def test_greets(lumina_host):
        async with lumina_host(plugins=["hello"]) as host:
            response = await host.client.get("/hello/greet")
            assert response.json() == {"message": "hello, world"}
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from lumina_core.api.app import create_app
from lumina_core.kernel import Kernel
from lumina_core.settings import Settings, load_settings

BASE_URL = "http://lumina.test"


@dataclass
class Host:
    """A running host: the app, its kernel, and a client bound to it."""

    app: FastAPI
    kernel: Kernel
    client: httpx.AsyncClient

    def state(self, plugin: str) -> str:
        return str(self.kernel.get(plugin).state)


def host_settings(data_dir: Path, plugins: Iterable[str] | None = None, **overrides: Any) -> Settings:
    """Settings for a test host: its own data folder, and only ``plugins`` when given."""
    selected = None if plugins is None else ",".join(plugins)
    return load_settings(data_dir=data_dir, load_plugins=selected, **overrides)


@asynccontextmanager
async def running_host(settings: Settings) -> AsyncIterator[Host]:
    """Start a host in-process (lifespan included) and stop it on exit."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield Host(app=app, kernel=app.state.kernel, client=client)


HostFactory = Callable[..., AbstractAsyncContextManager[Host]]


@pytest.fixture
def lumina_data_dir(tmp_path: Path) -> Path:
    """A fresh, empty data folder."""
    folder = tmp_path / "lumina-data"
    folder.mkdir()
    return folder


@pytest.fixture
def lumina_host(lumina_data_dir: Path) -> HostFactory:
    """``async with lumina_host(plugins=[...], **settings) as host`` starts a host for one test."""

    def factory(plugins: Iterable[str] | None = None, **overrides: Any) -> AbstractAsyncContextManager[Host]:
        return running_host(host_settings(lumina_data_dir, plugins, **overrides))

    return factory
