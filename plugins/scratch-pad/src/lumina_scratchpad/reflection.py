"""Reflection: after an article is crawled, a few notes on it: key facts, open questions, links.

The embedded model (SmolLM2-135M) is small, so it is asked one narrow thing at a time about the
article's lead passage, at temperature 0, and each answer must pass a check before it becomes a
note: a fact must be made of the passage's own words, a question must be a question about
something the passage names, and the link is a choice among the names the article mentions (the
reply only has to contain one of them). The model gets a time budget for the whole article
(``reflect_budget_s``); whatever it gets wrong, or has no time or no server for, is filled from
the article itself: its passages' first sentences are its key facts, the names it mentions most
are the links worth following, and a name it mentions only in passing is the open question. So
every article gets at least three notes.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lumina_core.errors import LuminaError
from lumina_scratchpad.notes import Kind, Note, Origin, stable_id
from lumina_scratchpad.text import coverage, key_terms, names, prose, sentences, words

log = logging.getLogger("lumina.scratchpad.reflection")

#: The knowledge service's largest k: an article's passages are found by searching its title.
ARTICLE_PASSAGES = 50
PROMPT_CHARS = 700
REPLY_TOKENS = {"fact": 40, "open_question": 32, "link": 16}
#: Facts and questions end at the line's end; a name may come on the line after "The answer is:".
STOP = {"fact": ["\n"], "open_question": ["\n"], "link": []}
FACT_PASSAGES = 2
LINKS = 2
LINK_CHOICES = 6
#: A fact the model states must be this much made of its passage's key terms (else it invented it).
FACT_GROUNDING = 0.75
QUESTION_WORDS = ("what", "who", "when", "where", "why", "how", "which", "whose", "did", "does", "was", "is", "were")
_LABEL = re.compile(r"^\s*(?:[-*•\d.)]+\s*)?(?:(?:fact|question|answer|name|topic)\s*:\s*)?"
                    r"(?:the most important fact (?:in|of|from) (?:this|the) (?:text|passage) is(?: that)?[:,]?\s*)?",
                    re.IGNORECASE)


@dataclass(frozen=True)
class Article:
    """An article as reflection reads it: its id, title and passages (``id``, ``text``, ``section``)."""

    id: str
    title: str
    passages: tuple[Mapping[str, Any], ...]

    @property
    def text(self) -> str:
        return " ".join(p["text"] for p in self.passages)


@dataclass(frozen=True)
class Draft:
    kind: Kind
    text: str
    source: str
    origin: Origin

    def note(self, article_id: str, ttl_s: float) -> Note:
        note_id = stable_id(article_id, self.kind, " ".join(self.text.lower().split()))
        return Note.new(self.kind, self.text, (self.source,), ttl_s=ttl_s, origin=self.origin, note_id=note_id)


class NothingToReadYet(LuminaError):
    """The article has no passages in the index (yet): the task is retried later."""


async def read_article(knowledge: Any, article_id: str, title: str) -> Article:
    """The article's passages, the lead first, found through the knowledge service's search."""
    hits = [h for h in await knowledge.search(title, ARTICLE_PASSAGES) if h["title"] == title]
    if not hits:
        raise NothingToReadYet(f"no passages of '{title}' are in the knowledge index yet")
    lead_first = sorted(hits, key=lambda h: bool(h.get("section")))
    return Article(article_id, title, tuple(lead_first))


class Reflector:
    """Turns an article into notes, with the model where its answers hold up, from the text otherwise."""

    def __init__(self, llm: Any, *, ttl_s: float, budget_s: float) -> None:
        self.llm = llm
        self.ttl_s = ttl_s
        self.budget_s = budget_s

    async def reflect(self, article: Article) -> list[Note]:
        fallback = extractive_drafts(article)
        drafts = await self._ask_model(article, named_most(article)[:LINK_CHOICES])
        notes: dict[str, Note] = {}
        for kind in ("fact", "open_question", "link"):
            for draft in drafts.get(kind) or fallback[kind]:
                note = draft.note(article.id, self.ttl_s)
                notes.setdefault(note.id, note)
        return list(notes.values())

    async def _ask_model(self, article: Article, names: list[str]) -> dict[str, list[Draft]]:
        """One narrow request per note about the lead passage; an answer that fails its check, or
        that does not come within the budget, is simply not used."""
        lead = article.passages[0]
        text, source = prose(lead["text"]), lead["id"]
        deadline = time.monotonic() + self.budget_s
        drafts: dict[str, list[Draft]] = {}
        try:
            if fact := checked_fact(clean_reply(await self._ask("fact", fact_prompt(text), deadline)), text):
                drafts["fact"] = [Draft("fact", fact, source, "model")]
            asked = await self._ask("open_question", question_prompt(article.title, text), deadline)
            if question := checked_question(clean_reply(asked), text, article.title):
                drafts["open_question"] = [Draft("open_question", question, source, "model")]
            if names and (link := chosen_link(await self._ask("link", link_prompt(text, names), deadline), names)):
                drafts["link"] = [Draft("link", link, _first_mention(article, link), "model")]
        except LuminaError as exc:  # no model, or no time left: the article's own text still gives notes
            log.warning("reflection on '%s' goes on without the model: %s", article.title, exc.message)
        return drafts

    async def _ask(self, kind: str, prompt: str, deadline: float) -> str:
        left = deadline - time.monotonic()
        if left <= 0:
            raise OutOfTime(f"the model's {self.budget_s:g} s for this article are spent")
        reply = await self.llm.chat([{"role": "user", "content": prompt}], max_tokens=REPLY_TOKENS[kind],
                                    temperature=0.0, stop=STOP[kind], timeout=left)
        return reply.text


class OutOfTime(LuminaError):
    """The model's budget for one article is spent."""


