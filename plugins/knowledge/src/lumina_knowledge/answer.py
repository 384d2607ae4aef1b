"""MasterChat wiki_qa: answers only from retrieved passages, with cite ids, or "I don't know".

The pipeline is built so that a 135M model answers well: retrieval finds passages; the
answer-bearing sentences are selected extractively (question terms they cover, weighted by
rarity, plus the kind of fact the question asks for: a date for "when", a number for "how
many"...); when the best sentences score alike, the model re-reads them, preferring the one after
which it finds the question likeliest; the model only phrases a short answer from the best
sentence; and the phrase is checked against it: a phrase with words the evidence does not
contain is dropped for the evidence sentence itself. When the best evidence is far from the
question in words and in meaning, or shares its words but not its meaning, the answer is that
the knowledge base does not know, and the question is recorded as a knowledge gap.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lumina_core.errors import Unavailable
from lumina_knowledge.retrieval import SearchHit
from lumina_knowledge.text import sentences, term_index, terms

PASSAGES = 5
EVIDENCE_SENTENCES = 2
#: Below this confidence (the share of the question's IDF-weighted terms in the best sentence, or
#: its passage's or its own closeness in meaning), we do not know.
MIN_CONFIDENCE = 0.45
#: Nor when the best sentence, read with its title, is this far in meaning from the question
#: (dense cosine): its words match but it is about something else ("Who is the president of
#: Mars?" against "Astronaut: … a human mission to Mars", 0.41). Set below every right answer of
#: the main and natural sets and all but two of reworded dev, see ``docs/knowledge.md``.
MIN_CLOSENESS = 0.45
#: An answer given with less confidence than this is given, and its question is still noted as a
#: gap (source ``low_confidence``): the planner may find a passage that answers it squarely.
LOW_CONFIDENCE = 0.6
SUPPORT_NEEDED = 1.0
ANSWER_TOKENS = 24
#: Reading a prompt is most of the model's time, so it is asked only when the evidence sentence
#: is long enough to need shortening.
SHORT_SENTENCE_WORDS = 20
FOCUS_WORDS = 32
UNKNOWN = "I don't know: the knowledge base has nothing that answers this yet. I noted the question as a gap to fill."
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b|\b\d{1,4}\s?(BC|AD|BCE|CE)\b")
_NUMBER = re.compile(r"\d")
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_QUESTION_KIND = (
    ("when", _YEAR), ("what year", _YEAR), ("how many", _NUMBER), ("how much", _NUMBER), ("how long", _NUMBER),
    ("how old", _NUMBER), ("who", _NAME), ("where", _NAME), ("which", _NAME),
)
KIND_BONUS = 0.1
RANK_BONUS = 0.1
LEXICAL_SHARE = 0.5
SENTENCE_PASSAGES = 5
#: The best evidence sentences the model re-reads, scoring how likely it finds the question
#: given each (UPR, Sachan et al., EMNLP 2022, on sentences), and that likelihood's weight (per
#: token) in their score: words and embeddings miss that "retook Luanda in 1648" answers "who
#: took Luanda back", the model does not. See ``docs/knowledge.md`` for the figures.
REREAD_SENTENCES = 2
QUESTION_LIKELIHOOD = 0.2
#: Only a sentence this close to the best is re-read: the likelihood seldom moves a score by
#: more, and each sentence costs the embedded model about 0.25 s (a third sentence gained nothing
#: measurable and cost 0.27 s more at p95).
REREAD_MARGIN = 0.1
#: HyDE (the ``hyde`` setting): the model's guessed answer, this many tokens at most, is searched
#: beside the question. Wrong guesses still help ("The physicist behind relativity was Albert
#: Einstein" finds his birthplace); each costs the embedded model about 1.2–1.5 s here.
HYPOTHESIS_TOKENS = 40


@dataclass(frozen=True)
class Evidence:
    sentence: str
    hit: SearchHit
    score: float
    coverage: float
    #: The sentence's dense cosine to the question (the best ones' read with their title).
    closeness: float = 1.0

    @property
    def confidence(self) -> float:
        """How sure the evidence answers: its share of the question's terms, or, when the words
        differ (eat / subsists on), how close its passage or itself is in meaning ("The Trent
        Affair of late 1861 threatened war with Great Britain" covers 32 % of "Which 1861 incident
        involving a British ship nearly caused a war between the US and Britain?", 0.60 close)."""
        return max(self.coverage, self.hit.signals.get("dense", 0.0), self.closeness)


@dataclass
class Answer:
    answer: str
    cite_ids: list[str]
    confidence: float
    sources: list[dict[str, str]]
    evidence: list[str] = field(default_factory=list)
    method: str = "unknown"
    #: The model's guessed answer searched beside the question (the ``hyde`` setting), else "".
    hypothesis: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "cite_ids": self.cite_ids, "confidence": round(self.confidence, 4),
                "sources": self.sources, "evidence": self.evidence, "method": self.method,
                "hypothesis": self.hypothesis}


