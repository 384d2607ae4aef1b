"""Gateway overhead: a streamed completion through Lumina versus straight to the backing server.

Starts ``python -m llama_cpp.server`` (SmolLM2, the embedded model's file) and a Lumina whose
only provider is that server (``LUMINA_LLM_PROVIDERS=openai``), then sends the same streamed
request to both, alternating, and compares time to first token and total time. Also measures
an embedding-cache hit and the embedded embedder's throughput.

    .venv/bin/python -m ops.bench.gateway [--rounds 10] [--max-tokens 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from lumina_core.services.model_files import SMOLLM2_135M

PEER_MODEL = "smollm2-peer"
PROMPT = [{"role": "user", "content": "Name three colours."}]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _serving(command: list[str], url: str, env: dict[str, str] | None = None) -> Iterator[str]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/v1/models", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{' '.join(command[:4])} did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _llama_server() -> tuple[list[str], str]:
    port = _free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(SMOLLM2_135M.locate()),
        "--model_alias", PEER_MODEL, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_ubatch", "1", "--n_threads", "2", "--verbose", "false",
    ]
    return command, f"http://127.0.0.1:{port}"


def _lumina(peer: str, data_dir: str) -> tuple[list[str], str, dict[str, str]]:
    port = _free_port()
    env = {
        **os.environ, "LUMINA_DATA_DIR": data_dir, "LUMINA_LOAD_PLUGINS": "", "LUMINA_LLM_PROVIDERS": "openai",
        "OPENAI_BASE_URL": f"{peer}/v1", "OPENAI_MODEL": PEER_MODEL, "LUMINA_RATE_LIMIT": "",
    }
    command = [
        sys.executable, "-m", "uvicorn", "lumina_core.api.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]
    return command, f"http://127.0.0.1:{port}", env


def _timed_stream(client: httpx.Client, url: str, max_tokens: int) -> tuple[float, float]:
    body = {"model": PEER_MODEL, "messages": PROMPT, "max_tokens": max_tokens, "temperature": 0, "stream": True}
    started = time.perf_counter()
    first = None
    with client.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if first is None and line.startswith("data: {") and _has_text(json.loads(line[6:])):
                first = time.perf_counter() - started
    return first or float("nan"), time.perf_counter() - started


def _has_text(chunk: dict) -> bool:
    return any(choice["delta"].get("content") for choice in chunk.get("choices", []))


def bench_gateway(rounds: int, max_tokens: int) -> dict[str, float]:
    peer_command, peer_url = _llama_server()
    with tempfile.TemporaryDirectory() as data_dir, _serving(peer_command, peer_url) as peer:
        lumina_command, lumina_url, env = _lumina(peer, data_dir)
        with _serving(lumina_command, lumina_url, env) as lumina, httpx.Client(timeout=120) as client:
            for url in (peer, lumina):  # warm both paths once
                _timed_stream(client, url, max_tokens)
            direct, through = [], []
            for _ in range(rounds):
                direct.append(_timed_stream(client, peer, max_tokens))
                through.append(_timed_stream(client, lumina, max_tokens))
    median = statistics.median
    d_ttft, l_ttft = median(t for t, _ in direct), median(t for t, _ in through)
    d_total, l_total = median(t for _, t in direct), median(t for _, t in through)
    best_direct, best_through = min(t for _, t in direct), min(t for _, t in through)
    return {
        "direct_ttft_ms": d_ttft * 1000, "lumina_ttft_ms": l_ttft * 1000, "ttft_ratio": l_ttft / d_ttft,
        "direct_total_ms": d_total * 1000, "lumina_total_ms": l_total * 1000, "total_ratio": l_total / d_total,
        "added_ms_at_median": (l_total - d_total) * 1000,
        # the fastest run of each is the least disturbed by other work on a busy machine
        "best_total_ratio": best_through / best_direct, "added_ms_at_best": (best_through - best_direct) * 1000,
    }


class InstantProvider:
    """A measuring instrument, not a model: yields ``tokens`` chunks at once, so what is timed is
    the gateway alone (routing, pipeline, hooks, SSE frames, middleware)."""

    name = "instant"

    def __init__(self, tokens: int) -> None:
        self.tokens = tokens

    def default_model(self) -> str:
        return "instant"

    async def models(self) -> list:
        from lumina_core.services.llm.base import ModelInfo

        return [ModelInfo("instant", self.name)]

    async def has_model(self, model: str) -> bool:
        return model == "instant"

    async def context_window(self, model: str) -> int:
        return 2048

    async def count_tokens(self, text: str, model: str) -> int:
        return len(text) // 4

    async def stream(self, messages, model, options):
        from lumina_core.contract import Usage
        from lumina_core.services.llm.base import ChatChunk

        for _ in range(self.tokens):
            await asyncio.sleep(0)
            yield ChatChunk(" word", model)
        yield ChatChunk("", model, "stop", Usage(10, self.tokens))

    async def aclose(self) -> None:
        return None


async def bench_gateway_cost(tokens: int, rounds: int = 100) -> dict[str, float]:
    """Lumina's own time for one streamed request, in-process over ASGI, with an instant provider."""
    from lumina_core.settings import load_settings
    from lumina_core.testing import running_host

    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(data_dir=data_dir, load_plugins="", rate_limit="")
        async with running_host(settings) as host:
            host.kernel.services.get("llm").providers = (InstantProvider(tokens),)
            body = {"model": "instant", "messages": PROMPT, "stream": True}

            async def one() -> None:
                async with host.client.stream("POST", "/v1/chat/completions", json=body) as response:
                    async for _ in response.aiter_raw():
                        pass

            await one()
            started = time.perf_counter()
            for _ in range(rounds):
                await one()
    elapsed = (time.perf_counter() - started) / rounds
    return {"gateway_ms_per_stream": elapsed * 1000, "gateway_us_per_chunk": elapsed / tokens * 1e6}


async def bench_embeddings() -> dict[str, float]:
    from lumina_core.services.embeddings.cache import CachedEmbedder
    from lumina_core.services.embeddings.minilm import MiniLMEmbedder

    inner = MiniLMEmbedder()
    sentences = [f"Sentence number {i} is about something a little different." for i in range(256)]
    await inner.embed(sentences[:8])  # load the model
    started = time.perf_counter()
    await inner.embed(sentences)
    throughput = len(sentences) / (time.perf_counter() - started)
    cache = CachedEmbedder(inner, size=1000)
    await cache.embed(["warm"])
    rounds = 20_000
    started = time.perf_counter()
    for _ in range(rounds):
        await cache.embed(["warm"])
    hit_us = (time.perf_counter() - started) / rounds * 1e6
    return {"embedder_sentences_per_s": throughput, "cache_hit_us": hit_us}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args()
    results = {
        **bench_gateway(args.rounds, args.max_tokens),
        **asyncio.run(bench_gateway_cost(args.max_tokens)),
        **asyncio.run(bench_embeddings()),
    }
    width = max(map(len, results))
    for name, value in results.items():
        print(f"{name:<{width}}  {value:10.3f}")


if __name__ == "__main__":
    main()
