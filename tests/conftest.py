"""Shared helpers for Lumina's own tests (plugin authors get theirs from lumina_core.testing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURE_PLUGINS = Path(__file__).parent / "fixtures" / "plugins"


@pytest.fixture
def fixture_plugins() -> Path:
    """The committed folder of test plugins (good ones and every kind of broken one)."""
    return FIXTURE_PLUGINS


@pytest.fixture
def plugins_copy(tmp_path: Path) -> Path:
    """A private copy of the test plugins, for tests that edit plugin files."""
    target = tmp_path / "plugins"
    shutil.copytree(FIXTURE_PLUGINS, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


# --- a real Lumina server on a free port, shared by the model and gateway tests (issue 3) -----


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def pick_free_port():
    """``pick_free_port()`` → a free TCP port, for tests that start servers of their own."""
    return free_port


@pytest.fixture(scope="session")
def lumina_server(tmp_path_factory: pytest.TempPathFactory):
    """``http://127.0.0.1:<port>``: Lumina with no plugins and the embedded models, over a real socket.

    Anonymous requests from loopback act as the local user; clients that always send a bearer
    token (openai, LangChain) use ``lumina_api_key``.

    It runs uvicorn on a thread of the test process, so the embedded models are loaded once and
    shared with in-process tests (the machine has two cores).
    """
    import threading
    import time

    import uvicorn

    from lumina_core.api.app import create_app
    from lumina_core.testing import host_settings

    port = free_port()
    app = create_app(host_settings(tmp_path_factory.mktemp("lumina-server"), plugins=[], port=port))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the Lumina test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def lumina_api_key(lumina_server: str) -> str:
    """A real API key of a test account on ``lumina_server`` (registered, logged in, key created)."""
    import httpx

    account = {"username": "gateway-tester", "password": "a long enough test password"}
    httpx.post(f"{lumina_server}/auth/register", json=account).raise_for_status()
    token = httpx.post(f"{lumina_server}/auth/login", json=account).json()["access_token"]
    created = httpx.post(
        f"{lumina_server}/auth/api-keys", json={"name": "gateway tests"}, headers={"Authorization": f"Bearer {token}"}
    )
    created.raise_for_status()
    return created.json()["key"]
