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
    .venv/bin/python -m ops.bench.knowledge --data-dir /tmp/kb --hyde --sets "reworded dev"   # + HyDE beside

``--levers`` measures the two ingest-time levers of issue 16 on the hybrid's 5 best candidates
of each question of ``--sets`` (default: reworded dev): doc2query (questions the embedded model
writes for a passage, cached by the passage's text in ``<data-dir>/doc2query.sqlite``, their best
dense cosine or word overlap with the question added to the candidate's score), and a reranker
trained on those (synthetic question, passage) pairs (logistic regression over the hybrid's
signals and the question ⊙ passage embedding product, reordering the 10 best). Generating costs
the model seconds a passage: the first run of a set pays it, later runs read the cache.

``--hyde`` measures wiki_qa's query rewriting side by side, question by question: the embedded
model's guessed answer (``WikiQA.hypothesis``, timed) searched beside the question (hit@1 / hit@3
of ``POST /knowledge/search`` with and without ``hypothesis``) and wiki_qa with its ``hyde``
setting off and on, alternating (answers with the fact, seconds per answer; on the unanswerable
questions, the share declined).
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


async def hyde_side_by_side(host: Host, questions: list[Question]) -> dict[str, dict[str, float]]:
    """Per arm (``question``, ``hyde``): hit@1 / hit@3 of the search and wiki_qa's right answers and
    seconds, the arms alternating question by question; ``guess_s``: the model's time per guess."""
    qa = host.kernel.services.get("knowledge").qa
    arms: dict[str, dict[str, list[float]]] = {arm: {"hit@1": [], "hit@3": [], "right": [], "seconds": []}
                                               for arm in ("question", "hyde")}
    guesses: list[float] = []
    for q in questions:
        started = time.perf_counter()
        guess = await qa.hypothesis(q.question)
        guesses.append(time.perf_counter() - started)
        for arm, hypothesis in (("question", ""), ("hyde", guess)):
            body = {"query": q.question, "k": 3, "hypothesis": hypothesis}
            hits = (await host.client.post("/knowledge/search", json=body)).json()["hits"]
            arms[arm]["hit@1"].append(bool(hits) and q.is_hit(hits[0]))
            arms[arm]["hit@3"].append(any(q.is_hit(h) for h in hits))
            qa.hyde = arm == "hyde"
            started = time.perf_counter()
            answer = (await host.client.post("/masterchat/chat", json={"message": q.question})).json()
            arms[arm]["seconds"].append(time.perf_counter() - started)
            arms[arm]["right"].append(q.states(answer.get("answer", "")))
    qa.hyde = False
    figures = {arm: {"hit@1": statistics.mean(m["hit@1"]), "hit@3": statistics.mean(m["hit@3"]),
                     "accuracy": statistics.mean(m["right"]), "mean_s": statistics.mean(m["seconds"]),
                     "p95_s": sorted(m["seconds"])[int(0.95 * (len(m["seconds"]) - 1))]} for arm, m in arms.items()}
    figures["guess"] = {"mean_s": statistics.mean(guesses), "p95_s": sorted(guesses)[int(0.95 * (len(guesses) - 1))]}
    return figures


async def hyde_abstention(host: Host, questions: list[str]) -> dict[str, float]:
    """The share of unanswerable questions declined, wiki_qa's ``hyde`` off and on."""
    qa = host.kernel.services.get("knowledge").qa
    declined = {}
    for arm in ("question", "hyde"):
        qa.hyde = arm == "hyde"
        declined[arm] = await abstention(host, questions)
    qa.hyde = False
    return declined


def report_hyde(by_set: dict[str, dict[str, dict[str, float]]], declined: dict[str, float] | None) -> None:
    for name, arms in by_set.items():
        guess = arms["guess"]
        print(f"\nHyDE, {name}: the model's guess {guess['mean_s']:.2f} s mean / {guess['p95_s']:.2f} s p95")
        print(f"{'arm':9} {'hit@1':>6} {'hit@3':>6} {'wiki_qa':>8} {'mean s':>7} {'p95 s':>6}")
        for arm in ("question", "hyde"):
            r = arms[arm]
            print(f"{arm:9} {r['hit@1']:6.2f} {r['hit@3']:6.2f} {r['accuracy']:8.2f} {r['mean_s']:7.2f} {r['p95_s']:6.2f}")
    if declined:
        print(f"unanswerable declined: question {declined['question']:.2f}, hyde {declined['hyde']:.2f}")


#: doc2query's prompt for the embedded model (questions per passage: one greedy, one sampled).
DOC2QUERY_PROMPT = "{title}: {text}\n\nWrite one short question that the text above answers."
DOC2QUERY_SAMPLES = 2
LEVER_HEAD = 5
RERANK_HEAD = 10
RERANK_SIGNALS = ("lexical", "semantic", "article", "sentence", "field")


