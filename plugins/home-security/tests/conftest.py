"""Fixtures of the home-security tests: the test clips, cameras served over real sockets, a host
with the plugin, and the real MQTT broker (Mosquitto on 127.0.0.1:1883; the tests fail, never
skip, when it is not answering)."""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lumina_core.testing import Host, HostFactory

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
HERE = Path(__file__).parent


def _load(name: str) -> ModuleType:
    """A helper module of this folder, loaded by path (tests run with --import-mode=importlib)."""
    qualified = f"lumina_home_security_tests_{name}"
    if qualified not in sys.modules:
        spec = importlib.util.spec_from_file_location(qualified, HERE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[qualified] = module
        spec.loader.exec_module(module)
    return sys.modules[qualified]


clips = _load("clips")
camera_servers = _load("camera_servers")


@pytest.fixture(scope="session")
def walk() -> list[Any]:
    """The figure walking across the photo: 15 still frames, 30 with it moving, 15 still."""
    return clips.named("walk")


@pytest.fixture
def mqtt_url() -> str:
    try:
        socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=2).close()
    except OSError as exc:
        pytest.fail(f"these tests need the MQTT broker at {MQTT_HOST}:{MQTT_PORT} (mosquitto -d): {exc}")
    return f"mqtt://{MQTT_HOST}:{MQTT_PORT}"


@pytest.fixture
def mqtt_prefix() -> str:
    """A topic prefix of this test's own, so tests never see each other's retained messages."""
    return f"lumina-test-{uuid.uuid4().hex[:10]}/security"


SecurityHost = Callable[..., AbstractAsyncContextManager[Host]]


@pytest.fixture
def security_host(lumina_host: HostFactory) -> SecurityHost:
    """``async with security_host(**config) as host``: the plugin started with these settings."""

    @asynccontextmanager
    async def start(*, objects: tuple[Any, ...] = (), settings: dict[str, Any] | None = None, **config: Any) -> AsyncIterator[Host]:
        plugin_config = {"home-security": {"timezone": "UTC", **config}}
        async with lumina_host(plugins=["home-security"], objects=objects, plugin_config=plugin_config, **(settings or {})) as host:
            assert host.state("home-security") == "started", host.kernel.get("home-security").error
            yield host

    return start


async def eventually(check: Callable[[], Any], *, timeout: float = 20.0, every: float = 0.1) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"not within {timeout:g} s (last: {last!r})")


async def camera_status(host: Host, camera_id: str, **params: Any) -> dict[str, Any]:
    return (await host.client.get(f"/security/cameras/{camera_id}", params=params)).json()["status"]


async def add_camera(host: Host, body: dict[str, Any]) -> dict[str, Any]:
    answer = await host.client.post("/security/cameras", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def events(host: Host, **params: Any) -> list[dict[str, Any]]:
    return (await host.client.get("/security/events", params=params)).json()["items"]


class Kit:
    """Helpers for the tests (test folders are not importable)."""

    clips = clips
    servers = camera_servers
    eventually = staticmethod(eventually)
    camera_status = staticmethod(camera_status)
    events = staticmethod(events)
    add_camera = staticmethod(add_camera)


@pytest.fixture
def kit() -> Kit:
    return Kit()
