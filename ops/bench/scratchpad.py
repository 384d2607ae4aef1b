"""Reflection time per article: the embedded model against the extractive notes alone.

Starts a host with the knowledge and crawler plugins, ingests a few articles of the shared enwiki
excerpt through ``POST /crawler/pages`` (the crawler's own path), then reflects on each as the
``reflect`` task does: once with the host's model (the embedded SmolLM2-135M by default) and once
with no model at all, which is the baseline (the extractive notes every article falls back to).
Reports milliseconds per article, the ratio to the baseline, notes per article and the share the
model wrote (the rest failed their checks or the time budget).

    .venv/bin/python -m ops.bench.scratchpad                    # 3 articles, the plugin's 30 s budget
    .venv/bin/python -m ops.bench.scratchpad --budget 600 --articles 5
"""

from __future__ import annotations

import argparse
import asyncio
import bz2
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import iterparse

from lumina_core.errors import Unavailable
from lumina_core.testing import free_port, host_settings, running_host
from lumina_scratchpad.reflection import Reflector, read_article
from lumina_scratchpad.settings import ScratchpadSettings

EXCERPT = Path(__file__).resolve().parents[2] / "tests" / "data" / "wiki" / "enwiki-excerpt-2016.xml.bz2"
TITLES = ("Allan Dwan", "Aardvark", "Apollo 8", "Anarchism", "Autism")
_NS = "{http://www.mediawiki.org/xml/export-0.10/}"


class NoModel:
    """The baseline: every request to the model fails, so every note is extractive."""

    async def chat(self, *_: Any, **__: Any) -> Any:
        raise Unavailable("no model: the extractive baseline")


def pages(titles: tuple[str, ...]) -> list[dict[str, Any]]:
    found = []
    with bz2.open(EXCERPT) as stream:
        for _event, element in iterparse(stream):
            if element.tag == _NS + "page":
                if element.findtext(_NS + "title") in titles:
                    found.append({"title": element.findtext(_NS + "title"),
                                  "wikitext": element.findtext(f"{_NS}revision/{_NS}text")})
                element.clear()
    return found


async def reflect(knowledge: Any, llm: Any, article_id: str, title: str, budget: float) -> tuple[float, int, int]:
    """(milliseconds, notes, notes by the model) for one article, reading included."""
    started = time.perf_counter()
    article = await read_article(knowledge, article_id, title)
    notes = await Reflector(llm, ttl_s=300, budget_s=budget).reflect(article)
    return (time.perf_counter() - started) * 1000, len(notes), sum(n.origin == "model" for n in notes)


async def run(articles: int, budget: float) -> None:
    closed_wiki = {"crawler": {"wiki_api": f"http://127.0.0.1:{free_port()}/w/api.php"}}
    settings = host_settings(Path(tempfile.mkdtemp()), ["knowledge", "crawler"], plugin_config=closed_wiki)
    async with running_host(settings) as host:
        answer = await host.client.post("/crawler/pages", json={"pages": pages(TITLES[:articles])})
        ids = {item["title"]: item["id"] for item in answer.json()["items"]}
        knowledge, llm = host.kernel.services.get("knowledge"), host.kernel.services.get("llm")
        await llm.chat([{"role": "user", "content": "Hello"}], max_tokens=1)  # the model loaded, not timed
        rows = {"model": [], "baseline": []}
        for title, article_id in ids.items():
            for name, model in (("model", llm), ("baseline", NoModel())):
                rows[name].append(await reflect(knowledge, model, article_id, title, budget))
                ms, notes, by_model = rows[name][-1]
                print(f"{title:14} {name:9} {ms:9.0f} ms  {notes} notes, {by_model} by the model", flush=True)
    model_ms = statistics.mean(r[0] for r in rows["model"])
    base_ms = statistics.mean(r[0] for r in rows["baseline"])
    share = sum(r[2] for r in rows["model"]) / max(1, sum(r[1] for r in rows["model"]))
    print(f"\nreflection per article: model {model_ms:.0f} ms, extractive baseline {base_ms:.0f} ms "
          f"(ratio {model_ms / base_ms:.1f}x); notes per article {statistics.mean(r[1] for r in rows['model']):.1f}, "
          f"written by the model {share:.0%}; budget {budget:g} s; load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=3, choices=range(1, len(TITLES) + 1))
    parser.add_argument("--budget", type=float, default=ScratchpadSettings().reflect_budget_s,
                        help="seconds the model may spend on one article (the plugin's reflect_budget_s)")
    args = parser.parse_args()
    asyncio.run(run(args.articles, args.budget))


if __name__ == "__main__":
    main()
