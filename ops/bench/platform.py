"""Platform benchmark: event delivery to SSE, bus throughput, rate-limit decisions and overhead.

    python -m ops.bench.platform [--events 20000] [--redis redis://127.0.0.1:6379/0]

Each figure is reported next to a baseline measured in the same run:
- publish → SSE client p95 (memory and Redis backends), against the p95 of a plain HTTP round
  trip to the same server;
- bus throughput on Redis Streams from one process, against raw pipelined ``XADD``s;
- rate-limit decisions per second against Redis, against raw ``INCR``s at the same concurrency;
- median latency a request gains from the rate-limit middleware (Redis), limits on vs off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
import uvicorn

from lumina_core.api.app import create_app
from lumina_core.services.bus import build_bus
from lumina_core.services.limits import build_limiter
from lumina_core.testing import free_port, host_settings

CONCURRENCY = 64


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def sse_latency(redis_url: str | None, prefix: str, samples: int = 300) -> tuple[float, float]:
    """(p95 ms publish → SSE client, p95 ms HTTP round trip) on a real uvicorn server."""
    settings = host_settings(Path(tempfile.mkdtemp()), [], redis_url=redis_url, redis_prefix=prefix, rate_limit="")
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    bus = app.state.kernel.services.get("events")
    url = f"http://127.0.0.1:{port}"
    latencies, round_trips = [], []
    async with httpx.AsyncClient(timeout=10) as client:
        async with client.stream("GET", f"{url}/events", params={"type": "bench.*"}) as response:
            lines = response.aiter_lines()
            assert await anext(lines) == ": listening"
            for _ in range(samples):
                await bus.publish("bench.pinged", {"t0": time.perf_counter()}, source="bench")
                async for line in lines:
                    if line.startswith("data: "):
                        latencies.append((time.perf_counter() - json.loads(line[6:])["payload"]["t0"]) * 1000)
                        break
        for _ in range(samples):
            started = time.perf_counter()
            await client.get(f"{url}/health/live")
            round_trips.append((time.perf_counter() - started) * 1000)
    server.should_exit = True
    await serving
    return p95(latencies), p95(round_trips)


async def rate(count: int, action: Callable[[int], Awaitable[Any]]) -> float:
    """Operations per second of ``action`` run ``count`` times, ``CONCURRENCY`` at once."""
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> None:
        async with semaphore:
            await action(n)

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return count / (time.perf_counter() - started)


async def bus_throughput(redis_url: str, prefix: str, count: int) -> tuple[float, float]:
    """(events/s through the bus on Redis Streams, raw pipelined XADD/s)."""
    bus = build_bus(host_settings(Path(tempfile.mkdtemp()), [], redis_url=redis_url, redis_prefix=prefix))
    await bus.start()
    started = time.perf_counter()
    for start in range(0, count, 1000):
        await asyncio.gather(*(bus.publish("bench.counted", {"n": n}, source="bench") for n in range(start, start + 1000)))
    through_bus = count / (time.perf_counter() - started)
    await bus.close()
    raw = aioredis.Redis.from_url(redis_url)
    started = time.perf_counter()
    for start in range(0, count, 500):
        pipe = raw.pipeline(transaction=False)
        for n in range(start, start + 500):
            pipe.xadd(f"{prefix}:raw", {"event": json.dumps({"n": n})}, maxlen=100_000, approximate=True)
        await pipe.execute()
    baseline = count / (time.perf_counter() - started)
    await raw.aclose()
    return through_bus, baseline


async def limit_decisions(redis_url: str, prefix: str, count: int) -> tuple[float, float]:
    """(rate-limit decisions/s on Redis, raw INCR/s), both at the same concurrency."""
    limiter = build_limiter(redis_url, prefix)
    decisions = await rate(count, lambda n: limiter.hit("1000000/minute", "bench", str(n % 100)))
    raw = aioredis.Redis.from_url(redis_url)
    baseline = await rate(count, lambda n: raw.incr(f"{prefix}:raw:{n % 100}"))
    await raw.aclose()
    return decisions, baseline


async def added_latency(redis_url: str, prefix: str, requests: int = 2000) -> tuple[float, float]:
    """(median ms per request with Redis rate limits, median ms with limits off), in-process."""
    medians = []
    for limit in ("1000000/minute", ""):
        settings = host_settings(Path(tempfile.mkdtemp()), [], redis_url=redis_url, redis_prefix=prefix, rate_limit=limit)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                timings = []
                for _ in range(requests):
                    started = time.perf_counter()
                    await client.get("/plugins")
                    timings.append((time.perf_counter() - started) * 1000)
        medians.append(statistics.median(timings))
    return medians[0], medians[1]


async def main(events: int, redis_url: str) -> None:
    prefix = f"lumina-bench-{uuid.uuid4().hex[:8]}"
    try:
        for name, url in (("memory", None), ("redis", redis_url)):
            sse, http = await sse_latency(url, f"{prefix}-{name}")
            print(f"publish → SSE p95 ({name:6}): {sse:6.2f} ms   HTTP round trip p95: {http:6.2f} ms   ratio {sse / http:.2f}")
        bus, raw = await bus_throughput(redis_url, prefix, events)
        print(f"bus throughput on Redis Streams: {bus:9,.0f} events/s   raw XADD pipeline: {raw:9,.0f}/s   ratio {bus / raw:.2f}")
        decisions, incr = await limit_decisions(redis_url, prefix, events)
        print(f"rate-limit decisions (Redis):    {decisions:9,.0f} /s        raw INCR:          {incr:9,.0f}/s   ratio {decisions / incr:.2f}")
        limited, unlimited = await added_latency(redis_url, prefix)
        print(f"request median with limits: {limited:.3f} ms   without: {unlimited:.3f} ms   added: {limited - unlimited:.3f} ms")
    finally:
        client = aioredis.Redis.from_url(redis_url)
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="Events (and decisions) per throughput run.")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis to measure against.")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.redis))
