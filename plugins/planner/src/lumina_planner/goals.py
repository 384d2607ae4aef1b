"""The goal lattice (``GOAL_FILE``): what the planner should learn, and how much it may crawl.

A goal has a priority, seed topics, crawl settings and a budget; sub-goals inherit their parent's
crawl settings and budget and add their own topics. A gap is matched to the goal whose topics are
closest to it in meaning; a gap no goal is close to gets the file's ``default_priority``. The
file is checked against ``manifests/goals.schema.json`` exactly like a manifest, so a bad one is
refused with one ``file: field.path: message`` line per problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from lumina_core.plugins.manifest import load_checked_yaml

SCHEMA_FILE = "goals.schema.json"
DEFAULT_PAGES_PER_HOUR = 120


@dataclass(frozen=True)
class Crawl:
    hops: int = 0
    max_nodes: int = 3
    seeds: int = 2

    def merged(self, override: Mapping[str, Any] | None) -> Crawl:
        return Crawl(**{**self.__dict__, **(override or {})})


@dataclass(frozen=True)
class Goal:
    name: str
    priority: float
    topics: tuple[str, ...]
    crawl: Crawl
    pages_per_hour: int | None
    path: tuple[str, ...]  # the goal's ancestors and itself: ("science", "spaceflight")

    @property
    def label(self) -> str:
        return "/".join(self.path)


@dataclass(frozen=True)
class Goals:
    goals: tuple[Goal, ...] = ()
    pages_per_hour: int = DEFAULT_PAGES_PER_HOUR
    llm_spend_per_day: float | None = None  # US dollars on paid models; None: no limit
    default_priority: float = 0.5
    source: str = "built-in defaults"
    crawl: Crawl = field(default_factory=Crawl)

    @property
    def topics(self) -> list[tuple[Goal, str]]:
        return [(goal, topic) for goal in self.goals for topic in goal.topics]


@cache
def goal_schema() -> dict[str, Any]:
    return json.loads(resources.files("lumina_planner").joinpath(SCHEMA_FILE).read_text("utf-8"))


def load_goals(path: Path | None) -> Goals:
    """The goals of ``path``, or the built-in defaults (no goals, the default budget) for None.

    Raises :class:`~lumina_core.plugins.manifest.ManifestInvalid` listing every problem.
    """
    if path is None:
        return Goals()
    document = load_checked_yaml(path, goal_schema())
    budget = document.get("budget", {})
    return Goals(
        goals=tuple(_flatten(document["goals"], parent=(), crawl=Crawl(), pages_per_hour=None)),
        pages_per_hour=budget.get("pages_per_hour", DEFAULT_PAGES_PER_HOUR),
        llm_spend_per_day=budget.get("llm_spend_per_day"),
        default_priority=document.get("default_priority", 0.5),
        source=str(path),
    )


def _flatten(goals: list[Mapping[str, Any]], *, parent: tuple[str, ...], crawl: Crawl,
             pages_per_hour: int | None) -> Iterator[Goal]:
    for entry in goals:
        path = (*parent, entry["name"])
        own_crawl = crawl.merged(entry.get("crawl"))
        own_pages = entry.get("budget", {}).get("pages_per_hour", pages_per_hour)
        yield Goal(entry["name"], float(entry.get("priority", 0.5)), tuple(entry.get("topics", [])), own_crawl,
                   own_pages, path)
        yield from _flatten(entry.get("goals", []), parent=path, crawl=own_crawl, pages_per_hour=own_pages)
