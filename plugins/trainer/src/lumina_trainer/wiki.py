"""The project's wiki question set, as a second measure of an adapter: what it must not forget.

Each question of ``tests/data/wiki/questions.jsonl`` (or the file the ``wiki_questions`` setting
names) is paired with the best passage the ``knowledge`` service retrieves for it, as wiki_qa
would answer from it; the reference answer is the target. Without the knowledge service, the
file or any passage, runs are measured on their held-out split alone, and say why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lumina_core.errors import LuminaError
from lumina_trainer.datasets import Example

#: The checkout's question set (the knowledge benchmark reads the same file).
CHECKOUT_QUESTIONS = Path(__file__).resolve().parents[4] / "tests" / "data" / "wiki" / "questions.jsonl"
PROMPT = "Answer the question from this passage.\n\n{title}: {text}\n\nQuestion: {question}"


@dataclass(frozen=True)
class WikiSet:
    examples: list[Example] = field(default_factory=list)
    skipped: str | None = None


def questions_file(setting: str) -> Path:
    return Path(setting) if setting else CHECKOUT_QUESTIONS


async def wiki_set(knowledge: Any, path: Path, limit: int) -> WikiSet:
    """The first ``limit`` questions (0: all) with their retrieved passage each."""
    if not path.is_file():
        return WikiSet(skipped=f"no wiki question set at {path} (the wiki_questions setting)")
    questions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    examples = [example for q in questions[: limit or None] if (example := await _with_passage(knowledge, q))]
    return WikiSet(examples) if examples else WikiSet(skipped="the knowledge service found no passage for any wiki question")


async def reachable_wiki_set(ctx: Any, path: Path, limit: int) -> WikiSet:
    """:func:`wiki_set` through the ``knowledge`` service, or why it cannot be measured here (no
    service, a search that failed, a question line without ``question`` and ``answer``)."""
    try:
        return await wiki_set(ctx.service("knowledge"), path, limit)
    except LuminaError as exc:
        return WikiSet(skipped=exc.message)
    except (ValueError, KeyError, TypeError) as exc:
        return WikiSet(skipped=f"the wiki question set {path} is not JSONL of question and answer: {exc!r}")


async def _with_passage(knowledge: Any, question: dict[str, Any]) -> Example | None:
    hits: Sequence[dict[str, Any]] = await knowledge.search(question["question"], 1)
    if not hits:
        return None
    prompt = PROMPT.format(title=hits[0]["title"], text=hits[0]["text"], question=question["question"])
    return Example(({"role": "user", "content": prompt}, {"role": "assistant", "content": question["answer"]}))
