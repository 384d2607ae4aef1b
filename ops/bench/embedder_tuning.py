"""The passage embedder fine-tuned on the index's own passages, beside the packaged one (issue 16).

The last lever the issue names for questions worded away from the text: all-MiniLM-L6-v2
fine-tuned on pairs made from the corpus itself, then exported to int8 ONNX and served by the
embedded embedder (``LUMINA_EMBEDDER_MODEL``), measured side by side with the packaged model on
one excerpt, every retrieval mode, every question set.

By default the pairs need no model to write them (SmolLM2-135M's questions mostly copy their
passage or ask about "the text", ``docs/knowledge.md``): each passage is asked for by one of its
own sentences, with the article's title words and a share of the other words dropped (a question
names less than the sentence that answers it), and a batch holds several passages of the same
article, so the in-batch negatives (multiple-negatives ranking loss, as sentence-transformers
trains this model) teach it to tell an article's passages apart: the reworded questions' usual
miss is the right article's wrong passage. ``--pairs unseen`` trains another model without the
test split's 14 articles, to show whether a gain needs the article in training; ``--pairs
doc2query`` one on the questions the embedded model writes for ``--doc2query`` passages drawn at
random (the issue's wording of the lever; seconds a passage to write, cached by the passage's text).

    PYTHONPATH=. .venv/bin/python -u -m ops.bench.embedder_tuning          # ~25 min on 2 cores
    PYTHONPATH=. .venv/bin/python -u -m ops.bench.embedder_tuning --pairs sentences doc2query --doc2query 600

Needs torch, transformers and onnx (the trainer's ``train`` extra and the project's ``bench`` extra:
``make install`` installs both).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lumina_core.services.model_files import MINILM_TOKENIZER
from lumina_core.testing import Host, host_settings, running_host
from ops.bench.knowledge import MODES, Question, SyntheticQuestions, ingest, question_sets, retrieval, specific

SETS = ("main", "natural", "reworded dev", "reworded held-out", "reworded test")
#: The share of a sentence's words dropped to make its question, passages of one article per batch,
#: pairs per batch, learning rate and the loss's scale (sentence-transformers' default, 20).
DROP, PER_ARTICLE, BATCH, LEARNING_RATE, SCALE = 0.3, 8, 32, 3e-5, 20.0
QUERY_TOKENS, PASSAGE_TOKENS = 64, 256
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


async def stored_passages(host: Host) -> list[dict[str, Any]]:
    """Every passage of the host's knowledge index: its title and the text search embeds."""
    from lumina_knowledge.backfill import indexed_text

    index = host.kernel.services.get("knowledge").index
    found: list[dict[str, Any]] = []
    offset = None
    while True:
        records, offset = await index.vectors.scroll(index.collection, limit=256, offset=offset)
        found += [{"id": str(r.id), "title": r.payload["title"], "section": tuple(r.payload.get("section", ())),
                   "text": r.payload["text"], "indexed": indexed_text(r.payload)} for r in records]
        if offset is None:
            return found


def training_pairs(passages: Sequence[dict[str, Any]], exclude: frozenset[str] = frozenset(),
                   seed: int = 0) -> list[tuple[str, str]]:
    """(pseudo-question, passage text) pairs made from each passage's own sentences."""
    rnd = random.Random(seed)
    by_article: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for passage in passages:
        sentences = [s for s in _SENTENCE.split(passage["text"].replace("\n", " ")) if 6 <= len(s.split()) <= 40]
        if passage["title"] not in exclude and sentences:
            question = _worded_away(rnd.choice(sentences), passage["title"], rnd)
            by_article[passage["title"]].append((question, passage["indexed"]))
    return _grouped(by_article, rnd)


async def model_written_pairs(folder: Path, passages: Sequence[dict[str, Any]], count: int) -> list[tuple[str, str]]:
    """(question, passage text) for the specific questions the embedded model writes for
    ``count`` passages drawn at random (doc2query's, cached in ``<folder>/doc2query.sqlite``)."""
    rnd = random.Random(0)
    by_article: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    async with running_host(host_settings(folder / "packaged", ["knowledge", "crawler"], rate_limit="")) as host:
        written = SyntheticQuestions(host, folder / "doc2query.sqlite")
        drawn = list(passages)
        rnd.shuffle(drawn)  # the same first ones for any count: a larger run reuses a smaller one's
        for passage in drawn[:count]:
            hit = SimpleNamespace(id=passage["id"], title=passage["title"], section=passage["section"], text=passage["text"])
            by_article[passage["title"]] += [(q, passage["indexed"]) for q in await written.of(hit) if specific(q, hit)]
    if written.seconds:
        print(f"doc2query: {statistics.mean(written.seconds):.2f} s a passage to write "
              f"({len(written.seconds)} written now)", flush=True)
    return _grouped(by_article, rnd)


def _grouped(by_article: dict[str, list[tuple[str, str]]], rnd: random.Random) -> list[tuple[str, str]]:
    """The pairs in runs of PER_ARTICLE from one article, the runs shuffled."""
    groups: list[list[tuple[str, str]]] = []
    for pairs in by_article.values():
        rnd.shuffle(pairs)
        groups += [pairs[start:start + PER_ARTICLE] for start in range(0, len(pairs), PER_ARTICLE)]
    rnd.shuffle(groups)
    return [pair for group in groups for pair in group]


def _worded_away(sentence: str, title: str, rnd: random.Random) -> str:
    """The sentence without its article's title words and without a DROP share of the rest."""
    title_words = {w.lower() for w in re.findall(r"\w+", title)}
    words = [w for w in sentence.split() if re.sub(r"\W", "", w).lower() not in title_words]
    return " ".join([w for w in words if rnd.random() > DROP] or words)


