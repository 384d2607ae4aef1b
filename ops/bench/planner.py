"""The held-out loop: gaps become crawls, and the questions they came from are then answered.

Ingests the enwiki excerpt **minus** a few articles (``HELD_OUT``) into a host with the knowledge,
crawler and planner plugins, asks the fact questions of the project's sets about those articles
(declined: gaps recorded), runs **one** planning cycle (``POST /masterchat/plan``) against the
local MediaWiki server (``ops/mediawiki_server.py``, real HTTP) serving the whole excerpt, waits
for the crawls to settle, and asks again. Reported:

* right answers with a cite of the held-out article, before and after (goal ≥ 0.75 after);
* seconds from ``POST /masterchat/plan`` to the first right answer (goal < 10 s) and per article;
* politeness: the most wiki requests the server saw in any one second, against the configured
  ``CRAWL_RATE_LIMIT``;
* side by side, the same articles crawled directly (``POST /tasks {"crawl": [...]}``, no planner,
  the titles known in advance): the planner's seconds as a ratio of the direct crawl's.

    .venv/bin/python -m ops.bench.planner
    .venv/bin/python -m ops.bench.planner --data-dir /tmp/kb-held-out   # keep the base index between runs
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lumina_core.testing import Host, host_settings, running_host
from ops import mediawiki_server
from ops.bench.knowledge import NATURAL, Question, ingest, load_questions

HELD_OUT = ("Aikido", "Alkane", "Abacus", "Amphibian", "Aardwolf", "Adobe", "Andrei Tarkovsky", "Altruism")
PLUGINS = ["knowledge", "crawler", "planner"]
RATE_LIMIT = 5.0
SETTLE_TIMEOUT_S = 300.0
NEVER = "0 0 1 1 *"  # no scheduled cycle: each arm runs exactly what it measures


def held_out_questions() -> list[Question]:
    questions = load_questions() + load_questions(NATURAL)
    return [q for q in questions if q.title in HELD_OUT]


def config(wiki: mediawiki_server.MediaWikiServer) -> dict[str, dict[str, Any]]:
    return {"crawler": {"wiki_api": wiki.api_url, "rate_limit": RATE_LIMIT, "contact": "bench@lumina.invalid"},
            "planner": {"detect": [], "backoff_minutes": 0, "plan_cron": NEVER}}


async def answered(host: Host, question: Question) -> bool:
    """wiki_qa states the fact, citing the question's article."""
    body = (await host.client.post("/masterchat/chat", json={"message": question.question})).json()
    return question.states(body.get("answer", "")) and any(s["title"] == question.title for s in body.get("sources", []))


async def right_share(host: Host, questions: list[Question]) -> float:
    return sum([await answered(host, q) for q in questions]) / len(questions)


async def indexed(host: Host, title: str) -> bool:
    """The article has passages in the index (a BM25 search of its title, a millisecond)."""
    response = await host.client.post("/knowledge/search", json={"query": title, "k": 5, "mode": "bm25"})
    return any(hit["title"] == title for hit in response.json()["hits"])


async def until_all_answered(host: Host, questions: list[Question], started: float) -> dict[str, float]:
    """Seconds from ``started`` to the first right answer of each article's first question.

    A question is asked as soon as its article has passages, and again every round until it is
    answered right: asking all of them every round would spend the two cores on wiki_qa that
    cannot answer yet and slow the loop being measured."""
    firsts = {q.title: q for q in reversed(questions)}
    seconds: dict[str, float] = {}
    deadline = started + SETTLE_TIMEOUT_S
    while len(seconds) < len(firsts) and time.perf_counter() < deadline:
        for title, question in firsts.items():
            if title not in seconds and await indexed(host, title) and await answered(host, question):
                seconds[title] = time.perf_counter() - started
        await asyncio.sleep(0.1)
    return seconds


async def planner_loop(host: Host, questions: list[Question]) -> dict[str, Any]:
    """One cycle, asked for while the questions are already being watched: crawls start as soon
    as their gap is planned, long before the cycle has planned the last one."""
    finished: list[float] = []
    started = time.perf_counter()
    cycle = asyncio.create_task(host.client.post("/masterchat/plan"))
    cycle.add_done_callback(lambda _: finished.append(time.perf_counter() - started))
    seconds = await until_all_answered(host, questions, started)
    response = await cycle
    response.raise_for_status()
    await settled(host)
    return {"planned": len(response.json()["planned"]), "seconds": seconds, "cycle_s": finished[0]}


