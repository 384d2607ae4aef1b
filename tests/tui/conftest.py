"""A real ``lumina serve`` for the dashboard to watch, the dashboard, and waiting for what appears.

The server runs as a subprocess on a free port with the fixture plugins ``hello`` (started),
``dependent`` (started) and ``setup-error`` (failed); it can be stopped and started again on
the same port, as an operator restarting it would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from textual.pilot import Pilot

from lumina_core.testing import free_port, wait_for_http
from lumina_tui.app import LuminaApp
from lumina_tui.client import LuminaClient

LUMINA = str(Path(sys.executable).with_name("lumina"))
FIXTURES = Path(__file__).parent.parent / "fixtures" / "plugins"
TUI_FIXTURES = Path(__file__).parent / "fixtures" / "plugins"


@dataclass
class LiveServer:
    """``lumina serve`` in a subprocess; ``stop()`` and ``start()`` keep the port and data."""

    data_dir: Path
    plugins_dir: Path
    plugins: str
    settings: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")}
        env.update(
            LUMINA_DATA_DIR=str(self.data_dir),
            LUMINA_PLUGINS_DIR=str(self.plugins_dir),
            LUMINA_LOAD_PLUGINS=self.plugins,
            LUMINA_PORT=str(self.port),
            LUMINA_HOST="127.0.0.1",
            LUMINA_LOG_LEVEL="WARNING",
        )
        env.update(self.settings)
        self.process = subprocess.Popen(
            [LUMINA, "serve"], env=env, cwd=self.data_dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        process = self.process
        wait_for_http(f"{self.url}/health", alive=lambda: process.poll() is None)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()
        self.process = None



def _serve(tmp_path: Path, plugins_dir: Path, plugins: str, **settings: str) -> Iterator[LiveServer]:
    data = tmp_path / "data"
    data.mkdir()
    server = LiveServer(data_dir=data, plugins_dir=plugins_dir, plugins=plugins, settings=settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server with plugins in several states: hello and dependent started, setup-error failed."""
    yield from _serve(tmp_path, FIXTURES, "hello,dependent,setup-error")


@pytest.fixture
def panels_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server with the ``dashboard`` fixture plugin, which declares one panel of each kind."""
    yield from _serve(tmp_path, TUI_FIXTURES, "dashboard")


@pytest.fixture
def memory_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server with the memory plugin (threads, recall) and nothing else."""
    yield from _serve(tmp_path, FIXTURES, "memory")


@pytest.fixture
def auth_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server that refuses anonymous requests (``LUMINA_REQUIRE_AUTH``), with ``hello`` started."""
    yield from _serve(tmp_path, FIXTURES, "hello", LUMINA_REQUIRE_AUTH="true")


@pytest.fixture
def dashboard() -> Callable[[str], LuminaApp]:
    """``dashboard(url)``: the app, watching the server at ``url``."""
    return lambda url: LuminaApp(LuminaClient(url))


async def _wait_until(pilot: Pilot, condition: Callable[[], bool], *, timeout: float = 10.0, what: str = "") -> float:
    """Let the app run until ``condition()`` holds; return the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout:g} s: {what or condition}")
        await pilot.pause(0.05)
    return time.monotonic() - started


@pytest.fixture
def wait_until() -> Callable[..., object]:
    """``await wait_until(pilot, condition, timeout=…, what=…)``."""
    return _wait_until