class WikiQA:
    """Question → passages → evidence sentences → phrased, checked answer."""

    def __init__(self, knowledge: Any, llm: Any, *, hyde: bool = False) -> None:
        self.knowledge = knowledge
        self.llm = llm
        self.hyde = hyde

    async def evidence(self, question: str, hypothesis: str = "") -> list[Evidence]:
        hits = await self.knowledge.search_hits(question, PASSAGES, hypothesis=hypothesis)
        weights = self.knowledge.index.stats.query_weights(question)
        candidates = [(hit, sentence) for hit in hits[:SENTENCE_PASSAGES] for sentence in sentences(hit.text)]
        vectors = await self.knowledge.index.embedder.embed([question, *(s for _, s in candidates)])
        similarity = {id(c): _dot(vectors[0], v) for c, v in zip(candidates, vectors[1:])}
        found = select_evidence(question, candidates, weights, lambda c: similarity[id(c)], hits)
        return await self._read_with_title(found, vectors[0])

    async def guess(self, question: str) -> str:
        """What wiki_qa searches with beside the question: the model's guessed answer with the
        ``hyde`` setting, else nothing."""
        return await self.hypothesis(question) if self.hyde else ""

    async def hypothesis(self, question: str) -> str:
        """The model's short guess at the answer, to search with; "" when no model answers (the
        question alone is searched then)."""
        prompt = [{"role": "user", "content": f"Answer in one short sentence: {question}"}]
        try:
            result = await self.llm.chat(prompt, max_tokens=HYPOTHESIS_TOKENS, temperature=0.0)
        except Unavailable:
            return ""
        return result.text.strip()

    async def _reread(self, question: str, found: list[Evidence]) -> list[Evidence]:
        """The best sentences reordered by how well each explains the question to the model; as
        they were when one stands clear of the others or the model cannot score a given text (a
        server's)."""
        close = [e for e in found[:REREAD_SENTENCES] if e.score >= found[0].score - REREAD_MARGIN]
        if len(close) < 2:
            return found
        reread: list[Evidence] = []
        for evidence in close:
            likelihood = await self.llm.loglikelihood(_question_prompt(evidence), f" {question}")
            if likelihood is None:
                return found
            reread.append(replace(evidence, score=evidence.score + QUESTION_LIKELIHOOD * likelihood.per_token))
        return sorted(reread, key=lambda e: -e.score) + found[len(close):]

    async def _read_with_title(self, found: list[Evidence], question_vector: Sequence[float]) -> list[Evidence]:
        """The closeness of the sentences that may be answered (the best, and those re-reading may
        put first) read with their article's title, as a reader would: "it subsists on ants and
        termites" is about the aardvark only next to the title (0.16 alone)."""
        head = found[:REREAD_SENTENCES]
        if not head:
            return found
        vectors = await self.knowledge.index.embedder.embed([f"{e.hit.title}: {e.sentence}" for e in head])
        return [replace(e, closeness=_dot(question_vector, v)) for e, v in zip(head, vectors)] + found[len(head):]

    async def _weighed_evidence(self, question: str, hypothesis: str) -> tuple[list[Evidence], str | None]:
        """The evidence in the order it is answered from, or why it does not answer. Whether we
        know is decided on the first choice; only then does the model re-read close sentences."""
        found = await self.evidence(question, hypothesis)
        if reason := doubt(found):
            return found, reason
        return await self._reread(question, found), None

    async def assess(self, question: str) -> dict[str, Any]:
        """Whether the knowledge base answers ``question`` now, without answering it or noting a
        gap (a planner checking that a crawl filled one): known or why not, and what it would cite."""
        found = await self.evidence(question, await self.guess(question))
        reason = doubt(found)
        return {"known": reason is None, "reason": reason,
                "confidence": round(found[0].confidence, 4) if found else 0.0,
                "cite_ids": [] if reason else _cite_ids(found), "sources": [] if reason else _sources(found)}

    async def answer(self, question: str, *, user_id: str) -> Answer:
        hypothesis = await self.guess(question)
        found, reason = await self._weighed_evidence(question, hypothesis)
        if reason:
            return await self._unknown(question, found, user_id, reason, hypothesis)
        phrase = "" if _short(found[0].sentence) else await self._phrase(question, found)
        return await self._noted(question, _checked(question, phrase, found), user_id, hypothesis)

    async def stream(self, question: str, *, user_id: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """SSE-ready events: ``context`` (sources), ``token`` (the model's text), ``done`` (checked)."""
        hypothesis = await self.guess(question)
        found, reason = await self._weighed_evidence(question, hypothesis)
        if reason:
            yield "done", (await self._unknown(question, found, user_id, reason, hypothesis)).to_dict()
            return
        yield "context", {"sources": _sources(found), "cite_ids": _cite_ids(found), "hypothesis": hypothesis}
        pieces: list[str] = []
        if _short(found[0].sentence):
            yield "done", (await self._noted(question, _checked(question, "", found), user_id, hypothesis)).to_dict()
            return
        finish = None
        async for chunk in self.llm.stream(_prompt(question, found), max_tokens=ANSWER_TOKENS, temperature=0.0,
                                           stop=["\n"]):
            finish = chunk.finish_reason or finish
            if chunk.text:
                pieces.append(chunk.text)
                yield "token", {"text": chunk.text}
        answer = _checked(question, _finished("".join(pieces), finish), found)
        yield "done", (await self._noted(question, answer, user_id, hypothesis)).to_dict()

    async def _phrase(self, question: str, found: Sequence[Evidence]) -> str:
        result = await self.llm.chat(_prompt(question, found), max_tokens=ANSWER_TOKENS, temperature=0.0, stop=["\n"])
        return _finished(result.text, result.finish_reason)

    async def _unknown(self, question: str, found: Sequence[Evidence], user_id: str, reason: str,
                       hypothesis: str) -> Answer:
        confidence = found[0].confidence if found else 0.0
        await self.knowledge.record_gap(question, user_id=user_id, confidence=confidence, reason=reason)
        return Answer(UNKNOWN, [], confidence, [], method="unknown", hypothesis=hypothesis)

    async def _noted(self, question: str, answer: Answer, user_id: str, hypothesis: str) -> Answer:
        """The answer as it is, announced on the bus; a low-confidence one also leaves its
        question as a gap."""
        if answer.confidence < LOW_CONFIDENCE:
            reason = f"answered with low confidence ({answer.confidence:.2f}) from {answer.sources[0]['title']}"
            await self.knowledge.record_gap(question, user_id=user_id, confidence=answer.confidence, reason=reason,
                                            source="low_confidence")
        answer = replace(answer, hypothesis=hypothesis)
        await self.knowledge.answered(question, answer.to_dict(), user_id=user_id)
        return answer


def select_evidence(
    question: str,
    candidates: Sequence[tuple[SearchHit, str]],
    weights: dict[int, float],
    similarity: Callable[[tuple[SearchHit, str]], float],
    hits: Sequence[SearchHit],
) -> list[Evidence]:
    """The candidate sentences, best first. A sentence is read with its article's title (``it``
    in a sentence is usually the title's subject); its score mixes the IDF-weighted share of the
    question's terms it covers, its meaning's closeness to the question (dense cosine), a bonus
    when it holds the kind of fact asked for, and a small prior for its passage's rank."""
    total = sum(weights.values()) or 1.0
    pattern = _expected_fact(question)
    asked = {term_index(t) for t in terms(question)}
    rank_of = {hit.id: rank for rank, hit in enumerate(hits)}
    scored: list[Evidence] = []
    for candidate in candidates:
        hit, sentence = candidate
        present = {term_index(t) for t in terms(f"{hit.title} {sentence}")}
        coverage = sum(w for i, w in weights.items() if i in present) / total
        kind = KIND_BONUS if pattern and _has_new_fact(sentence, pattern, asked) else 0.0
        closeness = similarity(candidate)
        score = LEXICAL_SHARE * coverage + (1 - LEXICAL_SHARE) * closeness + kind
        scored.append(Evidence(sentence, hit, score + RANK_BONUS / (1 + rank_of[hit.id]), coverage, closeness))
    scored.sort(key=lambda e: -e.score)
    return scored


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b))


