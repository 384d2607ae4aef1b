"""Words inside identifiers: ``jumpHeight`` says "jump height", ``bCanEverTick`` "can ever tick".

The knowledge index cuts text into plain words, so a question in English ("where is the jump
height set?") would never meet ``jumpHeight``. Each chunk is indexed with the words of its
compound identifiers beside the code, and answers pick their line by the same words.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
#: Unreal's type prefixes and Hungarian ``b``/``m_``: not words of their own.
NOISE = frozenset({"a", "b", "e", "f", "i", "m", "s", "t", "u"})
STOP = frozenset({"a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "how", "in", "is",
                  "it", "of", "on", "or", "the", "to", "what", "when", "where", "which", "who", "why",
                  "with", "get", "gets", "set", "sets", "made", "make", "makes", "happen", "happens", "our", "my",
                  "this", "that", "there", "can", "i", "we", "you", "its", "done", "defined", "decided", "code"})


_STEMMER = Stemmer.Stemmer("english")


def split_identifier(identifier: str) -> list[str]:
    """``jumpHeight`` → ``["jump", "height"]``, ``AShooterCharacter`` → ``["shooter", "character"]``."""
    parts = [p.lower() for chunk in identifier.split("_") for p in PART.findall(chunk)]
    return [p for p in parts if p not in NOISE]


def identifier_words(code: str) -> list[str]:
    """The words of the compound identifiers in ``code``, each once, in order of appearance."""
    seen: dict[str, None] = {}
    for identifier in IDENTIFIER.findall(code):
        parts = split_identifier(identifier)
        if len(parts) > 1:
            for part in parts:
                seen.setdefault(part, None)
    return list(seen)


def question_terms(question: str) -> set[str]:
    """The content words of a question, identifiers split, stemmed."""
    return {stem(w) for token in IDENTIFIER.findall(question) for w in split_identifier(token)
            if w not in STOP and len(w) > 1}


def line_terms(line: str) -> set[str]:
    """The stemmed words of a line of code, identifiers split."""
    return {stem(w) for token in IDENTIFIER.findall(line) for w in split_identifier(token) if len(w) > 1}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball's English stem: "chasing" and "chaseRange" meet at "chase"."""
    return _STEMMER.stemWord(word)
