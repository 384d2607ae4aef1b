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

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
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


async def sign_up(host: Host, name: str) -> dict[str, str]:
    """Register ``name`` (or sign in again after a restart; the first account is the admin) and
    return its ``Authorization`` header: how a test acts as several users on one host."""
    body = {"username": name, "password": "a long password"}
    await host.client.post("/auth/register", json=body)
    token = (await host.client.post("/auth/login", json=body)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


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


# --- real parts: both service backends, and real lumina processes -----------------------------
#
# ``backend`` runs a test twice: in-process, then on the real Redis (a private key prefix per
# test, deleted afterwards). ``LuminaProcess`` runs a real ``lumina serve`` or ``lumina worker``
# for tests that need several processes, SSE over a socket, or signals.

REDIS_TEST_URL = os.environ.get("LUMINA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def private_redis() -> dict[str, Any]:
    """Settings for a private corner of the test Redis; fails (never skips) when Redis is down."""
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"these tests need Redis at {REDIS_TEST_URL} (set LUMINA_TEST_REDIS_URL): {exc}")
    finally:
        client.close()
    return {"redis_url": REDIS_TEST_URL, "redis_prefix": f"lumina-test-{uuid.uuid4().hex[:12]}"}


def forget_redis_keys(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Setting overrides selecting one backend: ``{"redis_url": None}`` or a private Redis."""
    if request.param == "memory":
        yield {"redis_url": None}
        return
    settings = private_redis()
    yield settings
    forget_redis_keys(settings["redis_url"], settings["redis_prefix"])


@pytest.fixture
def redis_backend() -> Iterator[dict[str, Any]]:
    """Setting overrides for a private corner of the real Redis (for Redis-only behaviour)."""
    settings = private_redis()
    yield settings
    forget_redis_keys(settings["redis_url"], settings["redis_prefix"])


#: The name ``llama_cpp_server`` serves the embedded SmolLM2 under.
PEER_MODEL = "smollm2-peer"


@pytest.fixture(scope="session")
def llama_cpp_server() -> Iterator[str]:
    """``http://127.0.0.1:<port>/v1`` of ``python -m llama_cpp.server`` serving SmolLM2 as
    ``PEER_MODEL``: a real third-party OpenAI-compatible peer, for what a model behind a server
    does (and cannot do) that the embedded one does in-process."""
    from lumina_core.services.model_files import SMOLLM2_135M

    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(SMOLLM2_135M.locate()),
        "--model_alias", PEER_MODEL, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_ubatch", "1", "--n_threads", "2", "--verbose", "false",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        try:
            wait_for_http(f"{url}/models", timeout=60, alive=lambda: process.poll() is None)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {process.stderr.read().decode()[-2000:] if process.poll() is not None else ''}") from None
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def settings_env(data_dir: Path, overrides: Mapping[str, Any]) -> dict[str, str]:
    """The environment that gives a child process these settings (and no inherited Redis)."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "LUMINA_REDIS_URL")}
    env["LUMINA_DATA_DIR"] = str(data_dir)
    env.setdefault("LUMINA_LOAD_PLUGINS", "")
    for name, value in overrides.items():
        if value is not None:
            env[f"LUMINA_{name.upper()}"] = str(value)
    return env


class LuminaProcess:
    """A ``lumina`` command in a child process; ``stop`` ends it (politely, then firmly)."""

    def __init__(self, args: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        command = [sys.executable, "-c", "from lumina_cli.main import cli; cli()", *args]
        self.process = subprocess.Popen(command, env=dict(env), stdout=self._log, stderr=subprocess.STDOUT)

    @classmethod
    def serve(cls, data_dir: Path, log_path: Path, **overrides: Any) -> LuminaProcess:
        port = free_port()
        env = settings_env(data_dir, {**overrides, "port": port, "host": "127.0.0.1"})
        server = cls(["serve"], env, log_path)
        server.url = f"http://127.0.0.1:{port}"
        server.wait_until_ready()
        return server

    @classmethod
    def worker(cls, data_dir: Path, log_path: Path, **overrides: Any) -> LuminaProcess:
        """A ``lumina worker`` on ``data_dir`` with these settings (``load_plugins``, a Redis...)."""
        return cls(["worker"], settings_env(data_dir, overrides), log_path)

    url: str = ""

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        try:
            wait_for_http(f"{self.url}/health/live", timeout=timeout, alive=lambda: self.process.poll() is None)
        except AssertionError as exc:
            raise RuntimeError(f"{exc}:\n{self.output()}") from None

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()
        return self.process.returncode
