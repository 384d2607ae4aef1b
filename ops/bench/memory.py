"""Memory recall at scale: one user's filtered recall among N stored memories, through the API.

Fills the memory plugin's collection with N turns (random unit vectors, 384 wide, spread over
``--users`` users and 90 days) straight through the vectors service, optionally builds the
index (``--optimize``), then starts a host with the memory plugin on that data folder and times:

* recall through the API: ``POST /memory/search`` for one user, one brain, the last 14 days
  (the query's embedding comes from the cache after its first use, as in a conversation);
* the same filtered search on the store directly (no HTTP, no embedding);
* a baseline: ``GET /memory/latency``, an endpoint that does no work, through the same client;
* the reply path: what ``after_chat_turn`` costs the caller (scheduling) with and without the
  memory plugin, and how long the background store of one turn takes.

    .venv/bin/python -m ops.bench.memory                 # short run: 20,000 memories
    .venv/bin/python -m ops.bench.memory --n 100000 --optimize
    .venv/bin/python -m ops.bench.memory --qdrant-url http://qdrant:6333   # the server figure
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

from lumina_core.contract import ChatRequest, ChatTurn, Message, Usage
from lumina_core.services.vectors import (
    CollectionSpec,
    Filter,
    Match,
    Point,
    Range,
    VectorSpec,
    open_vector_store,
)
from lumina_core.testing import Host, host_settings, running_host

DIMENSIONS, DAY = 384, 86_400.0
BRAINS = ("default", "work")
QUERIES = ["what did we say about the trip?", "my favourite food", "the project deadline", "my cat's name"]


async def fill(settings: Any, n: int, users: int, optimize: bool) -> dict[str, float]:
    """Write ``n`` turns in the memory plugin's shape; return the seconds spent."""
    from lumina_memory.memories import COLLECTION, INDEXES

    store = open_vector_store(settings)
    rng = np.random.default_rng(7)
    now = time.time()
    figures: dict[str, float] = {}
    try:
        await store.create_collection(CollectionSpec(COLLECTION, {"text": VectorSpec(DIMENSIONS)}, indexes=INDEXES))
        started = time.perf_counter()
        for start in range(0, n, 2000):
            size = min(2000, n - start)
            vectors = rng.normal(size=(size, DIMENSIONS)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            points = [
                Point(str(uuid.UUID(int=start + i + 1)), {"text": vectors[i].tolist()}, {
                    "kind": "turn", "user_id": _owner(start + i, users), "brain_id": BRAINS[(start + i) % 2],
                    "ts": now - float(rng.uniform(0, 90)) * DAY, "user_text": "q", "assistant_text": "a", "text": "q\na",
                })
                for i in range(size)
            ]
            await store.upsert(COLLECTION, points)
        figures["upsert_s"] = time.perf_counter() - started
        if optimize:
            started = time.perf_counter()
            await store.optimize(COLLECTION)
            figures["optimize_s"] = time.perf_counter() - started
    finally:
        await store.close()
    return figures


def _owner(index: int, users: int) -> str:
    """One user in ``users`` is the API's anonymous local user, whose recall is timed."""
    return "local" if index % users == 0 else f"user-{index % users}"


async def timed(call: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    await call()  # warm up: loads, caches the query's embedding
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": statistics.median(ordered), "p95_ms": ordered[int(0.95 * (len(ordered) - 1))]}


async def measure_recall(host: Host, rounds: int) -> dict[str, dict[str, float]]:
    from lumina_memory.memories import COLLECTION

    embedder = host.kernel.services.get("embedder")
    vectors = host.kernel.services.get("vectors")
    since = time.time() - 14 * DAY
    query_vectors = await embedder.embed(QUERIES)
    turn = iter(range(10**9))

    async def through_api() -> None:
        body = {"query": QUERIES[next(turn) % len(QUERIES)], "brain_id": "default", "kind": "turn", "limit": 3,
                "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since))}
        response = await host.client.post("/memory/search", json=body)
        response.raise_for_status()

    async def on_the_store() -> None:
        wanted = Filter(must=(Match("user_id", "local"), Match("brain_id", "default"), Match("kind", "turn"), Range("ts", gte=since)))
        await vectors.search(COLLECTION, query_vectors[next(turn) % len(QUERIES)], limit=3, filter=wanted)

    async def baseline() -> None:
        (await host.client.get("/memory/latency")).raise_for_status()

    return {
        "recall_api": summary(await timed(through_api, rounds)),
        "search_store": summary(await timed(on_the_store, rounds)),
        "baseline_api": summary(await timed(baseline, rounds)),
    }


async def measure_reply_path(host: Host, rounds: int) -> dict[str, float]:
    """What the reply path pays to hand a turn over, and how long the background store takes."""
    kernel = host.kernel
    request = ChatRequest(messages=(Message("user", "I like green tea."),), user_id="local")
    schedule, store = [], []
    for n in range(rounds):
        turn = ChatTurn(request=request, reply="Noted.", model="bench", usage=Usage(), latency_ms=1.0, turn_id=f"bench-{n}")
        started = time.perf_counter()
        kernel.call_each_later("after_chat_turn", turn=turn)
        schedule.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await kernel.call_each("after_chat_turn", turn=turn)
        store.append((time.perf_counter() - started) * 1000)
    return {"schedule_p95_ms": summary(schedule)["p95_ms"], "store_p95_ms": summary(store)["p95_ms"]}


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        overrides = {"qdrant_url": args.qdrant_url} if args.qdrant_url else {}
        settings = host_settings(Path(folder), ["memory"], **overrides)
        filled = await fill(settings, args.n, args.users, args.optimize)
        async with running_host(settings) as host:
            recall = await measure_recall(host, args.rounds)
            reply = await measure_reply_path(host, 50)
        async with running_host(host_settings(Path(folder) / "bare", [], **overrides)) as bare:
            bare_reply = await measure_reply_path(bare, 50)
    backend = "qdrant server" if args.qdrant_url else "qdrant-edge (embedded)"
    print(f"memory recall, {args.n:,} memories over {args.users} users, {backend}, {args.rounds} rounds")
    print(f"  fill: upsert {filled['upsert_s']:.1f} s" + (f", index build {filled['optimize_s']:.1f} s" if "optimize_s" in filled else " (no index build)"))
    base = recall["baseline_api"]["p95_ms"]
    for name, figures in recall.items():
        print(f"  {name:13} p50 {figures['p50_ms']:7.2f} ms   p95 {figures['p95_ms']:7.2f} ms   ({figures['p95_ms'] / base:5.1f}x baseline p95)")
    print(f"  reply path: handing a turn over p95 {reply['schedule_p95_ms']:.3f} ms with memory, "
          f"{bare_reply['schedule_p95_ms']:.3f} ms without; background store p95 {reply['store_p95_ms']:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="memories stored (the issue's figure: 100000)")
    parser.add_argument("--users", type=int, default=100, help="users they are spread over")
    parser.add_argument("--rounds", type=int, default=200, help="timed requests per measurement")
    parser.add_argument("--optimize", action="store_true", help="build the search index after filling")
    parser.add_argument("--qdrant-url", help="measure a Qdrant server instead of the embedded store")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
