"""A polite client for the MediaWiki Action API (``api.php``), any wiki, Wikipedia by default.

Polite means what Wikimedia's API etiquette asks: a descriptive User-Agent with a contact,
``maxlag`` on every request, requests paced by a limiter shared by all workers, and on 429/503
or a ``maxlag`` error a wait of ``Retry-After`` seconds (or an exponential backoff) before trying
again. Answers are read as MediaWiki gives them (formatversion 1): titles come back normalised,
redirects resolved, missing pages flagged, and ``continue`` blocks are followed to the end.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from lumina_crawler.ratelimit import Limiter
from lumina_crawler.wikitext import is_disambiguation, normalise_title

log = logging.getLogger("lumina.crawler.mediawiki")

#: The API accepts at most this many titles per request (for clients without apihighlimits).
TITLES_PER_REQUEST = 50
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class MediaWikiError(Exception):
    """The wiki refused or failed a request, after the retries; the message says which and why."""


@dataclass(frozen=True)
class WikiPage:
    """One requested title as the wiki resolved it."""

    requested: str
    title: str
    missing: bool = False
    page_id: int | None = None
    revision_id: int | None = None
    timestamp: str = ""
    wikitext: str = ""
    url: str = ""
    redirected_from: str | None = None
    disambiguation: bool = False


@dataclass(frozen=True)
class _Retry:
    problem: str
    wait_s: float


@dataclass(frozen=True)
class Politeness:
    """How hard to lean on a wiki: who we are, how lagged it may be, how long to back off."""

    user_agent: str
    maxlag: int = 5
    max_retries: int = 5
    backoff_s: float = 1.0
    max_wait_s: float = 120.0


class MediaWikiClient:
    """Reads pages, links and redirects through ``api.php``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_url: str,
        politeness: Politeness,
        limiter: Limiter,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.api_url = api_url
        self._http = http
        self._politeness = politeness
        self._limiter = limiter
        self._sleep = sleep

    async def pages(self, titles: Sequence[str]) -> list[WikiPage]:
        """The latest revision of each title, following redirects; missing ones flagged."""
        found: list[WikiPage] = []
        for start in range(0, len(titles), TITLES_PER_REQUEST):
            found.extend(await self._page_batch(titles[start : start + TITLES_PER_REQUEST]))
        return found

    async def links(self, title: str) -> list[str]:
        """Every article (namespace 0) the page links to, across as many batches as it takes."""
        params = {"prop": "links", "titles": title, "plnamespace": "0", "pllimit": "max", "redirects": "1"}
        links: list[str] = []
        async for answer in self.query(params):
            for page in answer.get("query", {}).get("pages", {}).values():
                links.extend(link["title"] for link in page.get("links", []))
        return list(dict.fromkeys(links))

    async def query(self, params: Mapping[str, str]) -> AsyncIterator[dict[str, Any]]:
        """``action=query`` with ``params``, one answer per batch, following ``continue``."""
        continuation: dict[str, str] = {"continue": ""}
        while True:
            answer = await self.request({"action": "query", **params, **continuation})
            yield answer
            if "continue" not in answer:
                return
            continuation = {k: str(v) for k, v in answer["continue"].items()}

    async def request(self, params: Mapping[str, str]) -> dict[str, Any]:
        """One API call with the etiquette: paced, maxlag, retried on 429/503/maxlag."""
        full = {"format": "json", "maxlag": str(self._politeness.maxlag), **params}
        headers = {"User-Agent": self._politeness.user_agent}
        attempts = self._politeness.max_retries + 1
        for attempt in range(attempts):
            await self._limiter.acquire()
            outcome = await self._attempt(full, headers, attempt)
            if not isinstance(outcome, _Retry):
                return outcome
            if attempt + 1 < attempts:
                log.info("wiki said %s; waiting %.1f s before attempt %d", outcome.problem, outcome.wait_s, attempt + 2)
                await self._sleep(outcome.wait_s)
        raise MediaWikiError(
            f"{self.api_url} kept refusing ({outcome.problem}) after {attempts} attempts; "
            f"lower CRAWL_RATE_LIMIT or try again later"
        )

    async def _attempt(self, params: Mapping[str, str], headers: Mapping[str, str], attempt: int) -> dict[str, Any] | _Retry:
        """The answer, or what went wrong and how long to wait before the next attempt."""
        try:
            response = await self._http.get(self.api_url, params=params, headers=headers)
        except httpx.TransportError as exc:
            return _Retry(f"no connection ({type(exc).__name__})", self._backoff(attempt))
        if response.status_code in RETRY_STATUSES:
            return _Retry(f"HTTP {response.status_code}", self._retry_after(response, attempt))
        if response.status_code >= 400:
            raise MediaWikiError(f"{self.api_url} answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            answer = response.json()
        except ValueError:
            raise MediaWikiError(f"{self.api_url} did not answer JSON: is it a MediaWiki api.php?") from None
        error = answer.get("error")
        if error and error.get("code") == "maxlag":
            return _Retry(f"maxlag ({error.get('info', 'replication lag')})", self._retry_after(response, attempt))
        if error:
            raise MediaWikiError(f"{self.api_url} refused the request: {error.get('code')}: {error.get('info')}")
        return answer

    def _retry_after(self, response: httpx.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After", "")
        if header.strip().isdigit():
            return min(float(header), self._politeness.max_wait_s)
        return self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        base = self._politeness.backoff_s * 2**attempt
        return min(base * (1 + random.random() / 2), self._politeness.max_wait_s)

    async def _page_batch(self, titles: Sequence[str]) -> list[WikiPage]:
        params = {
            "prop": "revisions|pageprops|info",
            "rvprop": "ids|timestamp|content",
            "rvslots": "main",
            "ppprop": "disambiguation",
            "inprop": "url",
            "redirects": "1",
            "titles": "|".join(titles),
        }
        merged: dict[str, dict[str, Any]] = {}
        aliases: dict[str, str] = {}
        async for answer in self.query(params):
            query = answer.get("query", {})
            for step in (*query.get("normalized", []), *query.get("redirects", [])):
                aliases[step["from"]] = step["to"]
            for page in query.get("pages", {}).values():
                merged.setdefault(page["title"], {}).update(page)
        return [self._resolve(title, merged, aliases) for title in titles]

    @staticmethod
    def _resolve(requested: str, pages: Mapping[str, Mapping[str, Any]], aliases: Mapping[str, str]) -> WikiPage:
        title, redirected_from, seen = requested, None, set()
        while title in aliases and title not in seen:
            seen.add(title)
            following = aliases[title]
            if normalise_title(title) != following:
                redirected_from = normalise_title(title)
            title = following
        page = pages.get(title)
        if page is None or "missing" in page or "invalid" in page:
            return WikiPage(requested=requested, title=title, missing=True, redirected_from=redirected_from)
        revision = (page.get("revisions") or [{}])[0]
        main = revision.get("slots", {}).get("main", revision)
        wikitext = main.get("*", main.get("content", ""))
        return WikiPage(
            requested=requested,
            title=title,
            page_id=page.get("pageid"),
            revision_id=revision.get("revid"),
            timestamp=revision.get("timestamp", ""),
            wikitext=wikitext,
            url=page.get("fullurl", ""),
            redirected_from=redirected_from,
            disambiguation="disambiguation" in page.get("pageprops", {}) or is_disambiguation(wikitext),
        )
