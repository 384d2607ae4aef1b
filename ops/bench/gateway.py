"""Gateway overhead: a streamed completion through Lumina versus straight to the backing server.

Starts ``python -m llama_cpp.server`` (SmolLM2, the embedded model's file) and a Lumina whose
only provider is that server (``LUMINA_LLM_PROVIDERS=openai``), then sends the same streamed
request to both, alternating, and compares time to first token and total time: once with a
fresh prompt per request, once repeating one prompt (answered from the peer's prefix cache). Also measures
an embedding-cache hit, the embedded embedder's throughput, and the embedded chat model's time to
first token and prompt reading one token at a time and in llama.cpp's batches.

    .venv/bin/python -m ops.bench.gateway [--rounds 30] [--max-tokens 16] [--peer-threads N]
                                          [--only gateway|embeddings|embedded]
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

from lumina_core.services.llm.batch_probe import BATCHED, ONE_TOKEN
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


def _llama_server(threads: int = 2) -> tuple[list[str], str]:
    port = _free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(SMOLLM2_135M.locate()),
        "--model_alias", PEER_MODEL, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_ubatch", "512", "--n_threads", str(threads), "--verbose", "false",
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


def _timed_stream(client: httpx.Client, url: str, max_tokens: int, messages: list[dict] = PROMPT) -> tuple[float, float]:
    body = {"model": PEER_MODEL, "messages": messages, "max_tokens": max_tokens, "temperature": 0, "stream": True}
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


def bench_gateway(rounds: int, max_tokens: int, *, fresh: bool, peer_threads: int) -> dict[str, float]:
    """Same client, same body, warm connections on both sides; the order alternates every round
    (direct first, then Lumina first) so drift in the machine's load falls on both alike.

    ``fresh``: every request opens with its own line, so the peer reads the prompt anew (the
    usual case); otherwise every request repeats one prompt, which the peer answers from its
    prefix cache: a first token in ~10 ms, the hardest case for a ratio.

    ``peer_threads``: llama.cpp's threads. With as many as the machine has cores, the model keeps
    every core busy while it generates, so each microsecond the gateway (or the client) spends
    is taken from generation; with one fewer, the gateway has a core of its own, as it would
    in front of a model on another machine or a GPU."""
    peer_command, peer_url = _llama_server(peer_threads)
    with tempfile.TemporaryDirectory() as data_dir, _serving(peer_command, peer_url) as peer:
        lumina_command, lumina_url, env = _lumina(peer, data_dir)
        with _serving(lumina_command, lumina_url, env) as lumina, httpx.Client(timeout=120) as client:
            for url in (peer, lumina, peer, lumina):  # warm both paths and their connections
                _timed_stream(client, url, max_tokens)
            timings: dict[str, list[tuple[float, float]]] = {peer: [], lumina: []}
            for round_ in range(rounds):
                for url in (peer, lumina) if round_ % 2 == 0 else (lumina, peer):
                    messages = _fresh(PROMPT, f"{round_}{'d' if url == peer else 'l'}") if fresh else PROMPT
                    timings[url].append(_timed_stream(client, url, max_tokens, messages))
    prefix = f"{'fresh' if fresh else 'cached'}_prompt_peer{peer_threads}t_"
    return {prefix + name: value for name, value in _compare(timings[peer], timings[lumina]).items()}


def _fresh(messages: list[dict], tag: str) -> list[dict]:
    return [{"role": "system", "content": f"Request {tag}. You are a helpful assistant."}, *messages]


def _compare(direct: list[tuple[float, float]], through: list[tuple[float, float]]) -> dict[str, float]:
    """Ratios of the medians, and the median of each round's own difference (paired, so a
    round disturbed by other work is compared with its own direct request)."""
    median = statistics.median
    figures: dict[str, float] = {}
    for index, name in enumerate(("ttft", "total")):
        d, t = [r[index] for r in direct], [r[index] for r in through]
        figures[f"direct_{name}_ms"] = median(d) * 1000
        figures[f"lumina_{name}_ms"] = median(t) * 1000
        figures[f"{name}_ratio"] = median(t) / median(d)
        figures[f"{name}_added_ms_paired"] = median(b - a for a, b in zip(d, t, strict=True)) * 1000
    return figures


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


PASSAGE = (
    "Aristotle was a Greek philosopher and polymath who studied under Plato in Athens and later "
    "tutored Alexander the Great. His writings cover physics, biology, logic, ethics, poetry, "
    "rhetoric and politics, and shaped Western thought for two thousand years. "
)


async def bench_embedded(prompt_batch: int, rounds: int = 5) -> dict[str, float]:
    """The embedded model's time to first token and prompt reading with llama.cpp's ``n_ubatch``
    at ``prompt_batch``. Each round opens with a new system line, so llama.cpp's prefix cache
    cannot skip the prompt it read the round before."""
    from lumina_core.contract import Message
    from lumina_core.services.llm.base import GenerationOptions
    from lumina_core.services.llm.embedded import EmbeddedProvider, LlamaOptions

    provider = EmbeddedProvider(options=LlamaOptions(prompt_batch=prompt_batch))
    await provider.warm_up()
    ttft, per_token, prompt_tokens = [], [], 0
    for round_ in range(rounds):
        messages = (
            Message("system", f"Session {round_}: answer briefly."),
            Message("user", PASSAGE * 3 + "Who taught him?"),
        )
        started = time.perf_counter()
        chunks = [c async for c in provider.stream(messages, provider.model_id, GenerationOptions(max_tokens=1))]
        elapsed = time.perf_counter() - started
        prompt_tokens = chunks[-1].usage.prompt_tokens
        ttft.append(elapsed)
        per_token.append(elapsed / prompt_tokens)
    return {
        f"embedded_batch{prompt_batch}_prompt_tokens": prompt_tokens,
        f"embedded_batch{prompt_batch}_ttft_ms": statistics.median(ttft) * 1000,
        f"embedded_batch{prompt_batch}_prompt_ms_per_token": statistics.median(per_token) * 1000,
    }


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


PARTS = {
    "gateway": lambda args: {
        **bench_gateway(args.rounds, args.max_tokens, fresh=True, peer_threads=args.peer_threads),
        **bench_gateway(args.rounds, args.max_tokens, fresh=False, peer_threads=args.peer_threads),
        **asyncio.run(bench_gateway_cost(args.max_tokens)),
    },
    "embeddings": lambda args: asyncio.run(bench_embeddings()),
    "embedded": lambda args: {
        **asyncio.run(bench_embedded(ONE_TOKEN)), **asyncio.run(bench_embedded(BATCHED)),
    },
}


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=_positive, default=30, help="requests per path and kind of prompt")
    parser.add_argument("--max-tokens", type=_positive, default=16, help="tokens per streamed reply")
    parser.add_argument("--peer-threads", type=_positive, default=max(1, (os.cpu_count() or 2) - 1),
                        help="llama.cpp threads of the backing server (default: one per core but one, "
                             "which leaves the gateway a core of its own)")
    parser.add_argument("--only", choices=sorted(PARTS), action="append", help="run only these parts")
    args = parser.parse_args()
    results: dict[str, float] = {}
    for part in args.only or PARTS:
        results.update(PARTS[part](args))
    width = max(map(len, results))
    for name, value in results.items():
        print(f"{name:<{width}}  {value:10.3f}")


if __name__ == "__main__":
    main()
