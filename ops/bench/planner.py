"""The held-out loop: gaps become crawls, and the questions they came from are then answered.

Ingests the enwiki excerpt **minus** a few articles (``HELD_OUT``) into a host with the knowledge,
crawler and planner plugins, asks the fact questions of the project's sets about those articles
(declined: gaps recorded), runs **one** planning cycle (``POST /masterchat/plan``) against the
local MediaWiki server (``ops/mediawiki_server.py``, real HTTP) serving the whole excerpt, waits
for the crawls to settle, and asks again. Three arms, each on a fresh copy of the same base index
and a fresh wiki server (``--arms`` runs some of them):

* ``embedded``: the planner on the embedded defaults, one host in this process (two task workers);
* ``direct``: the baseline, the same articles crawled directly on that host (``POST /tasks
  {"crawl": [...]}``, no planner, the titles known in advance);
* ``redis``: the planner scaled out as in ``plugins/planner/tests/test_planner_workers.py``: a
  ``lumina serve`` that runs no task and two ``lumina worker`` processes (one task worker each,
  two in all as on the embedded host) on a private key prefix of the real Redis, sharing the data
  folder and one vector store, a Qdrant server (``ops/qdrant_server.py``) as ``QDRANT_URL`` gives
  in production. The base index is built once with the embedded store; this arm moves its copy's
  vectors into the fresh Qdrant server with ``lumina vectors migrate --to server``, the way a
  deployment leaves the embedded store, so all three arms start from the same passages.

Reported per arm:

* right answers with a cite of the held-out article, before and after (goal ≥ 0.75 after);
* seconds from ``POST /masterchat/plan`` (or the direct crawl's ``POST /tasks``) to the first
  right answer (goal < 10 s) and per article;
* politeness: the most wiki requests the server saw in any one second, against the configured
  ``CRAWL_RATE_LIMIT``;
* ratios: the embedded planner's seconds to the direct crawl's, the Redis arm's to the embedded.

    .venv/bin/python -m ops.bench.planner
    .venv/bin/python -m ops.bench.planner --data-dir /tmp/kb-held-out   # keep the base index between runs
    .venv/bin/python -m ops.bench.planner --data-dir /tmp/kb-held-out --arms redis   # one arm alone
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from lumina_core.testing import (LuminaProcess, forget_redis_keys, host_settings, private_redis, running_host,
                                 settings_env)
from ops import mediawiki_server
from ops.bench.knowledge import NATURAL, Question, ingest, load_questions
from ops.qdrant_server import QdrantServer

HELD_OUT = ("Aikido", "Alkane", "Abacus", "Amphibian", "Aardwolf", "Adobe", "Andrei Tarkovsky", "Altruism")
PLUGINS = ["knowledge", "crawler", "planner"]
RATE_LIMIT = 5.0
SETTLE_TIMEOUT_S = 300.0
START_TIMEOUT_S = 180.0
NEVER = "0 0 1 1 *"  # no scheduled cycle: each arm runs exactly what it measures


def held_out_questions() -> list[Question]:
    questions = load_questions() + load_questions(NATURAL)
    return [q for q in questions if q.title in HELD_OUT]


def config(wiki: mediawiki_server.MediaWikiServer) -> dict[str, dict[str, Any]]:
    return {"crawler": {"wiki_api": wiki.api_url, "rate_limit": RATE_LIMIT, "contact": "bench@lumina.invalid"},
            "planner": {"detect": [], "backoff_minutes": 0, "plan_cron": NEVER}}


def config_settings(plugin_config: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The plugin config as the settings a child process reads from its environment."""
    return {f"plugin_config__{plugin}__{key}": value
            for plugin, section in plugin_config.items() for key, value in section.items()}


async def answered(api: httpx.AsyncClient, question: Question) -> bool:
    """wiki_qa states the fact, citing the question's article."""
    body = (await api.post("/masterchat/chat", json={"message": question.question})).json()
    return question.states(body.get("answer", "")) and any(s["title"] == question.title for s in body.get("sources", []))


async def right_share(api: httpx.AsyncClient, questions: list[Question]) -> float:
    return sum([await answered(api, q) for q in questions]) / len(questions)


async def indexed(api: httpx.AsyncClient, title: str) -> bool:
    """The article has passages in the index (a BM25 search of its title, a millisecond)."""
    response = await api.post("/knowledge/search", json={"query": title, "k": 5, "mode": "bm25"})
    return any(hit["title"] == title for hit in response.json()["hits"])


