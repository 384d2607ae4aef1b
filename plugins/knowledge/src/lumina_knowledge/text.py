"""Sentences and search terms: the two ways the knowledge base cuts text.

Sentences are cut by punctuation with a guard for common abbreviations and initials; a line
without end punctuation (an infobox field, a table row) is a sentence of its own. Terms are
lower-cased words without English stop words, Snowball-stemmed (PyStemmer), so "astronauts" in
a question meets "astronaut" in a passage.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

_WORD = re.compile(r"\w+(?:[.'’]\w+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Mt|Gen|Col|Capt|Lt|Sgt|Rev|Gov|Sen|Rep|Pres|No|Nos|Vol|vs|"
    r"etc|approx|ca|c|e\.g|i\.e|Inc|Ltd|Co|Corp|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|"
    r"U\.S|U\.K|U\.N|a\.m|p\.m|fl|b|d|r)\.|\b[A-Z]\.)$"
)
STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
_stemmer = Stemmer.Stemmer("english")


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` in order, whitespace-normalised."""
    return [sentence.rstrip("\n") for sentence in sentence_lines(text)]


def sentence_lines(text: str) -> list[str]:
    """Like :func:`sentences`, but the last sentence of each line keeps its ``"\n"``, so text
    rebuilt from them keeps its line breaks (an infobox field or a table row stays a sentence of
    its own when the rebuilt text is cut into sentences again)."""
    found: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            pieces = _split_line(line)
            found.extend([*pieces[:-1], pieces[-1] + "\n"])
    return found


def _split_line(line: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(line):
        candidate = line[start : match.start()].rstrip()
        if _ABBREVIATION.search(candidate.rsplit(" ", 1)[-1] if " " in candidate else candidate):
            continue
        pieces.append(line[start : match.end()].strip())
        start = match.end()
    pieces.append(line[start:].strip())
    return [p for p in pieces if p]


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def terms(text: str) -> list[str]:
    """Search terms of ``text``: lower-cased, stop words out, stemmed."""
    return [_stem(w) for w in (w.lower() for w in _WORD.findall(text)) if w not in STOPWORDS]


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def term_index(term: str) -> int:
    """The sparse-vector dimension of ``term``: a stable 31-bit hash (collisions are negligible)."""
    return zlib.crc32(term.encode()) & 0x7FFFFFFF
