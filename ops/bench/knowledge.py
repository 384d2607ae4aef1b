"""Knowledge retrieval and wiki_qa on the enwiki excerpt, with the project's own question set.

Ingests ``tests/data/wiki/enwiki-excerpt-2016.xml.bz2`` through the crawler's ``POST
/crawler/pages`` into a host with the crawler and knowledge plugins, then asks every question of
``tests/data/wiki/questions.jsonl`` (a fact inside one passage), of the natural set
(``questions_natural.jsonl``) and of the reworded set's dev, held-out and test splits
(``questions_paraphrased.jsonl``), through ``POST /knowledge/search`` in each retrieval mode,
side by side:

* ``bm25``: sparse BM25 alone (the lexical baseline);
* ``dense``: the core embedder (all-MiniLM-L6-v2) alone;
* ``rrf``: reciprocal-rank fusion of both;
* ``hybrid``: the product's pipeline (both searches' scores and the article stage, then
  sentence evidence; see ``lumina_knowledge.rerank``).

A hit is a passage of the right article that contains the answer. Also reported: search
latency (p50/p95 of the hybrid mode through HTTP) and, with ``--qa``, wiki_qa answers that
contain the expected fact, with the time per answer, on the main and the natural set, and the
share of questions the excerpt cannot answer that it declines (``questions_unanswerable.jsonl``).

    .venv/bin/python -m ops.bench.knowledge
    .venv/bin/python -m ops.bench.knowledge --data-dir /tmp/kb --qa    # keep the index between runs
    .venv/bin/python -m ops.bench.knowledge --data-dir /tmp/kb --sets main "reworded dev"   # tuning: only these
    .venv/bin/python -m ops.bench.knowledge --data-dir /tmp/kb --naive 12   # + the naive RAG baseline
    .venv/bin/python -m ops.bench.knowledge --crawl          # + crawl request → searchable
    .venv/bin/python -m ops.bench.knowledge --scale 100000   # only: search p50/p95 at 100K passages
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lumina_core.testing import Host, host_settings, running_host
from ops import mediawiki_server

ROOT = Path(__file__).resolve().parents[2]
EXCERPT = ROOT / "tests" / "data" / "wiki" / "enwiki-excerpt-2016.xml.bz2"
QUESTIONS = ROOT / "tests" / "data" / "wiki" / "questions.jsonl"
#: The same kind of questions, worded away from the passages (synonyms, the subject described
#: rather than named): how far the figures hold for questions written without reading the text.
#: Each has a ``split``: ``dev`` questions tune the retrieval, ``heldout`` and ``test`` ones only
#: measure it (``test`` was written after ``heldout`` had been looked at, for a fresh check).
PARAPHRASED = ROOT / "tests" / "data" / "wiki" / "questions_paraphrased.jsonl"
#: Written by a second writer blind to the retrieval code, in everyday wording, from passages drawn
#: at random; ``split`` says whether the answer occurs in one passage or in several.
NATURAL = ROOT / "tests" / "data" / "wiki" / "questions_natural.jsonl"
#: The sets wiki_qa is measured on (``--qa``).
QA_SETS = ("main", "natural")
#: Questions the excerpt cannot answer (checked against its passages), some sharing words with
#: it ("the president of Mars"): with ``--qa``, the share that wiki_qa answers "I don't know".
UNANSWERABLE = ROOT / "tests" / "data" / "wiki" / "questions_unanswerable.jsonl"
#: hybrid first, so its latency includes embedding the question (the others then reuse the
#: embedder's cache, as a real follow-up query would not).
MODES = ("hybrid", "bm25", "dense", "rrf")
BATCH = 50


@dataclass(frozen=True)
class Question:
    """A question, its answer (or the answer's accepted spellings) and the article holding it."""

    question: str
    answer: str | list[str]
    title: str
    split: str = ""

    @property
    def answers(self) -> list[str]:
        return [self.answer] if isinstance(self.answer, str) else list(self.answer)

    def is_hit(self, hit: dict[str, Any]) -> bool:
        return hit["title"] == self.title and self.states(hit["text"])

    def states(self, text: str) -> bool:
        return any(a.lower() in text.lower() for a in self.answers)


def load_questions(path: Path = QUESTIONS, split: str | None = None) -> list[Question]:
    questions = [Question(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
    return [q for q in questions if split is None or q.split == split]


def question_sets(limit: int | None = None) -> dict[str, list[Question]]:
    """The main set, the natural set (whole, and its questions whose answer is in one passage)
    and the reworded set's three splits, by the name the report gives them."""
    return {
        "main": load_questions()[:limit],
        "natural": load_questions(NATURAL),
        "natural, answer in one passage": load_questions(NATURAL, "one passage"),
        "reworded dev": load_questions(PARAPHRASED, "dev"),
        "reworded held-out": load_questions(PARAPHRASED, "heldout"),
        "reworded test": load_questions(PARAPHRASED, "test"),
    }


async def ingest(host: Host, skip: frozenset[str] = frozenset()) -> dict[str, float]:
    """Send the excerpt (but the titles in ``skip``) through the crawler's page route; return
    pages, seconds, passages."""
    from lumina_crawler.cli import batches, page_payload
    from lumina_crawler.dump import DumpReader

    started = time.perf_counter()
    pages = 0
    for batch in batches(DumpReader(EXCERPT), BATCH, None):
        payloads = [page_payload(p) for p in batch if p.title not in skip]
        if not payloads:
            continue
        response = await host.client.post("/crawler/pages", json={"pages": payloads})
        response.raise_for_status()
        pages += len(payloads)
    stats = (await host.client.get("/knowledge/stats")).json()
    return {"pages": pages, "seconds": time.perf_counter() - started, "passages": stats["passages"]}


async def retrieval(host: Host, questions: list[Question]) -> dict[str, dict[str, float]]:
    """hit@1 and hit@3 per mode; latency percentiles per mode."""
    results: dict[str, dict[str, float]] = {}
    for mode in MODES:
        first = top3 = 0
        latencies: list[float] = []
        for q in questions:
            started = time.perf_counter()
            response = await host.client.post("/knowledge/search", json={"query": q.question, "k": 3, "mode": mode})
            latencies.append((time.perf_counter() - started) * 1000)
            hits = response.json()["hits"]
            first += bool(hits) and q.is_hit(hits[0])
            top3 += any(q.is_hit(h) for h in hits)
        latencies.sort()
        results[mode] = {
            "hit@1": first / len(questions),
            "hit@3": top3 / len(questions),
            "p50_ms": statistics.median(latencies),
            "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
        }
    return results


async def wiki_qa(host: Host, questions: list[Question]) -> dict[str, float]:
    """Share of wiki_qa answers containing the expected fact, and seconds per answer."""
    right = cited = phrased = 0
    seconds: list[float] = []
    for q in questions:
        started = time.perf_counter()
        response = await host.client.post("/masterchat/chat", json={"message": q.question, "mode": "wiki_qa"})
        seconds.append(time.perf_counter() - started)
        body = response.json()
        right += q.states(body.get("answer", ""))
        cited += bool(body.get("cite_ids"))
        phrased += body.get("method") == "phrased"
    return {"accuracy": right / len(questions), "cited": cited / len(questions), "phrased": phrased / len(questions),
            "mean_s": statistics.mean(seconds), "p95_s": sorted(seconds)[int(0.95 * (len(seconds) - 1))]}


def load_unanswerable() -> list[str]:
    return [json.loads(line)["question"] for line in UNANSWERABLE.read_text().splitlines() if line.strip()]


async def abstention(host: Host, questions: list[str]) -> float:
    """Share of ``questions`` (none answerable from the excerpt) that wiki_qa declines to answer."""
    declined = 0
    for question in questions:
        response = await host.client.post("/masterchat/chat", json={"message": question, "mode": "wiki_qa"})
        declined += response.json().get("method") == "unknown"
    return declined / len(questions)


async def naive_rag(host: Host, questions: list[Question]) -> dict[str, float]:
    """The baseline: BM25 top 3 passages and the question straight to the model, answer as is."""
    llm = host.kernel.services.get("llm")
    right = 0
    seconds: list[float] = []
    for q in questions:
        started = time.perf_counter()
        hits = (await host.client.post("/knowledge/search", json={"query": q.question, "k": 3, "mode": "bm25"})).json()
        context = "\n\n".join(f"{h['title']}: {h['text']}" for h in hits["hits"])
        messages = [{"role": "system", "content": "Answer the question using the passages."},
                    {"role": "user", "content": f"{context}\n\nQuestion: {q.question}"}]
        answer = (await llm.chat(messages, max_tokens=48, temperature=0.0)).text
        seconds.append(time.perf_counter() - started)
        right += q.states(answer)
    return {"accuracy": right / len(questions), "cited": 0.0, "mean_s": statistics.mean(seconds),
            "p95_s": sorted(seconds)[int(0.95 * (len(seconds) - 1))], "questions": len(questions)}


def report(ingested: dict[str, float], sets: dict[str, list[Question]],
           retrieved: dict[str, dict[str, dict[str, float]]], qa: dict[str, dict[str, float]] | None,
           naive: dict[str, float] | None = None) -> None:
    print(f"ingest: {ingested['pages']} pages → {ingested['passages']} passages in {ingested['seconds']:.1f} s")
    print("a hit is a passage of the right article containing the answer")
    for name, by_mode in retrieved.items():
        print(f"\n{name} ({len(sets[name])} questions)")
        print(f"{'mode':8} {'hit@1':>6} {'hit@3':>6} {'p50 ms':>7} {'p95 ms':>7}  hit@1 vs bm25")
        base = by_mode["bm25"]["hit@1"] or 1e-9
        for mode in ("bm25", "dense", "rrf", "hybrid"):
            r = by_mode[mode]
            print(f"{mode:8} {r['hit@1']:6.2f} {r['hit@3']:6.2f} {r['p50_ms']:7.1f} {r['p95_ms']:7.1f}  "
                  f"×{r['hit@1'] / base:.2f}")
    for name, answered in (qa or {}).items():
        print(f"wiki_qa, {name} set: {answered['accuracy']:.2f} answers contain the fact, "
              f"{answered['cited']:.2f} cite passages, {answered['phrased']:.2f} phrased by the model "
              f"(the rest: the evidence sentence), {answered['mean_s']:.2f} s mean / "
              f"{answered['p95_s']:.2f} s p95 per answer")
    if naive:
        print(f"naive RAG (BM25 top 3 + the model), first {naive['questions']:.0f} questions: {naive['accuracy']:.2f} "
              f"answers contain the fact, {naive['mean_s']:.2f} s mean / {naive['p95_s']:.2f} s p95 per answer")


async def crawl_to_searchable(titles: tuple[str, ...], question: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Per title, seconds from ``POST /tasks {"crawl": [title]}`` until a search ranks the article
    first (searchable by its words), and until every passage has its dense vector too."""
    timings: dict[str, tuple[float, float]] = {}
    with mediawiki_server.MediaWikiServer() as wiki, tempfile.TemporaryDirectory() as folder:
        config = {"crawler": {"wiki_api": wiki.api_url, "rate_limit": 100}}
        async with running_host(host_settings(Path(folder), ["knowledge", "crawler"], plugin_config=config)) as host:
            for title in titles:
                started = time.perf_counter()
                await host.client.post("/tasks", json={"crawl": [title], "hops": 0, "max_nodes": 1})
                while not await _ranks_first(host, question[title], title):
                    await asyncio.sleep(0.02)
                searchable = time.perf_counter() - started
                while (await host.client.get("/knowledge/stats")).json()["pending_dense"]:
                    await asyncio.sleep(0.02)
                timings[title] = (searchable, time.perf_counter() - started)
    return timings


async def _ranks_first(host: Host, query: str, title: str) -> bool:
    hits = (await host.client.post("/knowledge/search", json={"query": query, "k": 1})).json().get("hits")
    return bool(hits) and hits[0]["title"] == title


async def search_at_scale(n: int, questions: list[Question], rounds: int = 3) -> dict[str, float]:
    """Hybrid search p50/p95 (through HTTP) with ``n`` synthetic passages indexed.

    Passages are written straight through the index's store and term statistics: random unit
    dense vectors, and sparse BM25 vectors over a Zipf-distributed vocabulary that holds the
    questions' terms (so the sparse side has real posting lists to walk), 110 terms each.
    """
    import uuid

    import numpy as np
    from lumina_knowledge.bm25 import passage_vector
    from lumina_knowledge.index import COLLECTION, DENSE, SPARSE
    from lumina_knowledge.text import terms

    from lumina_core.services.vectors import Point, SparseVector

    rng = np.random.default_rng(9)
    vocabulary = sorted({t for q in questions for t in terms(q.question)}) + [f"filler{i}" for i in range(30_000)]
    weights = 1.0 / np.arange(1, len(vocabulary) + 1) ** 0.9
    rng.shuffle(weights)
    weights /= weights.sum()
    with tempfile.TemporaryDirectory() as folder:
        async with running_host(host_settings(Path(folder), ["knowledge"])) as host:
            index = host.kernel.services.get("knowledge").index
            started = time.perf_counter()
            for start in range(0, n, 1000):
                size = min(1000, n - start)
                dense = rng.normal(size=(size, index.embedder.dimensions)).astype(np.float32)
                dense /= np.linalg.norm(dense, axis=1, keepdims=True)
                points, counted = [], []
                for i in range(size):
                    words = " ".join(vocabulary[j] for j in rng.choice(len(vocabulary), 110, p=weights))
                    sparse = passage_vector(words)
                    point_id = str(uuid.UUID(int=start + i + 1))
                    keys = sorted(sparse)
                    points.append(Point(point_id, {DENSE: dense[i].tolist(),
                                                   SPARSE: SparseVector(tuple(keys), tuple(sparse[k] for k in keys))},
                                        {"article_id": f"synthetic-{start + i}", "title": f"Synthetic {start + i}",
                                         "section": [], "position": 0, "text": words, "url": ""}))
                    counted.append((point_id, sparse.keys()))
                await index.vectors.upsert(COLLECTION, points)
                index.stats.add(f"synthetic-batch-{start}", "synthetic", str(start), counted, time.time())
            filled = time.perf_counter() - started
            await index.vectors.optimize(COLLECTION)
            await host.client.post("/knowledge/search", json={"query": questions[0].question, "k": 3})
            samples = []
            for _ in range(rounds):
                for q in questions:
                    begun = time.perf_counter()
                    (await host.client.post("/knowledge/search", json={"query": q.question, "k": 3})).raise_for_status()
                    samples.append((time.perf_counter() - begun) * 1000)
    samples.sort()
    return {"passages": n, "fill_s": filled, "p50_ms": statistics.median(samples),
            "p95_ms": samples[int(0.95 * (len(samples) - 1))]}


CRAWLED = ("Allan Dwan", "Apollo 8")
CRAWL_QUERIES = {"Allan Dwan": "Allan Dwan film director", "Apollo 8": "Apollo 8 lunar orbit crew"}


async def main(data_dir: Path, with_qa: bool, limit: int | None, with_crawl: bool, scale: int, naive: int,
               only: list[str] | None = None) -> None:
    every_set = question_sets(limit)
    sets = {name: qs for name, qs in every_set.items() if not only or name in only}
    questions = every_set["main"]
    if scale:
        figures = await search_at_scale(scale, questions)
        print(f"hybrid search with {figures['passages']:,} passages: p50 {figures['p50_ms']:.1f} ms, "
              f"p95 {figures['p95_ms']:.1f} ms (filled in {figures['fill_s']:.0f} s)")
        return
    # no API rate limit: four modes over every set are more requests than its default 600 a minute
    async with running_host(host_settings(data_dir, ["knowledge", "crawler"], rate_limit="")) as host:
        ingested = await ingest(host)
        retrieved = {name: await retrieval(host, qs) for name, qs in sets.items()}
        qa = {name: await wiki_qa(host, every_set[name]) for name in QA_SETS} if with_qa else None
        declined = await abstention(host, load_unanswerable()) if with_qa else None
        baseline = await naive_rag(host, questions[:naive]) if naive else None
    report(ingested, sets, retrieved, qa, baseline)
    if declined is not None:
        print(f"wiki_qa, {len(load_unanswerable())} questions the excerpt cannot answer: {declined:.2f} answered \"I don't know\"")
    if with_crawl:
        for title, (searchable, complete) in (await crawl_to_searchable(CRAWLED, CRAWL_QUERIES)).items():
            print(f"crawl request → '{title}' searchable by its words {searchable:.2f} s, fully indexed {complete:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="Keep the index here (re-runs skip embedding).")
    parser.add_argument("--qa", action="store_true", help="Also measure wiki_qa answers (slow with the embedded model).")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N questions.")
    parser.add_argument("--crawl", action="store_true", help="Also time crawl request → searchable on a local wiki.")
    parser.add_argument("--scale", type=int, default=0, help="Only time hybrid search with N synthetic passages.")
    parser.add_argument("--naive", type=int, default=0, help="Also run the naive RAG baseline on the first N questions.")
    parser.add_argument("--sets", nargs="+", choices=list(question_sets()), default=None,
                        help="Only these question sets (default: all; tune on main and dev only).")
    args = parser.parse_args()
    folder = args.data_dir or Path(tempfile.mkdtemp(prefix="lumina-bench-knowledge-"))
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(folder, args.qa, args.limit, args.crawl, args.scale, args.naive, args.sets))