async def until_all_answered(api: httpx.AsyncClient, questions: list[Question], started: float) -> dict[str, float]:
    """Seconds from ``started`` to the first right answer of each article's first question.

    A question is asked as soon as its article has passages, and again every round until it is
    answered right: asking all of them every round would spend the two cores on wiki_qa that
    cannot answer yet and slow the loop being measured."""
    firsts = {q.title: q for q in reversed(questions)}
    seconds: dict[str, float] = {}
    deadline = started + SETTLE_TIMEOUT_S
    while len(seconds) < len(firsts) and time.perf_counter() < deadline:
        for title, question in firsts.items():
            if title not in seconds and await indexed(api, title) and await answered(api, question):
                seconds[title] = time.perf_counter() - started
        await asyncio.sleep(0.1)
    return seconds


async def planner_loop(api: httpx.AsyncClient, questions: list[Question]) -> dict[str, Any]:
    """One cycle, asked for while the questions are already being watched: crawls start as soon
    as their gap is planned, long before the cycle has planned the last one."""
    finished: list[float] = []
    started = time.perf_counter()
    cycle = asyncio.create_task(api.post("/masterchat/plan"))
    cycle.add_done_callback(lambda _: finished.append(time.perf_counter() - started))
    seconds = await until_all_answered(api, questions, started)
    response = await cycle
    response.raise_for_status()
    await settled(api)
    return {"planned": len(response.json()["planned"]), "seconds": seconds, "cycle_s": finished[0]}


async def direct_crawl(api: httpx.AsyncClient, questions: list[Question]) -> dict[str, Any]:
    """The baseline: the held-out titles crawled as one task, as a person who knew them would."""
    started = time.perf_counter()
    response = await api.post("/tasks", json={"crawl": list(HELD_OUT), "hops": 0, "max_nodes": len(HELD_OUT)})
    response.raise_for_status()
    return {"planned": len(HELD_OUT), "seconds": await until_all_answered(api, questions, started)}


async def settled(api: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        gaps = (await api.get("/knowledge/gaps", params={"limit": "500"})).json()["items"]
        if not any(g["state"] in ("planned", "crawling") for g in gaps):
            return
        await asyncio.sleep(0.2)


def busiest_second(wiki: mediawiki_server.MediaWikiServer) -> int:
    """The most requests the wiki saw within any one second."""
    times = sorted(r.at for r in wiki.requests)
    return max((sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times)), default=0)


