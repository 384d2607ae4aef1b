"""Load: chat, memory search and knowledge search under concurrent wrk clients for a bounded time,
beside the same load on a bare FastAPI app (``ops/bench/bare_app.py``), on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from lumina_core.testing import LuminaProcess, free_port, wait_for_http
from ops.reliability import REPO

_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "errors": %d, "p50_ms": %.2f, "p95_ms": %.2f, "seconds": %.2f}\\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.duration / 1e6))
end
"""
ARTICLES = [
    {"title": "Aardvark", "wikitext": "'''Aardvark''' is a burrowing mammal of Africa that eats ants and termites."},
    {"title": "Mandelbrot set", "wikitext": "The '''Mandelbrot set''' is a fractal defined by iterating z² + c."},
    {"title": "Ada Lovelace", "wikitext": "'''Ada Lovelace''' wrote the first published algorithm for Babbage's engine."},
]


def wrk(url: str, *, seconds: float, connections: int, body: Any = None, timeout_s: int = 30) -> dict[str, Any]:
    """One wrk run; its requests, errors (non-2xx and socket errors) and p50/p95 in ms."""
    if shutil.which("wrk") is None:
        raise RuntimeError("the load scenario needs wrk: apt-get install -y wrk")
    script = _REPORT
    if body is not None:  # "{n}" in the body becomes the request's number: no two texts alike, no cache hit
        template = json.dumps(body).replace("%", "%%").replace("{n}", "%d")
        script = (f"wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\nlocal n = 0\n"
                  f"request = function() n = n + 1; return wrk.format(nil, nil, nil, string.format({json.dumps(template)}, n)) end\n"
                  ) + script
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={timeout_s}s", "-s", file.name, url]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout_s + 30)
    Path(file.name).unlink()
    return json.loads(ran.stdout.strip().splitlines()[-1])


def start_bare_app(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (folder / "bare.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "ops.bench.bare_app:app", "--port", str(port),
                                "--log-level", "warning", "--no-access-log"], cwd=REPO, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/hello/greet", timeout=30, alive=lambda: process.poll() is None)
    return process, url


async def _seed(url: str) -> tuple[str, list[float]]:
    """Memories and articles to search; the chat model's id and the seconds of three chat replies
    in a row, after one that loads the model."""
    async with httpx.AsyncClient(base_url=url, timeout=300) as client:
        for text in ("Passport expires in May", "The cat is called Tom", "We fly to Lisbon on Monday"):
            (await client.post("/memory/memories", json={"text": text})).raise_for_status()
        (await client.post("/crawler/pages", json={"pages": ARTICLES})).raise_for_status()
        model = (await client.get("/v1/models")).json()["data"][0]["id"]
        replies = []
        for _ in range(4):
            started = time.perf_counter()
            (await client.post("/v1/chat/completions", json=chat_body(model))).raise_for_status()
            replies.append(round(time.perf_counter() - started, 2))
    return model, replies[1:]


def chat_body(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Name one mammal ({n})."}], "max_tokens": 8}


def run_load(seconds: float = 10.0, connections: int = 8) -> dict[str, Any]:
    """Figures per scenario, each with its p50 as a multiple of the bare app's."""
    folder = Path(tempfile.mkdtemp(prefix="lumina-load-"))
    bare, bare_url = start_bare_app(folder)
    server = LuminaProcess.serve(folder / "data", folder / "serve.log", load_plugins="memory,knowledge,crawler",
                                 rate_limit="")
    try:
        model, chat_replies_s = asyncio.run(_seed(server.url))
        figures = {
            "bare FastAPI GET /hello/greet": wrk(f"{bare_url}/hello/greet", seconds=seconds, connections=connections),
            "GET /health/live": wrk(f"{server.url}/health/live", seconds=seconds, connections=connections),
            "POST /memory/search": wrk(f"{server.url}/memory/search", seconds=seconds, connections=connections,
                                       body={"query": "when does my passport expire {n}", "limit": 5}),
            "POST /knowledge/search": wrk(f"{server.url}/knowledge/search", seconds=seconds, connections=connections,
                                          body={"query": "a mammal that eats termites {n}"}),
            "POST /v1/chat/completions (8 tokens)": wrk(f"{server.url}/v1/chat/completions", seconds=max(seconds, 30),
                                                       connections=2, body=chat_body(model), timeout_s=120),
        }
    finally:
        server.stop()
        bare.terminate()
        bare.wait(10)
    baseline = figures["bare FastAPI GET /hello/greet"]["p50_ms"] or 1e-9
    for row in figures.values():
        row["p50_vs_bare"] = round(row["p50_ms"] / baseline, 1) if row["requests"] else None
        row["rps"] = round(row["requests"] / row["seconds"], 1)
    return {**figures, "chat replies one at a time (s)": chat_replies_s}
