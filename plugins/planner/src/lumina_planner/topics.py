"""From a gap's topic (often a whole question) to what a wiki search should be asked.

"Who was the first person to walk on the Moon during Apollo 11?" is searched as its names first
("Moon Apollo 11"), then as its content words together, then as its longest content words alone:
a wiki's search wants every word of a query, so question and stop words only narrow it, and one
rare word ("aikido") often finds the article a whole question does not.
"""

from __future__ import annotations

import re

SINGLE_WORDS = 3
#: Verbs that open requests in chat ("Explain Apollo 11"), never the start of a name there.
_COMMANDS = frozenset(
    """say explain describe show write summarise summarize define compare translate find search
    recommend suggest help please check draft create make""".split()
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['.-][A-Za-z0-9]+)*")
_STOP = frozenset(
    """a an and are as at be been being by can could did do does for from had has have how i if in
    into is it its me my of on or was were what when where which who whom whose why will with would
    the this that these those there their them they to you your we our about after before during
    than then so such name named tell give list many much most least first last""".split()
)


def search_queries(topic: str) -> list[str]:
    """The queries to try for ``topic``, most specific first, without repeats."""
    words = _WORD.findall(topic)
    names = _names(words)
    content = [w for w in words if w.lower().strip("'.") not in _STOP]
    longest = sorted(dict.fromkeys(content), key=len, reverse=True)[:SINGLE_WORDS]
    queries = [" ".join(names), " ".join(content), *longest]
    return [q for q in dict.fromkeys(queries) if q]


def key_terms(topic: str) -> list[str]:
    """Capitalised runs of words ("Apollo 11", "Ayn Rand"): the names a topic mentions. A lone
    capitalised word opening a sentence is not taken for a name: in chat it is far more often a
    verb ("Say", "Explain", "Summarise") than a name, and a name there is still asked about."""
    return [name for sentence in _SENTENCE_END.split(topic) for name in _names(_WORD.findall(sentence), strict=True)]


def _names(words: list[str], *, strict: bool = False) -> list[str]:
    """Runs of capitalised words (and the numbers that follow them), skipping a sentence's
    capitalised first word when it is a question or stop word (``strict``: also when it is a
    request's verb or stands alone)."""
    runs: list[list[str]] = []
    current: list[str] = []
    for index, word in enumerate(words):
        lower = word.lower()
        opening = index == 0 and (lower in _STOP or (strict and (lower in _COMMANDS or not _capitalised(words[1:2]))))
        capital = word[0].isupper() and not opening
        if capital or (current and word.isdigit()):
            current.append(word)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return [" ".join(run) for run in runs]


def _capitalised(words: list[str]) -> bool:
    return bool(words) and words[0][0].isupper()
