"""Test kit for the platform services: every test runs on both backends, against real parts.

``backend`` is a parametrised fixture: once in-process, once on the real Redis (a private key
prefix per test, deleted afterwards). Import it into a test module to use it::

    from lumina_core.services.testing import backend  # noqa: F401

``LuminaProcess`` runs a real ``lumina serve`` or ``lumina worker`` on a free port for tests
that need several processes, SSE over a socket, or signals.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from lumina_core.testing import free_port

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

    url: str = ""

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"lumina exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"lumina did not answer within {timeout} s:\n{self.output()}")

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
