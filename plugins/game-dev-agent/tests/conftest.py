"""A real host with the knowledge and game-dev-agent plugins, and copies of the sample projects.

The samples (``data/SkyHopper``, a Unity platformer; ``data/ShooterDemo``, an Unreal shooter)
are copied into each test's own folder, so a test may edit, add or delete files freely.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from lumina_core.testing import Host, HostFactory, sign_up

DATA = Path(__file__).parent / "data"
PLUGINS = ["knowledge", "game-dev-agent"]
GamedevHost = Callable[..., AbstractAsyncContextManager[Host]]


@pytest.fixture
def gamedev_host(lumina_host: HostFactory) -> GamedevHost:
    """``async with gamedev_host() as host``: knowledge and game-dev-agent started."""

    @asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[Host]:
        async with lumina_host(plugins=PLUGINS, **settings) as host:
            assert host.state("game-dev-agent") == "started", host.kernel.get("game-dev-agent").error
            yield host

    return start


@pytest.fixture
def unity_project(tmp_path: Path) -> Path:
    return shutil.copytree(DATA / "SkyHopper", tmp_path / "SkyHopper")


@pytest.fixture
def unreal_project(tmp_path: Path) -> Path:
    return shutil.copytree(DATA / "ShooterDemo", tmp_path / "ShooterDemo")


@pytest.fixture(scope="session")
def questions() -> dict[str, list[dict[str, Any]]]:
    """The sample projects' own questions, each with the lines that answer it."""
    return json.loads((DATA / "questions.json").read_text())


async def register(host: Host, path: Path, **extra: Any) -> dict[str, Any]:
    """Register a project and wait until it is indexed; return the project."""
    response = await host.client.post("/gamedev/projects", params={"wait": "true"}, json={"path": str(path), **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def dense_complete(host: Host, project_id: str, timeout: float = 180.0) -> None:
    """Wait until every passage of the project has its dense vector (searches are then stable)."""
    deadline = time.monotonic() + timeout
    while (await host.client.get(f"/gamedev/projects/{project_id}")).json()["pending_dense"]:
        assert time.monotonic() < deadline, "dense vectors still pending"
        await asyncio.sleep(0.2)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Poll ``check`` until it holds (the watcher works in the background)."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.2)


def file_line(root: Path, relative: str, line: int) -> str:
    return (root / relative).read_text().splitlines()[line - 1]


class Kit:
    """The helpers above, handed to tests as a fixture (test folders are not importable)."""

    register = staticmethod(register)
    sign_up = staticmethod(sign_up)
    dense_complete = staticmethod(dense_complete)
    eventually = staticmethod(eventually)
    file_line = staticmethod(file_line)


@pytest.fixture
def kit() -> Kit:
    return Kit()