def fine_tune(pairs: Sequence[tuple[str, str]], epochs: int = 1) -> tuple[Any, Any]:
    """all-MiniLM-L6-v2 (the packaged PyTorch weights) trained on ``pairs``; (model, tokenizer)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    folder = MINILM_TOKENIZER.locate().parent
    tokenizer, model = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder)
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    steps = epochs * (len(pairs) // BATCH)
    warm = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda i: min(1.0, (i + 1) / warm) * max(0.0, 1 - i / steps))
    model.train()
    started = time.perf_counter()
    for step in range(steps):
        batch = pairs[(step * BATCH) % len(pairs):][:BATCH]
        questions = _pooled(model, tokenizer, [q for q, _ in batch], QUERY_TOKENS)
        passages = _pooled(model, tokenizer, [p for _, p in batch], PASSAGE_TOKENS)
        loss = torch.nn.functional.cross_entropy(SCALE * questions @ passages.T, torch.arange(len(batch)))
        loss.backward()
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        if (step + 1) % 20 == 0:
            print(f"  step {step + 1}/{steps}: loss {loss.item():.3f}, {time.perf_counter() - started:.0f} s", flush=True)
    return model.eval(), tokenizer


def _pooled(model: Any, tokenizer: Any, texts: list[str], max_tokens: int) -> Any:
    """Mean-pooled, normalised sentence vectors, as the embedded embedder computes them."""
    import torch

    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)


def export(model: Any, folder: Path) -> Path:
    """The model as int8 ONNX in ``folder``, with the tokenizer and config the embedder reads."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    folder.mkdir(parents=True, exist_ok=True)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = torch.ones((2, 8), dtype=torch.long)
    full = folder / "model-fp32.onnx"
    torch.onnx.export(LastHiddenState(), (example, example, torch.zeros_like(example)), str(full),
                      input_names=names, output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                      dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]})
    quantize_dynamic(str(full), str(folder / "model.onnx"), weight_type=QuantType.QInt8)
    full.unlink()
    shutil.copy(MINILM_TOKENIZER.locate(), folder / "tokenizer.json")
    (folder / "config.json").write_text(json.dumps({"hidden_size": model.config.hidden_size}))
    return folder


async def measured(data_dir: Path, sets: dict[str, list[Question]], model: Path | None = None,
                   ) -> tuple[dict[str, dict[str, dict[str, float]]], list[dict[str, Any]]]:
    """Every mode on every set with the packaged embedder (``model`` None) or a model folder;
    also the index's passages."""
    settings = host_settings(data_dir, ["knowledge", "crawler"], rate_limit="", embedder_model=model)
    async with running_host(settings) as host:
        await ingest(host)
        await host.kernel.services.get("knowledge").index.backfill.drained()
        return {name: await retrieval(host, sets[name]) for name in SETS}, await stored_passages(host)


def report(arms: dict[str, dict[str, dict[str, dict[str, float]]]], sets: dict[str, list[Question]]) -> None:
    names = list(arms)
    print("\nhit@1 / hit@3, a hit is a passage of the right article containing the answer")
    print(f"{'set':28} {'mode':7} " + " ".join(f"{n:>22}" for n in names))
    for name in SETS:
        for mode in MODES:
            cells = " ".join(f"{arms[a][name][mode]['hit@1']:>14.2f} / {arms[a][name][mode]['hit@3']:.2f}" for a in names)
            print(f"{f'{name} ({len(sets[name])})':28} {mode:7} {cells}")
    print("\nhybrid search p50 ms: " + ", ".join(f"{a} {arms[a]['main']['hybrid']['p50_ms']:.1f}" for a in names))


async def main(folder: Path, epochs: int, pair_kinds: Sequence[str], doc2query: int) -> None:
    sets = question_sets()
    arms: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    arms["packaged"], passages = await measured(folder / "packaged", sets)
    trainings: list[tuple[str, list[tuple[str, str]]]] = []
    if "sentences" in pair_kinds:
        trainings.append(("tuned", training_pairs(passages)))
    if "unseen" in pair_kinds:
        unseen = frozenset(q.title for q in sets["reworded test"])
        trainings.append(("tuned, test articles unseen", training_pairs(passages, unseen)))
    if "doc2query" in pair_kinds:
        trainings.append(("tuned on doc2query", await model_written_pairs(folder, passages, doc2query)))
    for arm, pairs in trainings:
        print(f"{arm}: {len(pairs)} pairs, e.g. {pairs[0][0]!r}", flush=True)
        started = time.perf_counter()
        model, _ = fine_tune(pairs, epochs)
        model_dir = export(model, folder / ("minilm-" + re.sub(r"\W+", "-", arm)))
        print(f"{arm}: trained and exported in {time.perf_counter() - started:.0f} s", flush=True)
        arms[arm], _ = await measured(folder / f"index-{model_dir.name}", sets, model_dir)
    report(arms, sets)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="Keep the indexes and models here.")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--pairs", nargs="+", choices=("sentences", "unseen", "doc2query"), default=["sentences"],
                        help="What to train on, one model each: the passages' own sentences; the same without "
                             "the test split's articles; questions the embedded model writes (slow).")
    parser.add_argument("--doc2query", type=int, default=600, help="Passages the embedded model writes questions for.")
    args = parser.parse_args()
    folder = args.data_dir or Path(tempfile.mkdtemp(prefix="lumina-bench-embedder-"))
    asyncio.run(main(folder, args.epochs, args.pairs, args.doc2query))
