"""``/health`` names every dependency with status and latency; Redis going away degrades the
host (it keeps serving) and it recovers by itself when Redis returns."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from lumina_core.testing import LuminaProcess, free_port

FIXTURES = Path(__file__).parents[1] / "fixtures" / "plugins"


async def test_health_reports_each_dependency_with_status_and_latency(lumina_host, backend):
    async with lumina_host(plugins=[], **backend) as host:
        body = (await host.client.get("/health")).json()
        checks = {c["name"]: c for c in body["checks"]}
        bus = "redis" if backend["redis_url"] else "events"
        assert body["status"] == "ok"
        assert checks[bus]["status"] == "ok" and checks[bus]["latency_ms"] >= 0
        assert checks["scheduler"]["status"] == "ok"
        assert (await host.client.get("/health/live")).json() == {"status": "ok"}
        ready = await host.client.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["started"] is True


class OwnRedis:
    """A private redis-server on a free port, so stopping it disturbs nobody else."""

    def __init__(self, folder: Path) -> None:
        self.port, self.folder = free_port(), folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True).stdout.strip() != "PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def wait_for_status(url: str, status: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = httpx.get(f"{url}/health", timeout=10).json()
        if body["status"] == status or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_redis_going_away_degrades_the_host_which_recovers_when_it_returns(own_redis, tmp_path):
    plugins = tmp_path / "plugins"
    shutil.copytree(FIXTURES / "fx_platform", plugins / "fx_platform")  # only healthy plugins here
    server = LuminaProcess.serve(tmp_path / "data", tmp_path / "server.log", redis_url=own_redis.url, plugins_dir=plugins, load_plugins="probe")
    try:
        body = wait_for_status(server.url, "ok")
        assert body["status"] == "ok", (body, server.output()[-2000:])
        own_redis.stop()
        body = wait_for_status(server.url, "degraded")
        checks = {c["name"]: c for c in body["checks"]}
        assert body["status"] == "degraded", body
        assert checks["redis"]["status"] == "degraded" and "cannot reach" in checks["redis"]["detail"]
        assert httpx.get(f"{server.url}/health/ready", timeout=10).status_code == 200
        assert httpx.get(f"{server.url}/plugins", timeout=10).status_code == 200  # still serving
        refused = httpx.post(f"{server.url}/tasks", json={"echo": "lost?"}, timeout=30)
        assert refused.status_code == 503, (refused.text, server.output()[-3000:])
        assert refused.json()["error"]["type"] == "unavailable" and refused.headers["retry-after"] == "2"

        own_redis.start()
        body = wait_for_status(server.url, "ok")
        assert body["status"] == "ok", (body, server.output()[-2000:])
        task = httpx.post(f"{server.url}/tasks", json={"echo": "back"}, timeout=10)
        assert task.status_code == 202, (task.text, server.output()[-4000:])
        deadline = time.monotonic() + 20
        while (record := httpx.get(f"{server.url}{task.headers['location']}", timeout=10).json()).get("state") != "succeeded":
            assert time.monotonic() < deadline, (record, server.output()[-3000:])
            time.sleep(0.1)
        assert record["result"] == "back"
    finally:
        server.stop()
