"""A bounded HTTP load from one process: concurrent clients for a fixed time, every answer counted."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any = None


@dataclass
class Tally:
    """Every answer of a load: latencies, statuses, and failures that got no answer at all."""

    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    by_path: dict[str, Counter[int]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(self.statuses.values()) + sum(self.failures.values())

    @property
    def errors(self) -> int:
        """Server errors and requests that got no answer."""
        return sum(n for status, n in self.statuses.items() if status >= 500) + sum(self.failures.values())

    def figures(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        quantiles = statistics.quantiles(ordered, n=20) if len(ordered) > 1 else ordered * 19 or [0.0] * 19
        return {
            "requests": self.count,
            "errors": self.errors,
            "ok_ratio": round(1 - self.errors / self.count, 6) if self.count else None,
            "p50_ms": round(statistics.median(ordered), 2) if ordered else None,
            "p95_ms": round(quantiles[-1], 2),
            "rps": round(self.count / self.seconds, 1) if self.seconds else None,
            "statuses": dict(sorted(self.statuses.items())),
        }


async def hammer(
    base_url: str, calls: Sequence[Call], *, concurrency: int = 8, seconds: float = 5.0, timeout: float = 10.0,
    headers: dict[str, str] | None = None,
) -> Tally:
    """``concurrency`` clients send ``calls`` round-robin for ``seconds`` (bounded: it stops by itself)."""
    tally = Tally()
    order = itertools.cycle(calls)
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            call = next(order)
            started = time.perf_counter()
            try:
                response = await client.request(call.method, call.path, json=call.json)
            except httpx.HTTPError as exc:
                tally.failures[type(exc).__name__] += 1
                continue
            tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            tally.statuses[response.status_code] += 1
            tally.by_path.setdefault(call.path, Counter())[response.status_code] += 1

    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits, headers=headers) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    tally.seconds = time.monotonic() - started
    return tally
