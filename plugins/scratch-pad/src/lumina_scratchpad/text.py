"""Plain-text helpers the rules share: sentences, key terms, and the names an article mentions."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
#: A "Field: value" line, as the crawler renders an infobox: a few words, a colon, and no full stop.
_FIELD_LINE = re.compile(r"^\s*[A-Z][\w ]{0,40}:\s.*[^.\s]\s*$")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
#: A run of capitalised words, allowing "of", "the", "de" ... inside it (Bank of England).
_NAME = re.compile(r"\b[A-Z][a-zA-Z]+\b(?!-)(?:\s+(?:(?:of|the|de|von|van|and|du|la)\s+)?[A-Z][a-zA-Z]+\b(?!-))*")
STOPWORDS = frozenset(
    "a about above after again against all also am an and any are as at be because been before being below "
    "between both but by can could did do does doing down during each few for from further had has have having "
    "he her here hers herself him himself his how i if in into is it its itself just me more most my no nor not "
    "now of off on once only or other our ours out over own same she should so some such than that the their "
    "theirs them then there these they this those through to too under until up very was we were what when where "
    "which while who whom why will with would you your yours one two known many much may might must shall "
    "text article passage write fact question name thing next worth reading".split()
)
#: Single words that are capitalised without naming anything to read about: months, days, and
#: nationality adjectives ("American", "Canadian", "Chinese", "English").
_NOT_A_NAME = re.compile(r"^(?:January|February|March|April|May|June|July|August|September|October|November|"
                         r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|\w+(?:ican|ian|ese|ish))$")
#: Capitalised words that start sentences or name nothing worth following.
_NOT_NAMES = frozenset("The A An In On At It He She They This That These Those His Her Its Their There When "
                       "After Before During While Although However Also As By For From With Of To".split())


def prose(text: str) -> str:
    """The text without its infobox lines ("Birth date: 3 April 1885"), unless that is all it has."""
    kept = [line for line in text.splitlines() if line.strip() and not _FIELD_LINE.match(line)]
    return "\n".join(kept) if kept else text


def sentences(text: str) -> list[str]:
    """The sentences of the text's prose, line by line (a line break always ends a sentence)."""
    lines = prose(text).splitlines()
    return [s.strip() for line in lines for s in _SENTENCE_END.split(" ".join(line.split())) if s.strip()]


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def key_terms(text: str) -> set[str]:
    """Content words, lower-cased, with a plural 's' taken off: what a claim is about."""
    return {_stem(w.lower()) for w in words(text) if w.lower() not in STOPWORDS and len(w) > 1}


def coverage(claim: str, evidence: str) -> float:
    """The share of the claim's key terms the evidence holds (0 when the claim has none)."""
    terms = key_terms(claim)
    return len(terms & key_terms(evidence)) / len(terms) if terms else 0.0


def names(texts: Iterable[str], *, besides: str = "") -> Counter[str]:
    """The proper names the texts mention (runs of capitalised words), counted; not ``besides``."""
    own = {besides.lower(), *besides.lower().split()}
    found: Counter[str] = Counter()
    for sentence in (s for text in texts for s in sentences(text)):
        for match in _NAME.finditer(sentence):
            parts = match.group().split()
            if match.start() == 0 and len(parts) == 1:  # any sentence starts with a capital
                continue
            while parts and parts[0] in _NOT_NAMES:  # "In Toronto" names Toronto
                parts.pop(0)
            name = " ".join(parts)
            if len(name) > 2 and name.lower() not in own and not _NOT_A_NAME.match(name):
                found[name] += 1
    return found


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
