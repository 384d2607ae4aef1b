"""The planning cycle: gaps become crawls, and crawls that end settle their gaps.

One cycle (on ``PLAN_CRON``, once per schedule across workers, or on ``POST /masterchat/plan``):

1. **detect** the gaps the system can see itself: goal topics with no article in the graph, pages
   many articles link to that nobody fetched (weak regions), articles older than RECRAWL_DAYS;
2. **settle** crawls that ended while no event reached us (a worker died, the bus was away);
3. **wait** when the crawl queue is at or above its low water mark; else fill it up to the high
   water mark with the best open gaps: each gap's rank times the priority of the goal closest to
   it in meaning (or the default priority), within the pages-per-hour budgets;
4. for each gap: **claim** it (``open`` → ``planned``, a conditional update, so two workers never
   plan one gap), **resolve** it to page titles with the wiki's search, and **enqueue** a crawl.

A crawl that ends (``task.completed`` / ``task.failed``) settles its gap: ``filled`` naming the
passages that now answer it, or back to ``open`` with a doubling backoff, and ``given_up`` after
``max_attempts``. Every decision goes to the journal with its reason.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lumina_core.errors import Unavailable
from lumina_planner.goals import Crawl, Goal, Goals
from lumina_planner.journal import CrawlAsked, Journal
from lumina_planner.topics import search_queries

#: A gap belongs to the goal whose topic is at least this close in meaning (embedder cosine).
GOAL_MATCH = 0.5
#: Sources whose topic is a title or a term, not a question: filled once the graph has the article.
TITLE_SOURCES = frozenset({"stale", "weak_region", "unmatched_term"})
DETECTIONS = ("goal_topics", "weak_region", "stale")

Publish = Callable[[str, Mapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class PlannerSettings:
    low_water: int = 20
    high_water: int = 40
    max_attempts: int = 3
    backoff_s: float = 1800.0
    detect: tuple[str, ...] = DETECTIONS
    detect_limit: int = 10


@dataclass(frozen=True)
class Choice:
    gap: Mapping[str, Any]
    goal: Goal | None
    priority: float

    @property
    def crawl(self) -> Crawl | None:
        return self.goal.crawl if self.goal else None

    @property
    def goal_label(self) -> str:
        return self.goal.label if self.goal else ""


class Planner:
    def __init__(self, *, knowledge: Any, crawler: Any, tasks: Any, embedder: Any, llm: Any, journal: Journal,
                 goals: Callable[[], Goals], settings: PlannerSettings, owner: str, publish: Publish) -> None:
        self.knowledge, self.crawler, self.tasks, self.embedder, self.llm = knowledge, crawler, tasks, embedder, llm
        self.journal, self.goals, self.settings, self.owner = journal, goals, settings, owner
        self._publish = publish

    # --- the cycle -------------------------------------------------------------------------

    async def cycle(self, trigger: str) -> dict[str, Any]:
        """One planning cycle; returns what it did (also written to the journal)."""
        cycle = uuid.uuid4().hex[:12]
        self.journal.cycle_started(cycle, trigger)
        goals = self.goals()
        detected = await self._detect(cycle, goals)
        settled = await self._settle_ended(cycle)
        planned, stop = await self._fill_queue(cycle, goals)
        summary = {"cycle": cycle, "trigger": trigger, "detected": detected, "settled": settled,
                   "planned": planned, "queue_depth": len(self.journal.unsettled()), "stopped_because": stop}
        self.journal.cycle_finished(cycle, summary)
        await self._publish("planner.cycle_finished", summary)
        return summary

    async def _fill_queue(self, cycle: str, goals: Goals) -> tuple[list[dict[str, Any]], str]:
        depth = len(self.journal.unsettled())
        if depth >= self.settings.low_water:
            reason = f"the crawl queue holds {depth} crawls, at or above its low water mark {self.settings.low_water}"
            self._decide(cycle, "waited", reason)
            return [], reason
        room = self.settings.high_water - depth
        planned: list[dict[str, Any]] = []
        for choice in await self._ranked(goals, room):
            if sum(not p.get("joined") for p in planned) >= room:
                return planned, f"the crawl queue reached its high water mark {self.settings.high_water}"
            crawl = choice.crawl or goals.crawl
            if reason := self._over_budget(goals, choice, crawl.max_nodes):
                self._decide(cycle, "budget_exhausted", reason, gap=choice.gap)
                return planned, reason
            try:
                done = await self._plan(cycle, choice, crawl)
            except Unavailable as exc:
                await self.knowledge.move_gap(choice.gap["id"], "open", f"not planned: {exc.message}")
                self._decide(cycle, "wiki_unavailable", f"{exc.message}; planning stops until the next cycle",
                             gap=choice.gap)
                return planned, exc.message
            if done is not None:
                planned.append(done)
        return planned, "no open gap left to plan" if not planned else "every open gap was planned"

    async def _plan(self, cycle: str, choice: Choice, crawl: Crawl) -> dict[str, Any] | None:
        gap = choice.gap
        why = f"rank {gap['rank']:.2f} × priority {choice.priority:.2f}" + (
            f" (goal '{choice.goal_label}')" if choice.goal else " (no goal close to it)")
        claimed = await self.knowledge.move_gap(gap["id"], "planned", f"chosen: {why}", expect=["open"])
        if claimed is None:
            self._decide(cycle, "skipped", "another planner claimed this gap first", gap=gap)
            return None
        titles, query = await self._resolve(gap["topic"], crawl.seeds)
        if not titles:
            await self._retry_or_give_up(cycle, claimed, f"the wiki's search found no page for {gap['topic']!r}")
            return None
        if (running := self._crawling(titles)) is not None:
            return await self._join(cycle, gap, why, query, titles, running)
        task = {"crawl": titles, "hops": crawl.hops, "max_nodes": max(crawl.max_nodes, len(titles))}
        task_id = await self.tasks.submit(task, owner=self.owner)
        self.journal.crawl_asked(CrawlAsked(task_id, gap["id"], choice.goal_label, tuple(titles), task["max_nodes"],
                                            time.time()))
        await self.knowledge.move_gap(gap["id"], "crawling", f"crawl {task_id} of {', '.join(titles)}")
        self._decide(cycle, "planned", f"{why}; the wiki's search for {query!r} found {', '.join(titles)}", gap=gap,
                     task_id=task_id, titles=titles, hops=crawl.hops, max_nodes=task["max_nodes"])
        return {"gap_id": gap["id"], "topic": gap["topic"], "task_id": task_id, "titles": titles}

    def _crawling(self, titles: Sequence[str]) -> CrawlAsked | None:
        """An unsettled crawl already fetching the search's best page, if there is one. The gap
        waits on it rather than fetching that page again; should the page not answer it, its
        retry is planned afresh, with every title its search finds."""
        return next((c for c in self.journal.unsettled() if titles[0] in c.titles), None)

    async def _join(self, cycle: str, gap: Mapping[str, Any], why: str, query: str, titles: Sequence[str],
                    running: CrawlAsked) -> dict[str, Any]:
        """Wait on the crawl that already fetches these pages instead of fetching them again
        (three questions about one article are one crawl); it settles this gap too."""
        self.journal.join(running.task_id, gap["id"])
        await self.knowledge.move_gap(gap["id"], "crawling",
                                      f"joined crawl {running.task_id} of {', '.join(running.titles)}")
        self._decide(cycle, "planned", f"{why}; the wiki's search for {query!r} found {titles[0]}, already being "
                     f"crawled: joined crawl {running.task_id}", gap=gap, task_id=running.task_id,
                     titles=list(running.titles), joined=True, max_nodes=0)
        return {"gap_id": gap["id"], "topic": gap["topic"], "task_id": running.task_id, "titles": list(running.titles),
                "joined": True}

    async def _ranked(self, goals: Goals, room: int) -> list[Choice]:
        """Open gaps whose time has come, best first: their rank × their goal's priority."""
        gaps = self.knowledge.list_gaps(state="open", due=True, limit=max(room * 3, 10))
        if not gaps:
            return []
        matched = await self._match_goals(goals, [g["topic"] for g in gaps])
        choices = [Choice(gap, goal, goal.priority if goal else goals.default_priority)
                   for gap, goal in zip(gaps, matched)]
        return sorted(choices, key=lambda c: -c.gap["rank"] * c.priority)

    async def _match_goals(self, goals: Goals, topics: Sequence[str]) -> list[Goal | None]:
        pairs = goals.topics
        if not pairs:
            return [None] * len(topics)
        vectors = await self.embedder.embed([*topics, *(topic for _, topic in pairs)])
        gap_vectors, goal_vectors = vectors[: len(topics)], vectors[len(topics):]
        matched: list[Goal | None] = []
        for vector in gap_vectors:
            score, goal = max(((_dot(vector, g), pair[0]) for g, pair in zip(goal_vectors, pairs)),
                              key=lambda item: item[0])
            matched.append(goal if score >= GOAL_MATCH else None)
        return matched

    def _over_budget(self, goals: Goals, choice: Choice, pages: int) -> str | None:
        if goals.llm_spend_per_day is not None:
            spent = self.llm.spend().usd
            if spent >= goals.llm_spend_per_day:
                return (f"budget exhausted: ${spent:.4f} spent on paid models today, the goal file allows "
                        f"${goals.llm_spend_per_day:.4f} per day; planning stops until 00:00Z")
        used = self.journal.pages_asked()
        if used + pages > goals.pages_per_hour:
            return self._budget_reason("the planner's", used, goals.pages_per_hour, pages)
        goal = choice.goal
        if goal is not None and goal.pages_per_hour is not None:
            used = self.journal.pages_asked(goal=goal.label)
            if used + pages > goal.pages_per_hour:
                return self._budget_reason(f"goal '{goal.label}''s", used, goal.pages_per_hour, pages)
        return None

    def _budget_reason(self, whose: str, used: int, limit: int, pages: int) -> str:
        slot = self.journal.next_budget_slot(pages, limit)
        when = time.strftime("%H:%M:%SZ", time.gmtime(slot)) if slot else "when the hour's crawls age out"
        return (f"budget exhausted: {whose} {limit} pages per hour, {used} asked in the last hour; "
                f"planning stops until {when}")

    async def _resolve(self, topic: str, seeds: int) -> tuple[list[str], str]:
        """Page titles for a topic: the first query the wiki's search finds anything for."""
        for query in search_queries(topic):
            titles = await self.crawler.search_wiki(query, seeds)
            if titles:
                return titles[:seeds], query
        return [], ""

    # --- settling ended crawls -------------------------------------------------------------

    async def task_ended(self, task_id: str, *, cycle: str = "event") -> list[dict[str, Any]] | None:
        """Settle the gaps of one of our crawls that ended (the one it was asked for and those
        that joined it); None for tasks that are not ours or were settled already (each ending is
        settled once, whichever worker sees it)."""
        crawl = self.journal.crawl(task_id)
        if crawl is None or not self.journal.settle(task_id):
            return None
        task = await self.tasks.get(task_id) or {}
        settled = []
        for gap_id in self.journal.gaps_of(crawl):
            if (done := await self._settle_gap(cycle, gap_id, crawl, task)) is not None:
                settled.append(done)
        return settled

    async def _settle_gap(self, cycle: str, gap_id: str, crawl: CrawlAsked,
                          task: Mapping[str, Any]) -> dict[str, Any] | None:
        gap = self.knowledge.gap(gap_id)
        if gap is None:
            self._decide(cycle, "settled", f"crawl {crawl.task_id} ended; its gap was dismissed meanwhile",
                         task_id=crawl.task_id)
            return None
        if task.get("state") != "succeeded":
            return await self._retry_or_give_up(cycle, gap,
                                                f"crawl {crawl.task_id} failed: {task.get('error') or 'lost'}")
        return await self._judge(cycle, gap, crawl, task.get("result") or {})

    async def _judge(self, cycle: str, gap: Mapping[str, Any], crawl: CrawlAsked,
                     result: Mapping[str, Any]) -> dict[str, Any] | None:
        fetched = [t for t in result.get("titles", []) if t not in result.get("missing", [])]
        passages, reason = await self._what_fills(gap, fetched)
        if passages:
            filled = await self.knowledge.move_gap(gap["id"], "filled", reason, filled_by=passages)
            self._decide(cycle, "filled", reason, gap=gap, task_id=crawl.task_id, passages=passages)
            return filled
        return await self._retry_or_give_up(cycle, gap, reason)

    async def _what_fills(self, gap: Mapping[str, Any], fetched: Sequence[str]) -> tuple[list[str], str]:
        """The passages that now answer the gap, and why; no passages when it is still open."""
        crawled = ", ".join(fetched) or "nothing"
        if gap["source"] in TITLE_SOURCES:
            node = self.crawler.node(gap["topic"])
            if node is None or node["kind"] != "article":
                return [], f"the crawl ({crawled}) did not bring an article titled {gap['topic']!r}"
            hits = await self.knowledge.search(node["title"], 3)
            ids = [h["id"] for h in hits if h["title"] == node["title"]]
            return ids, f"the article {node['title']!r} is indexed ({len(ids)} passages)"
        verdict = await self.knowledge.assess(gap["topic"])
        if not verdict["known"]:
            return [], f"crawled {crawled}, and the question is still not answered: {verdict['reason']}"
        titles = ", ".join(dict.fromkeys(s["title"] for s in verdict["sources"]))
        return verdict["cite_ids"], f"crawled {crawled}; now answered from {titles}"

    async def _settle_ended(self, cycle: str) -> int:
        settled = 0
        for crawl in self.journal.unsettled():
            task = await self.tasks.get(crawl.task_id)
            if task is None or task.get("state") in ("succeeded", "failed"):
                settled += await self.task_ended(crawl.task_id, cycle=cycle) is not None
        return settled

    async def _retry_or_give_up(self, cycle: str, gap: Mapping[str, Any], reason: str) -> dict[str, Any] | None:
        attempts = gap["attempts"] + 1
        if attempts >= self.settings.max_attempts:
            why = f"{reason}; giving up after {attempts} attempts"
            self._decide(cycle, "given_up", why, gap=gap)
            return await self.knowledge.move_gap(gap["id"], "given_up", why, attempted=True)
        delay = self.settings.backoff_s * 2 ** (attempts - 1)
        why = f"{reason}; retrying in {delay / 60:.0f} min (attempt {attempts} of {self.settings.max_attempts})"
        self._decide(cycle, "retry_later", why, gap=gap, retry_in_s=delay)
        return await self.knowledge.move_gap(gap["id"], "open", why, retry_at=time.time() + delay, attempted=True)

    # --- detecting the gaps the system sees itself -----------------------------------------

    async def _detect(self, cycle: str, goals: Goals) -> int:
        found = 0
        limit = self.settings.detect_limit
        if "goal_topics" in self.settings.detect:
            for goal, topic in goals.topics:
                node = self.crawler.node(topic)
                if node is None or node["kind"] != "article":
                    found += await self._system_gap(cycle, topic, "unmatched_term", goal.priority,
                                                    f"goal '{goal.label}' names it and the graph has no article for it")
        if "weak_region" in self.settings.detect:
            for page in self.crawler.wanted(limit=limit):
                found += await self._system_gap(cycle, page["title"], "weak_region", min(1.0, 0.15 * page["in_links"]),
                                                f"{page['in_links']} fetched articles link to it and nobody fetched it")
        if "stale" in self.settings.detect:
            for node in self.crawler.stale(limit=limit):
                found += await self._system_gap(cycle, node["title"], "stale", 0.3,
                                                f"fetched {node['fetched_at']}, older than RECRAWL_DAYS")
        return found

    async def _system_gap(self, cycle: str, topic: str, source: str, score: float, reason: str) -> bool:
        """Record a gap the system sees, once: seeing it again each cycle is not a new hit."""
        if self.knowledge.find_gap(topic, user_id="") is not None:
            return False
        gap = await self.knowledge.record_gap(topic, user_id="", source=source, score=score, reason=reason,
                                              evidence=[topic])
        self._decide(cycle, "detected", f"{source}: {reason}", gap=gap)
        return True

    def _decide(self, cycle: str, action: str, reason: str, **detail: Any) -> None:
        self.journal.decide(cycle, action, reason, **detail)


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return float(sum(x * y for x, y in zip(a, b)))