async def direct_crawl(host: Host, questions: list[Question]) -> dict[str, Any]:
    """The baseline: the held-out titles crawled as one task, as a person who knew them would."""
    started = time.perf_counter()
    response = await host.client.post("/tasks", json={"crawl": list(HELD_OUT), "hops": 0, "max_nodes": len(HELD_OUT)})
    response.raise_for_status()
    return {"planned": len(HELD_OUT), "seconds": await until_all_answered(host, questions, started)}


async def settled(host: Host) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        gaps = (await host.client.get("/knowledge/gaps", params={"limit": "500"})).json()["items"]
        if not any(g["state"] in ("planned", "crawling") for g in gaps):
            return
        await asyncio.sleep(0.2)


def busiest_second(wiki: mediawiki_server.MediaWikiServer) -> int:
    """The most requests the wiki saw within any one second."""
    times = sorted(r.at for r in wiki.requests)
    return max((sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times)), default=0)


Arm = Callable[[Host, list[Question]], Awaitable[dict[str, Any]]]


async def run_arm(base: Path, wiki_data: mediawiki_server.WikiData, arm: Arm, questions: list[Question]) -> dict[str, Any]:
    """One arm on a fresh copy of the base index and a fresh wiki server."""
    with tempfile.TemporaryDirectory() as folder, mediawiki_server.MediaWikiServer(wiki_data) as wiki:
        data = Path(folder) / "data"
        shutil.copytree(base, data)
        async with running_host(host_settings(data, PLUGINS, plugin_config=config(wiki))) as host:
            before = await right_share(host, questions)
            outcome = await arm(host, questions)
            after = await right_share(host, questions)
            gaps = (await host.client.get("/knowledge/gaps", params={"limit": "500"})).json()["items"]
        return {**outcome, "before": before, "after": after, "busiest_second": busiest_second(wiki),
                "gaps": {state: sum(g["state"] == state for g in gaps) for state in ("filled", "open", "given_up")}}


async def build_base(base: Path) -> dict[str, float]:
    """The excerpt minus the held-out articles, indexed once."""
    with mediawiki_server.MediaWikiServer() as wiki:
        async with running_host(host_settings(base, PLUGINS, plugin_config=config(wiki))) as host:
            return await ingest(host, skip=frozenset(HELD_OUT))


def report(planner: dict[str, Any], direct: dict[str, Any], questions: int) -> None:
    def times(arm: dict[str, Any]) -> str:
        seconds = sorted(arm["seconds"].values())
        if not seconds:
            return "no article answered"
        return (f"first right answer {seconds[0]:.2f} s, all {len(seconds)} of {len(HELD_OUT)} articles by "
                f"{seconds[-1]:.2f} s ({seconds[-1] / len(seconds):.2f} s per article, median {statistics.median(seconds):.2f} s)")

    print(f"held-out articles: {len(HELD_OUT)}, their questions: {questions}")
    print(f"the planning cycle (POST /masterchat/plan) answered in {planner['cycle_s']:.2f} s, "
          f"having planned {planner['planned']} crawls")
    for name, arm in (("planner (one cycle)", planner), ("direct crawl (baseline)", direct)):
        print(f"{name}: right with a cite of the new article {arm['before']:.2f} before → {arm['after']:.2f} after; "
              f"{times(arm)}; busiest second {arm['busiest_second']} requests (limit {RATE_LIMIT:g}/s); gaps {arm['gaps']}")
        print("  first right answer per article: " + ", ".join(
            f"{title} {at:.1f} s" for title, at in sorted(arm["seconds"].items(), key=lambda item: item[1])))
    p, d = sorted(planner["seconds"].values()), sorted(direct["seconds"].values())
    if p and d:
        print(f"planner / direct: first answer ×{p[0] / d[0]:.2f}, all answered ×{p[-1] / d[-1]:.2f}")


async def main(data_dir: Path | None) -> None:
    questions = held_out_questions()
    with tempfile.TemporaryDirectory() as folder:
        base = data_dir or Path(folder) / "base"
        if not (base / "plugins" / "knowledge").exists():
            built = await build_base(base)
            print(f"base index: {built['pages']} pages, {built['passages']} passages in {built['seconds']:.0f} s")
        wiki_data = mediawiki_server.WikiData()
        planner = await run_arm(base, wiki_data, planner_loop, questions)
        direct = await run_arm(base, wiki_data, direct_crawl, questions)
    report(planner, direct, len(questions))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="keep the base index (excerpt minus held-out) here")
    asyncio.run(main(parser.parse_args().data_dir))
