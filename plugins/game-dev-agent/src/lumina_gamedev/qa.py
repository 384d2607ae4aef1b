"""Questions about a project, answered with ``file:line`` citations.

The knowledge index finds the project's best chunks (hybrid BM25 + dense search in the
project's own scope); each passage found is mapped back to its chunk's exact lines through the
plugin's store, and inside each chunk the line that best answers is cited (:func:`line_score`:
the question's words in it, identifiers split and stemmed, so "jump height" meets
``jumpHeight``). Chunks are ordered by that line's score plus a little for the index's rank. The
answer is extractive: the cited lines, word for word, so it is never more wrong than the code;
with ``phrase`` the language model also words an answer from those lines alone (the citations
stay the same; a model that fails leaves the extractive answer, saying why).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from lumina_core.errors import LuminaError
from lumina_gamedev.engines import about
from lumina_gamedev.indexer import project_scope
from lumina_gamedev.outline import Chunk
from lumina_gamedev.store import Project, ProjectStore
from lumina_gamedev.terms import IDENTIFIER, line_terms, question_terms, split_identifier, stem

PHRASE_TOKENS = 48
#: Passages asked of the index per citation wanted: several passages may map to one chunk.
CANDIDATES_PER_CITATION = 4
MAX_CANDIDATES = 40
#: What the index's order adds to a chunk's score: 1.5 for its first passage, 0.75 for the
#: second ... (the line decides, the index breaks near-ties).
RANK_WEIGHT = 1.5
CODE_SUFFIXES = frozenset({".cs", ".h", ".hpp", ".cpp", ".cc"})
#: String literals and comments of code: words there count half.
PROSE = re.compile(r'"(?:[^"\\]|\\.)*"|//.*$|/\*.*?(?:\*/|$)|^\s*\*.*$')
#: An assignment operator (not ``==``, ``<=``, ``=>`` ...), and a settings key (``key: value``).
ASSIGNMENT = re.compile(r"(?<![=!<>+\-*/])[-+*/]?=(?![=>])")
SETTINGS_KEY = re.compile(r"""^\s*(?:-\s+)?["']?([\w.]+)["']?\s*:(?!:)""")
#: A question about where a value comes from: a line giving it its value is worth twice as much.
ASKS_FOR_VALUE = re.compile(r"\b(?:set|sets|assigned|initiali[sz]ed|defined|configured|default|value)\b", re.IGNORECASE)
#: A line that only names a block: ``[/Script/Engine.PhysicsSettings]``, ``PlayerSettings:``.
HEADER = re.compile(r"^\s*(?:\[[^\]]*\]|[\w.\"']+\s*:)\s*$")


@dataclass(frozen=True)
class Citation:
    chunk: Chunk
    line: int
    score: float

    @property
    def code(self) -> str:
        return self.chunk.text.splitlines()[self.line - self.chunk.start_line].strip()

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {"cite": f"{c.file}:{self.line}", "file": c.file, "line": self.line, "start_line": c.start_line,
                "end_line": c.end_line, "symbol": c.symbol, "kind": c.kind, "code": self.code,
                "snippet": c.text, "score": round(self.score, 3)}


class ProjectQA:
    def __init__(self, store: ProjectStore, knowledge: Callable[[], Any], llm: Callable[[], Any]) -> None:
        self.store = store
        self.knowledge = knowledge
        self.llm = llm

    async def citations(self, project: Project, question: str, k: int = 3) -> list[Citation]:
        """The ``k`` best places in the project for ``question``, best first."""
        scope = await project_scope(self.knowledge(), project)
        hits = await scope.search(question, min(k * CANDIDATES_PER_CITATION, MAX_CANDIDATES))
        terms = question_terms(question)
        value_weight = 2.0 if ASKS_FOR_VALUE.search(question) else 1.0
        found: dict[tuple[str, int], Citation] = {}
        for rank, hit in enumerate(hits):
            chunk = self.store.chunk(project.id, hit["title"], hit["section"])
            if chunk is not None and (chunk.file, chunk.start_line) not in found:
                line, score = best_line(chunk, terms, value_weight)
                found[(chunk.file, chunk.start_line)] = Citation(
                    chunk, line, score + chunk_score(chunk, terms) + RANK_WEIGHT / (1 + rank))
        return sorted(found.values(), key=lambda c: -c.score)[:k]

    async def ask(self, project: Project, question: str, k: int = 3, *, phrase: bool = False) -> dict[str, Any]:
        citations = await self.citations(project, question, k)
        answer = {"question": question, "answer": answer_text(citations), "mode": "extractive",
                  "citations": [c.to_dict() for c in citations]}
        if phrase and citations:
            try:
                result = await self.llm().chat(phrasing_prompt(question, citations), max_tokens=PHRASE_TOKENS,
                                               temperature=0.0)
            except LuminaError as exc:
                return {**answer, "phrasing_error": exc.message}
            if result.text.strip():
                answer.update(answer=result.text.strip(), mode="phrased", model=result.model,
                              extractive_answer=answer["answer"])
        return answer


def best_line(chunk: Chunk, terms: set[str], value_weight: float = 1.0) -> tuple[int, float]:
    """``(line number, score)`` of the chunk's line that best answers the question; the chunk's
    first line when none shares a word with it."""
    is_code = PurePosixPath(chunk.file).suffix.lower() in CODE_SUFFIXES
    best, best_score = chunk.start_line, 0.0
    for number, line in enumerate(chunk.text.splitlines(), start=chunk.start_line):
        score = line_score(line, terms, is_code=is_code, value_weight=value_weight)
        if score > best_score:
            best, best_score = number, score
    return best, best_score


def line_score(line: str, terms: set[str], *, is_code: bool = True, value_weight: float = 1.0) -> float:
    """How well one line answers: each question word in it counts 1 (½ in a string or a comment
    of code); one identifier holding two or more of them (``jumpHeight``) adds 1, and the line
    giving it a value (``jumpHeight = 2.5f``, ``productName: Sky Hopper``) adds ``value_weight``
    (2 for "where is X set?"). A line that only names a block counts half."""
    prose = " ".join(PROSE.findall(line)) if is_code else ""
    code = PROSE.sub(" ", line) if is_code else line
    in_code = terms & line_terms(code)
    in_prose = (terms & line_terms(prose)) - in_code
    compound = any(len(terms & {stem(w) for w in split_identifier(i)}) >= 2 for i in IDENTIFIER.findall(code))
    sets = bool(terms & line_terms(assigned_name(code)))
    score = len(in_code) + 0.5 * len(in_prose) + float(compound) + value_weight * sets
    return score / 2 if HEADER.match(line) else score


def chunk_score(chunk: Chunk, terms: set[str]) -> float:
    """What a chunk earns beyond its best line: 1 when the question names its member (``Fire``
    for "what happens when the player fires?"), ½ per question word in what its file holds
    (``InputManager.asset``: "... the keys bound to each")."""
    member = re.split(r"[.:]", chunk.symbol)[-1] if chunk.kind in {"method", "function", "constructor"} else ""
    named = bool(member) and {stem(w) for w in split_identifier(member)} <= terms
    return float(named) + 0.5 * len(terms & line_terms(about(chunk.file)))


def assigned_name(code: str) -> str:
    """The name a line gives a value to: ``Movement()->JumpZVelocity = 720.f`` → ``JumpZVelocity``;
    "" when it gives none (a bare ``key:`` heads a block)."""
    if match := ASSIGNMENT.search(code):
        names = IDENTIFIER.findall(code[: match.start()])
        return names[-1] if names and code[match.end() :].strip() else ""
    key = SETTINGS_KEY.match(code)
    return key.group(1) if key and code[key.end() :].strip() else ""


def phrasing_prompt(question: str, citations: Sequence[Citation]) -> list[dict[str, str]]:
    lines = "\n".join(f"[{c.chunk.file}:{c.line}] {c.code}" for c in citations)
    return [
        {"role": "system", "content": "You answer questions about a game's code in one or two sentences, only from "
                                      "the lines given, and name the file:line of the line you use."},
        {"role": "user", "content": f"Lines:\n{lines}\nQuestion: {question}"},
    ]


def answer_text(citations: Sequence[Citation]) -> str:
    if not citations:
        return "Nothing in this project's index matches the question; is the project indexed (see its status)?"
    first, *others = citations
    text = f"{first.chunk.file}:{first.line}, in {first.chunk.symbol}: `{first.code}`"
    if others:
        text += ". See also " + "; ".join(f"{c.chunk.file}:{c.line} (`{c.code}`)" for c in others)
    return text + "."