Loop = Callable[[httpx.AsyncClient, list[Question]], Awaitable[dict[str, Any]]]
Deployment = Callable[[Path, mediawiki_server.MediaWikiServer], AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def embedded(data: Path, wiki: mediawiki_server.MediaWikiServer) -> AsyncIterator[httpx.AsyncClient]:
    """The embedded defaults: one host in this process, its client speaking HTTP to it."""
    async with running_host(host_settings(data, PLUGINS, plugin_config=config(wiki))) as host:
        yield host.client


def move_vectors_to(data: Path, qdrant_url: str) -> None:
    """The copy's embedded vector store into the Qdrant server, by the operator's own command."""
    migration = LuminaProcess(["vectors", "migrate", "--to", "server", "--url", qdrant_url],
                              settings_env(data, {}), data.parent / "migrate.log")
    migration.process.wait(START_TIMEOUT_S)
    if migration.stop() != 0:
        raise RuntimeError(f"lumina vectors migrate failed:\n{migration.output()}")


def until_working(worker: LuminaProcess) -> None:
    """A worker has started its task workers (its own log says so), so none of its start-up
    time is counted as the loop's."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while "task workers on" not in worker.output():
        if worker.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"a lumina worker did not start:\n{worker.output()[-3000:]}")
        time.sleep(0.2)


@asynccontextmanager
async def on_redis_with_workers(data: Path, wiki: mediawiki_server.MediaWikiServer) -> AsyncIterator[httpx.AsyncClient]:
    """A ``lumina serve`` running no task and two ``lumina worker`` processes on a private Redis
    prefix (the tests' own, so nothing clashes with tests running at the same time), sharing the
    data folder and one Qdrant server."""
    redis = private_redis()
    with QdrantServer() as qdrant:
        move_vectors_to(data, qdrant.url)
        settings = {**redis, "qdrant_url": qdrant.url, "load_plugins": ",".join(PLUGINS),
                    **config_settings(config(wiki))}
        workers = [LuminaProcess.worker(data, data.parent / f"worker{n}.log", **settings, task_workers=1)
                   for n in (1, 2)]
        running = list(workers)
        try:
            server = LuminaProcess.serve(data, data.parent / "server.log", **settings, task_workers=0)
            running.append(server)
            for worker in workers:
                until_working(worker)
            async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
                yield client
        finally:
            for process in running:
                process.stop()
            forget_redis_keys(redis["redis_url"], redis["redis_prefix"])


@dataclass(frozen=True)
class Arm:
    label: str
    deployment: Deployment
    loop: Loop


ARMS = {
    "embedded": Arm("planner (one cycle)", embedded, planner_loop),
    "direct": Arm("direct crawl (baseline)", embedded, direct_crawl),
    "redis": Arm("planner on Redis + 2 workers", on_redis_with_workers, planner_loop),
}
RATIOS = (("embedded", "direct"), ("redis", "embedded"))  # (arm, the arm its seconds are divided by)


async def run_arm(base: Path, wiki_data: mediawiki_server.WikiData, arm: Arm, questions: list[Question]) -> dict[str, Any]:
    """One arm on a fresh copy of the base index and a fresh wiki server."""
    with tempfile.TemporaryDirectory() as folder, mediawiki_server.MediaWikiServer(wiki_data) as wiki:
        data = Path(folder) / "data"
        shutil.copytree(base, data)
        async with arm.deployment(data, wiki) as api:
            before = await right_share(api, questions)
            outcome = await arm.loop(api, questions)
            after = await right_share(api, questions)
            gaps = (await api.get("/knowledge/gaps", params={"limit": "500"})).json()["items"]
        return {**outcome, "before": before, "after": after, "busiest_second": busiest_second(wiki),
                "gaps": {state: sum(g["state"] == state for g in gaps) for state in ("filled", "open", "given_up")}}


async def build_base(base: Path) -> dict[str, float]:
    """The excerpt minus the held-out articles, indexed once."""
    with mediawiki_server.MediaWikiServer() as wiki:
        async with running_host(host_settings(base, PLUGINS, plugin_config=config(wiki))) as host:
            return await ingest(host, skip=frozenset(HELD_OUT))


def times(result: dict[str, Any]) -> str:
    seconds = sorted(result["seconds"].values())
    if not seconds:
        return "no article answered"
    return (f"first right answer {seconds[0]:.2f} s, all {len(seconds)} of {len(HELD_OUT)} articles by "
            f"{seconds[-1]:.2f} s ({seconds[-1] / len(seconds):.2f} s per article, median {statistics.median(seconds):.2f} s)")


def report(results: dict[str, dict[str, Any]], questions: int) -> None:
    print(f"held-out articles: {len(HELD_OUT)}, their questions: {questions}")
    for name, result in results.items():
        if "cycle_s" in result:
            print(f"{ARMS[name].label}: the planning cycle (POST /masterchat/plan) answered in "
                  f"{result['cycle_s']:.2f} s, having planned {result['planned']} crawls")
        print(f"{ARMS[name].label}: right with a cite of the new article {result['before']:.2f} before → "
              f"{result['after']:.2f} after; {times(result)}; busiest second {result['busiest_second']} requests "
              f"(limit {RATE_LIMIT:g}/s); gaps {result['gaps']}")
        print("  first right answer per article: " + ", ".join(
            f"{title} {at:.1f} s" for title, at in sorted(result["seconds"].items(), key=lambda item: item[1])))
    for name, against in RATIOS:
        if name in results and against in results:
            a, b = sorted(results[name]["seconds"].values()), sorted(results[against]["seconds"].values())
            if a and b:
                print(f"{name} / {against}: first answer ×{a[0] / b[0]:.2f}, all answered ×{a[-1] / b[-1]:.2f}")


async def main(data_dir: Path | None, arms: list[str]) -> None:
    questions = held_out_questions()
    with tempfile.TemporaryDirectory() as folder:
        base = data_dir or Path(folder) / "base"
        if not (base / "plugins" / "knowledge").exists():
            built = await build_base(base)
            print(f"base index: {built['pages']} pages, {built['passages']} passages in {built['seconds']:.0f} s")
        wiki_data = mediawiki_server.WikiData()
        results = {name: await run_arm(base, wiki_data, ARMS[name], questions) for name in arms}
    report(results, len(questions))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="keep the base index (excerpt minus held-out) here")
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=list(ARMS),
                        help="the arms to run, in this order (default: all)")
    options = parser.parse_args()
    asyncio.run(main(options.data_dir, options.arms))