def supported(question: str, phrase: str, found: Sequence[Evidence]) -> bool:
    """The phrase adds something to the question, and all it adds is said by the best evidence
    sentence: no word from elsewhere, and the asked kind of fact (a year, a number...) when the
    evidence has one. Anything else is a guess, and the evidence sentence is answered instead."""
    best = found[0]
    known = {*terms(question), *terms(best.hit.title)}
    added = [t for t in terms(phrase) if t not in known]
    if not added:
        return False
    evidence = set(terms(best.sentence))
    if sum(t in evidence for t in added) / len(added) < SUPPORT_NEEDED:
        return False
    pattern = _expected_fact(question)
    if pattern is None or not _has_new_fact(best.sentence, pattern, {term_index(t) for t in known}):
        return True
    return any(match.group(0) in best.sentence for match in pattern.finditer(phrase))


def _checked(question: str, phrase: str, found: Sequence[Evidence]) -> Answer:
    best = found[:EVIDENCE_SENTENCES]
    phrase = phrase.strip().strip('"').strip()
    if supported(question, phrase, found):
        text, method = phrase, "phrased"
    else:
        text, method = best[0].sentence, "extractive"
    return Answer(text, _cite_ids(found), best[0].confidence, _sources(found), [e.sentence for e in best], method)


