"""Fault injection: one host with a plugin failing at import, one in setup, one in a shared hook,
one in a route and one hanging at start; every other route must keep answering under load."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import httpx

from lumina_core.testing import LuminaProcess
from ops.reliability import FIXTURE_PLUGINS
from ops.reliability.traffic import Call, hammer

#: plugin → how it fails (the fixtures under tests/fixtures/plugins).
BROKEN = {
    "import-error": "raises while imported",
    "setup-error": "raises in startup",
    "bad-hook": "raises in the chat_context hook",
    "hangs": "never finishes startup",
}
HEALTHY_CALLS = (
    Call("GET", "/hello/greet?name=load"),
    Call("GET", "/health/live"),
    Call("GET", "/plugins"),
    Call("GET", "/metrics"),
)
FAULTY_CALLS = (Call("GET", "/hello/boom"), Call("GET", "/setup-error/x"), Call("GET", "/hangs/x"))


def start_faulty_host(folder: Path) -> LuminaProcess:
    return LuminaProcess.serve(
        folder / "data", folder / "serve.log", plugins_dir=FIXTURE_PLUGINS,
        load_plugins=",".join(["hello", *BROKEN]), startup_timeout=1.5, rate_limit="",
    )


async def run_faults(seconds: float = 10.0, concurrency: int = 8) -> dict[str, Any]:
    """Figures: each broken plugin's state, the healthy routes' answers under load (with the
    faulty routes hit in between), and how the faulty routes answered."""
    folder = Path(tempfile.mkdtemp(prefix="lumina-faults-"))
    server = start_faulty_host(folder)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            states = {name: (await client.get(f"/plugins/{name}")).json() for name in [*BROKEN, "hello"]}
            healthy, faulty = await asyncio.gather(
                hammer(server.url, HEALTHY_CALLS, concurrency=concurrency, seconds=seconds),
                hammer(server.url, FAULTY_CALLS, concurrency=2, seconds=seconds),
            )
            model = (await client.get("/v1/models")).json()["data"][0]["id"]
            chat = await client.post("/v1/chat/completions", timeout=180, json={
                "model": model, "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 2})
            boom = (await client.get("/hello/boom")).json()
    finally:
        server.stop()
    return {
        "plugins": {name: {"state": s.get("state"), "fault": BROKEN.get(name, "none")} for name, s in states.items()},
        "healthy_routes": healthy.figures(),
        "faulty_routes": {path: dict(counts) for path, counts in faulty.by_path.items()},
        "chat_with_a_failing_context_hook": chat.status_code,
        "route_fault_answer": boom.get("error", {}).get("type"),
    }