class SyntheticQuestions:
    """Questions the embedded model writes for passages, cached by the passage's text."""

    def __init__(self, host: Host, path: Path) -> None:
        import sqlite3

        self.llm = host.kernel.services.get("llm")
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS questions (hash TEXT PRIMARY KEY, passage_id TEXT, "
                        "questions TEXT, seconds REAL)")
        self.seconds: list[float] = []

    async def of(self, hit: Any) -> list[str]:
        import hashlib

        key = hashlib.sha256(f"{hit.title}|{' > '.join(hit.section)}|{hit.text}".encode()).hexdigest()[:32]
        row = self.db.execute("SELECT questions FROM questions WHERE hash = ?", (key,)).fetchone()
        if row:
            return json.loads(row[0])
        started = time.perf_counter()
        prompt = [{"role": "user", "content": DOC2QUERY_PROMPT.format(title=hit.title, text=hit.text)}]
        written = [(await self.llm.chat(prompt, max_tokens=32, temperature=0.0 if i == 0 else 0.7, stop=["\n"])).text.strip()
                   for i in range(DOC2QUERY_SAMPLES)]
        self.seconds.append(time.perf_counter() - started)
        self.db.execute("INSERT INTO questions VALUES (?, ?, ?, ?)", (key, hit.id, json.dumps(written), self.seconds[-1]))
        self.db.commit()
        return written

    def pairs(self) -> list[tuple[str, str]]:
        """(question, passage id) for every specific question written (a question of two terms or more)."""
        from lumina_knowledge.text import terms

        return [(q, pid) for pid, qs in self.db.execute("SELECT passage_id, questions FROM questions")
                for q in json.loads(qs) if q.endswith("?") and len(terms(q)) >= 2]


def specific(question: str, hit: Any) -> bool:
    """A written question about the passage, not "What is the text about?" (a third or more of them)."""
    from lumina_knowledge.text import terms

    return question.endswith("?") and bool(set(terms(question)) & set(terms(f"{hit.title} {hit.text}")))


async def doc2query_signals(host: Host, written: SyntheticQuestions, q: Question) -> tuple[list[Any], list[tuple[float, float]]]:
    """The hybrid's best candidates of ``q`` and, per candidate, its written questions' best dense
    cosine and best share of ``q``'s terms."""
    import numpy as np
    from lumina_knowledge.text import terms

    service = host.kernel.services.get("knowledge")
    hits = await service.search_hits(q.question, RERANK_HEAD)
    (asked,) = await service.index.embedder.embed([q.question])
    signals = []
    for hit in hits[:LEVER_HEAD]:
        own = [w for w in await written.of(hit) if specific(w, hit)]
        if not own:
            signals.append((0.0, 0.0))
            continue
        cosine = float((np.array(await service.index.embedder.embed(own)) @ np.array(asked)).max())
        words = set(terms(q.question))
        signals.append((cosine, max(len(words & set(terms(w))) / (len(words) or 1) for w in own)))
    return hits, signals


def hits_at(q: Question, ranked: list[Any]) -> tuple[bool, bool]:
    return bool(ranked) and q.is_hit(ranked[0].to_dict()), any(q.is_hit(h.to_dict()) for h in ranked[:3])


async def rerank_features(host: Host, query: str) -> tuple[list[Any], Any]:
    """The hybrid's 10 best for ``query`` and their features: the hybrid's signals, then the
    question ⊙ passage dense vectors."""
    import numpy as np

    service = host.kernel.services.get("knowledge")
    hits = await service.search_hits(query, RERANK_HEAD)
    (asked,) = await service.index.embedder.embed([query])
    records = await service.index.vectors.get(service.index.collection, [h.id for h in hits], with_vectors=True)
    vectors = {str(r.id): np.array(r.vectors.get("dense", np.zeros(len(asked)))) for r in records}
    return hits, np.array([np.concatenate([[h.signals.get(s, 0.0) for s in RERANK_SIGNALS], np.array(asked) * vectors[h.id]])
                           for h in hits])


def train_reranker(features: Any, labels: Any, l2: float, with_product: bool) -> Any:
    """Class-balanced logistic regression by gradient descent; returns the scoring function."""
    import numpy as np

    width = features.shape[1] if with_product else len(RERANK_SIGNALS)
    x = features[:, :width]
    mean, spread = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / spread
    balance = np.where(labels == 1, 0.5 / labels.mean(), 0.5 / (1 - labels.mean()))
    weights, bias = np.zeros(width), 0.0
    for _ in range(400):
        error = balance * (1 / (1 + np.exp(-(z @ weights + bias))) - labels)
        weights -= 0.1 * (z.T @ error / len(labels) + l2 * weights)
        bias -= 0.1 * error.mean()
    return lambda f: ((f[:, :width] - mean) / spread) @ weights


