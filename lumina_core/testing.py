"""The testing kit for plugin authors (and for Lumina's own tests): a pytest plugin.

It starts a real host in-process, with the plugins you choose, on a temporary data folder, and
gives you an ``httpx`` client speaking HTTP to it::

    async def test_greets(lumina_host):
        async with lumina_host(plugins=["hello"]) as host:
            response = await host.client.get("/hello/greet")
            assert response.json() == {"message": "hello, world"}

A plugin written inside a test (a module or any object with hook implementations) is registered
for that test only with :func:`plugin_object`::

    async def test_my_hook(lumina_host):
        greeter = plugin_object(MyPlugin(), {"name": "greeter", "version": "0.1.0", ...})
        async with lumina_host(plugins=[], objects=[greeter]) as host:
            ...
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from lumina_core.api.app import create_app
from lumina_core.kernel import Kernel
from lumina_core.plugins.discovery import PluginSource
from lumina_core.plugins.manifest import MANIFEST_FILE
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


@dataclass(frozen=True)
class PluginObject:
    """A plugin defined in a test: the object pluggy registers, and its manifest as data."""

    plugin: object
    manifest: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    def source(self, folder: Path) -> PluginSource:
        """Write the manifest under ``folder`` (so errors name a real file) and describe the plugin."""
        manifest_path = folder / "test-plugins" / self.name / MANIFEST_FILE
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        manifest_path.write_text(yaml.safe_dump(dict(self.manifest), sort_keys=False), "utf-8")
        return PluginSource(
            declared_name=self.name,  # named even when its manifest is broken
            origin=f"test object {self.plugin!r}",
            manifest_path=manifest_path,
            package=f"lumina-test-object:{self.name}",  # never a real module: reload imports nothing
            code_dir=None,
            load=lambda: self.plugin,
        )


def plugin_object(plugin: object, manifest: Mapping[str, Any]) -> PluginObject:
    """Register ``plugin`` (a module or an object with ``@hookimpl`` methods) for one test."""
    return PluginObject(plugin, manifest)


def host_settings(data_dir: Path, plugins: Iterable[str] | None = None, **overrides: Any) -> Settings:
    """Settings for a test host: its own data folder, and only ``plugins`` when given."""
    selected = None if plugins is None else ",".join(plugins)
    return load_settings(data_dir=data_dir, load_plugins=selected, **overrides)


@asynccontextmanager
async def running_host(settings: Settings, objects: Iterable[PluginObject] = ()) -> AsyncIterator[Host]:
    """Start a host in-process (lifespan included), with ``objects`` added, and stop it on exit."""
    app = create_app(settings)
    for plugin in objects:
        app.state.kernel.add_source(plugin.source(settings.data_dir))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield Host(app=app, kernel=app.state.kernel, client=client)


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1, for a test that starts a real server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_http(url: str, *, timeout: float = 30.0, alive: Callable[[], bool] = lambda: True) -> httpx.Response:
    """Poll ``url`` until it answers (any status) and return the answer; fail after ``timeout``
    seconds or as soon as ``alive()`` turns false (the server process exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            return httpx.get(url, timeout=2.0)
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"nothing answered at {url} within {timeout:g} s" + ("" if alive() else " (the server exited)"))


@pytest.fixture
def lumina_data_dir(tmp_path: Path) -> Path:
    """A fresh, empty data folder."""
    folder = tmp_path / "lumina-data"
    folder.mkdir()
    return folder


HostFactory = Callable[..., AbstractAsyncContextManager[Host]]


@pytest.fixture
def lumina_host(lumina_data_dir: Path) -> HostFactory:
    """``async with lumina_host(plugins=[...], objects=[...], **settings) as host`` starts a host
    for one test: only the named plugins (all when ``plugins`` is None) plus the plugin objects."""

    def factory(
        plugins: Iterable[str] | None = None, objects: Iterable[PluginObject] = (), **overrides: Any
    ) -> AbstractAsyncContextManager[Host]:
        objects = list(objects)
        if plugins is not None:
            plugins = [*plugins, *(o.name for o in objects)]
        return running_host(host_settings(lumina_data_dir, plugins, **overrides), objects)

    return factory


@pytest.fixture
def lumina_plugins_dir(tmp_path: Path) -> Path:
    """An empty folder for unpackaged plugins: pass it as ``plugins_dir=`` to ``lumina_host``."""
    folder = tmp_path / "lumina-plugins"
    folder.mkdir()
    return folder
