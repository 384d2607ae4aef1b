"""Event tail under a burst: batched drawing (the dashboard's way) against one write per event.

Feeds the Events screen of a headless dashboard 1,000 events per second for a few seconds and
measures how late a 10 ms ticker on the same event loop runs (what a keypress would wait) and
how long the screen takes to settle after the burst. Run::

    .venv/bin/python -m ops.bench.tui_events
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

from textual.widgets import Log

from lumina_tui.app import LuminaApp
from lumina_tui.client import LuminaClient
from lumina_tui.connection import Backoff
from lumina_tui.views.events import EventsView, parse_event

RATE_PER_S = 1000
SECONDS = 3
TICKS_PER_S = 10
UNREACHABLE = "http://127.0.0.1:9"  # no server: the burst is fed in directly


def burst(tick: int) -> list[str]:
    count = RATE_PER_S // TICKS_PER_S
    return [
        json.dumps({"type": "graph.node_added", "source": "crawler", "ts": "2026-01-01T00:00:00.000Z",
                    "payload": {"tick": tick, "n": n, "title": "Mandelbrot set"}})
        for n in range(count)
    ]


async def measure(batched: bool) -> dict[str, float]:
    app = LuminaApp(LuminaClient(UNREACHABLE), backoff=Backoff(initial=60))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await pilot.pause(0.2)
        view, log = app.query_one(EventsView), app.query_one("#events-log", Log)
        lags: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                started = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append((time.perf_counter() - started - 0.01) * 1000)

        ticking = asyncio.create_task(ticker())
        for tick in range(SECONDS * TICKS_PER_S):
            events = [parse_event("", data) for data in burst(tick)]
            if batched:
                view.receive(events)
            else:
                for event in events:
                    log.write_line(event.line())
            await asyncio.sleep(1 / TICKS_PER_S)
        settle_started = time.perf_counter()
        await pilot.pause()
        settle_ms = (time.perf_counter() - settle_started) * 1000
        done.set()
        await ticking
    return {
        "lag_p50_ms": statistics.median(lags),
        "lag_p99_ms": statistics.quantiles(lags, n=100)[98],
        "lag_max_ms": max(lags),
        "settle_ms": settle_ms,
    }


def main() -> None:
    naive = asyncio.run(measure(batched=False))
    batched = asyncio.run(measure(batched=True))
    print(f"{RATE_PER_S} events/s for {SECONDS} s into the Events screen (80x24, headless)")
    print(f"{'':14}{'per event':>12}{'batched':>12}{'ratio':>10}")
    for key in naive:
        ratio = naive[key] / batched[key] if batched[key] else float("inf")
        print(f"{key:14}{naive[key]:>12.1f}{batched[key]:>12.1f}{ratio:>9.1f}x")


if __name__ == "__main__":
    main()