async def levers(host: Host, sets: dict[str, list[Question]], data_dir: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """Per set, hit@1 / hit@3 of the hybrid and of each lever setting (see the module's doc)."""
    import numpy as np

    written = SyntheticQuestions(host, data_dir / "doc2query.sqlite")
    results: dict[str, dict[str, tuple[float, float]]] = {}
    candidates = {name: [await doc2query_signals(host, written, q) for q in qs] for name, qs in sets.items()}
    training = [(await rerank_features(host, query), pid) for query, pid in written.pairs()]
    kept = [(features, [float(h.id == pid) for h in hits]) for (hits, features), pid in training
            if any(h.id == pid for h in hits)]
    features, labels = np.concatenate([f for f, _ in kept]), np.array([y for _, ys in kept for y in ys])
    rerankers = {f"reranker l2={l2}{' +q⊙p' if product else ''}": train_reranker(features, labels, l2, product)
                 for l2 in (0.01, 1.0) for product in (False, True)}
    for name, qs in sets.items():
        by_lever: dict[str, list[tuple[bool, bool]]] = {}
        for q, (hits, signals) in zip(qs, candidates[name]):
            by_lever.setdefault("hybrid", []).append(hits_at(q, hits))
            for kind, column in (("dense", 0), ("words", 1)):
                for weight in (0.25, 0.5, 1.0):
                    head = hits[:LEVER_HEAD]
                    order = sorted(range(len(head)), key=lambda i: -(head[i].score + weight * signals[i][column]))
                    by_lever.setdefault(f"doc2query {kind} ×{weight}", []).append(
                        hits_at(q, [head[i] for i in order] + hits[LEVER_HEAD:]))
            ranked_hits, feats = await rerank_features(host, q.question)
            for label, score in rerankers.items():
                by_lever.setdefault(label, []).append(hits_at(q, [ranked_hits[i] for i in np.argsort(-score(feats))]))
                mixed = np.array([h.score for h in ranked_hits]) + 0.1 * score(feats) / (score(feats).std() + 1e-6)
                by_lever.setdefault(label + " + hybrid", []).append(hits_at(q, [ranked_hits[i] for i in np.argsort(-mixed)]))
        results[name] = {lever: (statistics.mean(a for a, _ in v), statistics.mean(b for _, b in v)) for lever, v in by_lever.items()}
    cost = written.seconds
    results["cost"] = {"generated": (len(cost), statistics.mean(cost) if cost else 0.0),
                       "training": (len(kept), len(written.pairs()))}
    return results


def report_levers(results: dict[str, dict[str, tuple[float, float]]]) -> None:
    cost = results.pop("cost")
    print(f"\ndoc2query: {cost['generated'][0]} passages written for in this run, "
          f"{cost['generated'][1]:.1f} s each; reranker trained on {cost['training'][0]} of "
          f"{cost['training'][1]} synthetic questions (their passage among the hybrid's 10 best)")
    for name, by_lever in results.items():
        print(f"\n{name}")
        for lever, (first, top3) in by_lever.items():
            print(f"  {lever:34} {first:.2f} / {top3:.2f}")


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
               only: list[str] | None = None, hyde: bool = False, with_levers: bool = False) -> None:
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
        rewritten = {name: await hyde_side_by_side(host, qs) for name, qs in sets.items()} if hyde else None
        hyde_declined = await hyde_abstention(host, load_unanswerable()) if hyde and with_qa else None
        measured = await levers(host, sets, data_dir) if with_levers else None
    report(ingested, sets, retrieved, qa, baseline)
    if rewritten:
        report_hyde(rewritten, hyde_declined)
    if measured:
        report_levers(measured)
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
    parser.add_argument("--hyde", action="store_true",
                        help="Also measure wiki_qa's query rewriting (HyDE) beside the question (with --qa: abstention too).")
    parser.add_argument("--levers", action="store_true",
                        help="Also measure doc2query and the reranker trained on its questions (slow the first time).")
    parser.add_argument("--sets", nargs="+", choices=list(question_sets()), default=None,
                        help="Only these question sets (default: all; tune on main and dev only).")
    args = parser.parse_args()
    folder = args.data_dir or Path(tempfile.mkdtemp(prefix="lumina-bench-knowledge-"))
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(folder, args.qa, args.limit, args.crawl, args.scale, args.naive, args.sets, args.hyde, args.levers))
