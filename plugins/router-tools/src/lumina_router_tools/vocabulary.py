"""Which tools a message could be about, by the words they share: the router's fast path and its
shortlist, in microseconds.

A tool's words come from its name, description and argument schema (names, descriptions, enum
values); a message's from its text. Words are lower-cased and lightly stemmed (plural and verb
endings) and common words are dropped. A tool sharing no word with the message cannot apply, so
the model is not asked at all; the others are ranked by the rarity of the words they share.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from lumina_router_tools.definitions import ToolSpec

_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
STOPWORDS = frozenset("""
a about after again all also am an and any are as at be been before being but by can could did do does
doing done for from get give go got had has have having he her here hers him his how i if in into is it its
just let like me mine more most my no not now of off on once only or our out over please really she should
so some such tell than that the their them then there these they this those to too up us very want was we
were what when where which while who whom why will with would you your yours yes ok okay thanks thank hi
hello hey one two know think make need use using used value given returns return get gets input output
string number integer object field fields parameter parameters argument arguments optional required
""".split())


def stem(word: str) -> str:
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + keep
    return word


def words(text: str) -> frozenset[str]:
    """The content words of ``text``, stemmed."""
    text = _CAMEL.sub(" ", text).replace("_", " ").lower()
    return frozenset(stem(w) for w in _WORD.findall(text) if w not in STOPWORDS and len(w) > 1)


def _schema_texts(schema: Any) -> Iterator[str]:
    if isinstance(schema, Mapping):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, Mapping):
                yield from map(str, value)
            if key in ("description", "title") and isinstance(value, str):
                yield value
            if key == "enum" and isinstance(value, list):
                yield from (str(v) for v in value)
            yield from _schema_texts(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _schema_texts(item)


@lru_cache(maxsize=4096)
def _tool_words(name: str, description: str, schema: bytes) -> frozenset[str]:
    return words(" ".join([name, description, *_schema_texts(orjson.loads(schema))]))


def tool_words(spec: ToolSpec) -> frozenset[str]:
    """A tool's words (remembered per definition)."""
    return _tool_words(spec.name, spec.description, orjson.dumps(spec.input_schema, option=orjson.OPT_SORT_KEYS))


@dataclass(frozen=True)
class Candidate:
    spec: ToolSpec
    score: float
    shared: tuple[str, ...]


def shortlist(message: str, tools: Sequence[ToolSpec], limit: int = 3) -> list[Candidate]:
    """The tools sharing words with ``message``, best first (rarer shared words weigh more)."""
    said = words(message)
    if not said or not tools:
        return []
    vocabularies = [(spec, tool_words(spec)) for spec in tools]
    frequency: dict[str, int] = {}
    for _, vocabulary in vocabularies:
        for word in vocabulary & said:
            frequency[word] = frequency.get(word, 0) + 1
    candidates = []
    for spec, vocabulary in vocabularies:
        shared = vocabulary & said
        if shared:
            score = sum(math.log(1 + len(tools) / frequency[w]) for w in shared)
            candidates.append(Candidate(spec, round(score, 3), tuple(sorted(shared))))
    candidates.sort(key=lambda c: -c.score)
    return candidates[:limit]