def _finished(phrase: str, finish_reason: str | None) -> str:
    """The phrase, or nothing when the token limit cut it off: a sentence stopped midway ("his last
    two films were produced in Italy" before the title) may have lost the very fact asked for."""
    return "" if finish_reason == "length" else phrase


def _short(sentence: str) -> bool:
    """A sentence this short already is a short answer: phrasing it would only cost time."""
    return len(sentence.split()) <= SHORT_SENTENCE_WORDS


def doubt(found: Sequence[Evidence]) -> str | None:
    """Why the evidence does not answer the question, or None when it does."""
    if not found:
        return "no passage matches"
    best = found[0]
    if best.confidence < MIN_CONFIDENCE:
        return (f"best evidence covers {best.coverage:.0%} of the question and is far from it in meaning "
                f"(closeness {best.closeness:.2f})")
    if best.closeness < MIN_CLOSENESS:
        return (f"best evidence matches the question's words or topic but not its meaning "
                f"(closeness {best.closeness:.2f})")
    return None


def _prompt(question: str, found: Sequence[Evidence]) -> list[dict[str, str]]:
    """Only the best sentence (the check accepts nothing else), and of a long one only the part
    around the question's words: a short prompt is fast, and a fact cut off by the window makes
    the check fall back to the whole sentence, so nothing is lost."""
    evidence = focus(found[0].sentence, question)
    return [
        {"role": "system", "content": "Answer in one short sentence from the text."},
        {"role": "user", "content": f"Text: {evidence}\nQuestion: {question}"},
    ]


def _question_prompt(evidence: Evidence) -> str:
    """UPR's prompt: the question the model would write for this sentence is the one it scores."""
    passage = f"{evidence.hit.title}: {evidence.sentence}"
    return f"Passage: {passage}\nPlease write a question based on this passage.\nQuestion:"


def focus(sentence: str, question: str) -> str:
    """The FOCUS_WORDS-word window of a long sentence holding most of the question's terms,
    centred on them."""
    words = sentence.split()
    if len(words) <= FOCUS_WORDS:
        return sentence
    asked = set(terms(question))
    present = [bool(asked & set(terms(word))) for word in words]
    starts = range(len(words) - FOCUS_WORDS + 1)
    best = max(starts, key=lambda start: (sum(present[start : start + FOCUS_WORDS]), -start))
    hits = [i for i in range(best, best + FOCUS_WORDS) if present[i]] or [best + FOCUS_WORDS // 2]
    centred = min(max(sum(hits) // len(hits) - FOCUS_WORDS // 2, 0), len(words) - FOCUS_WORDS)
    return " ".join(words[centred : centred + FOCUS_WORDS])


def _cite_ids(found: Sequence[Evidence]) -> list[str]:
    return list(dict.fromkeys(e.hit.id for e in found[:EVIDENCE_SENTENCES]))


def _sources(found: Sequence[Evidence]) -> list[dict[str, str]]:
    cited = dict.fromkeys(e.hit.id for e in found[:EVIDENCE_SENTENCES])
    hits = {e.hit.id: e.hit for e in found}
    return [{"id": i, "title": hits[i].title, "url": hits[i].url} for i in cited]


def _expected_fact(question: str) -> re.Pattern[str] | None:
    lowered = question.lower()
    return next((pattern for cue, pattern in _QUESTION_KIND if lowered.startswith(cue) or f" {cue} " in lowered), None)


def _has_new_fact(sentence: str, pattern: re.Pattern[str], asked: set[int]) -> bool:
    """The sentence holds a fact of the asked kind that is not just a word of the question."""
    for match in pattern.finditer(sentence):
        if not {term_index(t) for t in terms(match.group(0))} <= asked:
            return True
    return False
