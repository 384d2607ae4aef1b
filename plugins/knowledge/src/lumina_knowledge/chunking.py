"""Articles → sections → passages of about 150–250 words, each knowing its title and section.

A passage never crosses a section boundary, so its section path stays true. Sentences are
packed greedily up to the target; a short tail is folded into the passage before it rather than
left as a scrap. The indexed text of a passage starts with its title and section path (the
retrieval lever measured in ``docs/knowledge.md``), the shown text does not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lumina_knowledge.text import sentence_lines

TARGET_WORDS = 200
MAX_WORDS = 250
MIN_TAIL_WORDS = 60
MIN_WORDS = 150
#: How articles are cut, as a number: part of each article's fingerprint, so an article indexed
#: under an older cut is cut again the next time it is fed (passages whose text comes out the
#: same keep their dense vectors). Bump it whenever the passages would come out differently.
CUT_VERSION = 2
_NAMESPACE = uuid.UUID("6f1c5b8e-3c1e-4b0a-9a57-1d2e0c4b9f10")


@dataclass(frozen=True)
class Passage:
    id: str
    article_id: str
    title: str
    section: tuple[str, ...]
    position: int
    text: str
    url: str = ""
    #: The article's metadata with its section's on top (a file's id, a page number ...).
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def section_label(self) -> str:
        return " > ".join(self.section)

    @property
    def indexed_text(self) -> str:
        """What search sees: the title and section path, then the text."""
        heading = self.title + (f" — {self.section_label}" if self.section else "")
        return f"{heading}: {self.text}"

    def payload(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "section": list(self.section),
            "position": self.position,
            "text": self.text,
            "url": self.url,
            **({"metadata": dict(self.metadata)} if self.metadata else {}),
            **(extra or {}),
        }


def passage_id(article_id: str, position: int) -> str:
    """A UUID (what the vector store takes) derived from the article and the position."""
    return str(uuid.uuid5(_NAMESPACE, f"{article_id}#{position}"))


def passages(article: Mapping[str, Any]) -> list[Passage]:
    """Cut an article ``{"id", "title", "url", "metadata", "sections": [{"path", "text", "metadata"}]}``
    into passages; each passage keeps the article's metadata with its section's on top."""
    found: list[Passage] = []
    for section in article.get("sections", []):
        path = tuple(section.get("path", ()))
        metadata = {**article.get("metadata", {}), **section.get("metadata", {})}
        for text in pack(sentence_lines(section.get("text", ""))):
            position = len(found)
            found.append(Passage(passage_id(article["id"], position), article["id"], article["title"],
                                 path, position, text, article.get("url", ""), metadata))
    return found


def pack(sentence_list: Sequence[str]) -> list[str]:
    """Group sentences into chunks of about TARGET_WORDS and at most MAX_WORDS (a longer sentence
    is cut at MAX_WORDS); a short last chunk is settled with the one before it. A sentence ending
    in ``"\n"`` (the end of its line, see :func:`~lumina_knowledge.text.sentence_lines`) keeps
    the line break in the chunk; the others are joined by a space."""
    chunks: list[list[str]] = []
    current: list[str] = []
    count = 0
    for sentence in _bounded(sentence_list):
        size = len(sentence.split())
        if current and (count + size > MAX_WORDS or count >= TARGET_WORDS):
            chunks.append(current)
            current, count = [], 0
        current.append(sentence)
        count += size
    if current:
        chunks.append(current)
    if len(chunks) > 1 and _words(chunks[-1]) < MIN_TAIL_WORDS:
        _settle_tail(chunks)
    return ["".join(s if s.endswith("\n") else f"{s} " for s in chunk).strip() for chunk in chunks]


def _settle_tail(chunks: list[list[str]]) -> None:
    """Fold a short last chunk into the one before when both fit, else move sentences over to it
    while the one before keeps at least MIN_WORDS."""
    previous, tail = chunks[-2], chunks[-1]
    if _words(previous) + _words(tail) <= MAX_WORDS:
        previous.extend(chunks.pop())
        return
    while len(previous) > 1 and _words(tail) < MIN_TAIL_WORDS and _words(previous[:-1]) >= MIN_WORDS:
        tail.insert(0, previous.pop())


def _bounded(sentence_list: Iterable[str]) -> Iterable[str]:
    """Each sentence, a longer one than MAX_WORDS cut into pieces; a line's end stays with its
    last piece."""
    for sentence in sentence_list:
        tokens = sentence.split()
        pieces = [" ".join(tokens[start : start + MAX_WORDS]) for start in range(0, len(tokens), MAX_WORDS)]
        if pieces and sentence.endswith("\n"):
            pieces[-1] += "\n"
        yield from pieces


def _words(chunk: Sequence[str]) -> int:
    return sum(len(s.split()) for s in chunk)
