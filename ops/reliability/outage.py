"""Redis stopped and started while Lumina serves: ``/health`` turns degraded, then ok again by
itself, and no event the bus acknowledged is lost (each reaches its durable subscriber).

The scenario runs its own ``redis-server`` on a free port: the shared one on 6379 is never touched.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from lumina_core.testing import LuminaProcess, free_port
from ops.reliability import PROBE_PLUGINS, probe_journal


class RedisServer:
    """A private ``redis-server`` on 127.0.0.1 that keeps nothing on disk; stop and start it at will."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout.strip() != b"PONG":
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


async def _health(client: httpx.AsyncClient) -> str:
    return (await client.get("/health")).json()["status"]


async def _until_health(client: httpx.AsyncClient, wanted: str, timeout: float) -> float:
    """Seconds until ``/health`` says ``wanted``."""
    started = time.monotonic()
    while (status := await _health(client)) != wanted:
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"/health stayed {status!r}, not {wanted!r}, for {timeout:g} s")
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def _publish(client: httpx.AsyncClient, n: int, acknowledged: dict[int, str], refused: list[int]) -> None:
    response = await client.post("/rel-probe/events", params={"n": n})
    if response.status_code == 200:
        acknowledged[n] = response.json()["id"]
    else:
        refused.append(n)


async def redis_outage(events_per_phase: int = 20, outage_s: float = 3.0) -> dict[str, Any]:
    """Publish before, during and after an outage; figures for health and for every event."""
    folder = Path(tempfile.mkdtemp(prefix="lumina-outage-"))
    redis = RedisServer(folder)
    redis.start()
    server = LuminaProcess.serve(folder / "data", folder / "serve.log", redis_url=redis.url, plugins_dir=PROBE_PLUGINS,
                                 load_plugins="rel-probe", rate_limit="", events_claim_idle=1)
    acknowledged: dict[int, str] = {}
    refused: list[int] = []
    counter = iter(range(10**6))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            before = await _health(client)
            for _ in range(events_per_phase):
                await _publish(client, next(counter), acknowledged, refused)
            redis.stop()
            degraded_after_s = await _until_health(client, "degraded", 30)
            outage_ends = time.monotonic() + outage_s
            while time.monotonic() < outage_ends:
                await _publish(client, next(counter), acknowledged, refused)
                served = (await client.get("/health/live")).status_code
                await asyncio.sleep(0.1)
            redis.start()  # same port, empty: as after a restart that lost its data
            recovered_after_s = await _until_health(client, "ok", 60)
            for _ in range(events_per_phase):
                await _publish(client, next(counter), acknowledged, refused)
            received = await _until_received(folder / "data", set(acknowledged.values()), timeout=30)
    finally:
        server.stop()
        redis.stop()
    lost = set(acknowledged.values()) - received
    return {
        "health_before": before,
        "degraded_after_s": round(degraded_after_s, 2),
        "served_during_outage": served,
        "ok_again_after_restart_s": round(recovered_after_s, 2),
        "events_acknowledged": len(acknowledged),
        "events_refused_during_outage": len(refused),
        "acknowledged_events_lost": len(lost),
    }


async def _until_received(data: Path, wanted: set[str], timeout: float) -> set[str]:
    deadline = time.monotonic() + timeout
    while True:
        received = {r["event"] for r in probe_journal(data, "received.jsonl")}
        if wanted <= received or time.monotonic() > deadline:
            return received
        await asyncio.sleep(0.2)