def fact_prompt(passage: str) -> str:
    return f"Text: {passage[:PROMPT_CHARS]}\n\nWrite the most important fact in this text as one short sentence."


def question_prompt(title: str, passage: str) -> str:
    """One worked example first: the small model copies a shape far better than it follows a rule."""
    return ("Text: The Eiffel Tower is a wrought-iron lattice tower in Paris, built for the 1889 World's Fair.\n"
            "A question the text does not answer: Who designed the Eiffel Tower?\n\n"
            f"Text: {passage[:PROMPT_CHARS]}\n"
            f"A question about {title} the text does not answer:")


def link_prompt(passage: str, names: list[str]) -> str:
    return (f"Text: {passage[:PROMPT_CHARS]}\n\nWhich of these is most worth reading about next: "
            f"{', '.join(names)}? Reply with one of them.")


def clean_reply(text: str) -> str:
    """The first line, without list marks, 'Fact:'-style labels or quotes."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return _LABEL.sub("", first).strip().strip("\"'“”").strip()


def checked_fact(reply: str, passage: str) -> str | None:
    """A sentence of 4-40 words, starting with a capital, made of the passage's own key terms."""
    if not 4 <= len(words(reply)) <= 40 or reply.endswith("?") or not reply[:1].isupper() and not reply[:1].isdigit():
        return None
    return _sentence(reply) if coverage(reply, passage) >= FACT_GROUNDING else None


def checked_question(reply: str, passage: str, title: str) -> str | None:
    """A question of 4-25 words that starts like one, is about something the passage names, and
    asks more than what the article's subject is ("Who was Allan Dwan?" the article answers)."""
    said = words(reply)
    if not 4 <= len(said) <= 25 or said[0].lower() not in QUESTION_WORDS:
        return None
    asked = key_terms(reply)
    if not asked & key_terms(passage) or asked <= key_terms(title):
        return None
    return reply.rstrip(".!") + ("" if reply.endswith("?") else "?")


def chosen_link(reply: str, names: list[str]) -> str | None:
    """The name the reply mentions first, of those offered (the model only has to point at one)."""
    said = reply.lower()
    found = [(said.find(name.lower()), name) for name in names if name.lower() in said]
    return min(found)[1] if found else None


def named_most(article: Article) -> list[str]:
    """The names the article mentions, the most mentioned first (its own title aside)."""
    mentioned = names((p["text"] for p in article.passages), besides=article.title)
    return [name for name, _ in mentioned.most_common()]


def extractive_drafts(article: Article) -> dict[str, list[Draft]]:
    """Notes from the article's own text: what the model's notes fall back to, kind by kind."""
    facts = [Draft("fact", s[0], p["id"], "extract")
             for p in article.passages[:FACT_PASSAGES] if (s := sentences(p["text"]))]
    mentioned = names((p["text"] for p in article.passages), besides=article.title)
    links = [Draft("link", name, _first_mention(article, name), "extract") for name in named_most(article)[:LINKS]]
    linked = {d.text for d in links}
    in_passing = sorted((name for name, count in mentioned.items() if count == 1 and name not in linked),
                        key=lambda name: len(name.split()) < 2)  # "Frank Borman" asks more than "Frank"
    if in_passing:
        question = f"What is {in_passing[0]}, which the article on {article.title} mentions?"
        source = _first_mention(article, in_passing[0])
    else:
        question, source = f"What is not yet known about {article.title}?", article.passages[0]["id"]
    return {"fact": facts, "link": links, "open_question": [Draft("open_question", question, source, "extract")]}


def _first_mention(article: Article, name: str) -> str:
    return next((p["id"] for p in article.passages if name in p["text"]), article.passages[0]["id"])


def _sentence(text: str) -> str:
    """One full stop at the end ("Anders,." is where the model's reply was cut off)."""
    core = text.rstrip(",;:. ")
    return core if core.endswith("!") else core + "."
