"""A local MediaWiki Action API server for the tests, built from the shared enwiki XML excerpt.

It is a real HTTP server on a free port, answering ``api.php?action=query`` in the shape the
recorded en.wikipedia.org answers in ``tests/data/wiki/api/`` pin down (formatversion 1): title
normalisation, ``redirects``, missing pages (negative ids, ``"missing": ""``), the
disambiguation page property, ``prop=links`` with ``plcontinue`` continuation, ``list=search``.
Tests can make it lagged (``maxlag`` errors), send 429 with ``Retry-After``, edit a page (new
revision) and read the requests it received.
"""

from __future__ import annotations

import bz2
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import iterparse

from ops.local_server import LocalHTTPServer

EXCERPT = Path(__file__).resolve().parents[1] / "tests" / "data" / "wiki" / "enwiki-excerpt-2016.xml.bz2"
_LINK = re.compile(r"\[\[([^\]\|#]+)")
_WORD = re.compile(r"[a-z0-9]+")
_DISAMBIG = re.compile(r"\{\{\s*(disambig|disambiguation|dab|hndis|geodis)\s*[|}]", re.IGNORECASE)
_NAMESPACE_PREFIX = re.compile(r"^\s*:?\s*[A-Za-z ]+\s*:")


@dataclass
class Page:
    page_id: int
    title: str
    revision_id: int
    timestamp: str
    text: str
    redirect_to: str | None = None


@dataclass
class Recorded:
    at: float
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class Behaviour:
    """What the tests switch on: lag, refusals, batch sizes, slowness."""

    lag_s: float = 0.0
    refusals: list[tuple[int, int]] = field(default_factory=list)  # (status, retry_after)
    links_per_batch: int = 20
    article_delay_s: float = 0.0  # a slow wiki: each article request waits this long first


def normalise(title: str) -> str:
    title = re.sub(r"\s+", " ", title.replace("_", " ")).strip()
    return title[:1].upper() + title[1:]


class WikiData:
    """The excerpt's pages by title, and redirects."""

    def __init__(self, path: Path = EXCERPT) -> None:
        self.pages: dict[str, Page] = {}
        self._words: dict[tuple[str, int], tuple[frozenset[str], Counter[str]]] = {}
        namespace = "{http://www.mediawiki.org/xml/export-0.10/}"
        with bz2.open(path) as stream:
            for _event, element in iterparse(stream):
                if element.tag != namespace + "page":
                    continue
                redirect = element.find(namespace + "redirect")
                page = Page(
                    page_id=int(element.findtext(namespace + "id")),
                    title=element.findtext(namespace + "title"),
                    revision_id=int(element.findtext(f"{namespace}revision/{namespace}id")),
                    timestamp=element.findtext(f"{namespace}revision/{namespace}timestamp"),
                    text=element.findtext(f"{namespace}revision/{namespace}text") or "",
                    redirect_to=redirect.get("title") if redirect is not None else None,
                )
                self.pages[page.title] = page
                element.clear()

    def words(self, page: Page) -> tuple[frozenset[str], Counter[str]]:
        """The page's title words and its text's word counts (lower case), read once per revision:
        a search reads every page, as CirrusSearch's index would, without re-reading its text."""
        key = (page.title, page.revision_id)
        if key not in self._words:
            self._words[key] = (frozenset(_WORD.findall(page.title.lower())), Counter(_WORD.findall(page.text.lower())))
        return self._words[key]

    def links(self, page: Page) -> list[str]:
        titles = {normalise(m) for m in _LINK.findall(page.text) if not _NAMESPACE_PREFIX.match(m)}
        return sorted(t for t in titles if t)


class MediaWikiServer(LocalHTTPServer):
    """``with MediaWikiServer() as wiki: wiki.api_url`` — stops its thread on exit."""

    def __init__(self, data: WikiData | None = None) -> None:
        self.data = data or WikiData()
        self.behaviour = Behaviour()
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        super().__init__(self._handler_class())

    @property
    def api_url(self) -> str:
        return f"{self.origin}/w/api.php"

    def refuse_next(self, count: int, *, status: int = 429, retry_after: int = 1) -> None:
        with self._lock:
            self.behaviour.refusals.extend([(status, retry_after)] * count)

    def edit(self, title: str, text: str) -> None:
        """Save a new revision of ``title`` (a recrawl should notice it)."""
        page = self.data.pages[title]
        page.text, page.revision_id = text, page.revision_id + 1
        page.timestamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def article_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.params.get("prop", "").startswith("revisions")]

    # --- answering ---------------------------------------------------------------------------

    def answer(self, params: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            refusal = self.behaviour.refusals.pop(0) if self.behaviour.refusals else None
        if refusal:
            status, retry_after = refusal
            return status, {"Retry-After": str(retry_after)}, {"error": {"code": "ratelimited", "info": "slow down"}}
        maxlag = params.get("maxlag")
        if maxlag is not None and self.behaviour.lag_s > float(maxlag):
            info = f"Waiting for 10.64.0.1: {self.behaviour.lag_s} seconds lagged"
            return 200, {"Retry-After": "1"}, {"error": {"code": "maxlag", "info": info, "lag": self.behaviour.lag_s}}
        if params.get("action") != "query":
            return 200, {}, {"error": {"code": "badvalue", "info": "Only action=query is served here."}}
        if params.get("list") == "search":
            return 200, {}, self._search(params)
        if params.get("prop", "").startswith("revisions"):
            time.sleep(self.behaviour.article_delay_s)
        return 200, {}, self._query(params)

    def _query(self, params: dict[str, str]) -> dict[str, Any]:
        query: dict[str, Any] = {}
        titles = [t for t in params.get("titles", "").split("|") if t]
        resolved = self._normalised(titles, query)
        if "redirects" in params:
            resolved = self._redirected(resolved, query)
        pages: dict[str, Any] = {}
        missing_id = -1
        props = set(params.get("prop", "").split("|"))
        answer: dict[str, Any] = {}
        for title in dict.fromkeys(resolved):
            page = self.data.pages.get(title)
            if page is None:
                pages[str(missing_id)] = {"ns": 0, "title": title, "missing": ""}
                missing_id -= 1
                continue
            entry: dict[str, Any] = {"pageid": page.page_id, "ns": 0, "title": page.title}
            if "info" in props:
                entry.update(self._info(page, params))
            if "revisions" in props:
                entry["revisions"] = [self._revision(page)]
            if "pageprops" in props and _DISAMBIG.search(page.text):
                entry["pageprops"] = {"disambiguation": ""}
            if "links" in props:
                entry["links"], more = self._links(page, params)
                if more:
                    answer["continue"] = {"plcontinue": more, "continue": "||"}
            pages[str(page.page_id)] = entry
        query["pages"] = pages
        if "continue" not in answer:
            answer["batchcomplete"] = ""
        answer["query"] = query
        return answer

    def _normalised(self, titles: list[str], query: dict[str, Any]) -> list[str]:
        steps = [{"from": t, "to": normalise(t)} for t in titles if normalise(t) != t]
        if steps:
            query["normalized"] = steps
        return [normalise(t) for t in titles]

    def _redirected(self, titles: list[str], query: dict[str, Any]) -> list[str]:
        steps, resolved = [], []
        for title in titles:
            page = self.data.pages.get(title)
            if page is not None and page.redirect_to:
                steps.append({"from": title, "to": page.redirect_to})
                title = page.redirect_to
            resolved.append(title)
        if steps:
            query["redirects"] = steps
        return resolved

    def _info(self, page: Page, params: dict[str, str]) -> dict[str, Any]:
        url = f"https://en.wikipedia.org/wiki/{page.title.replace(' ', '_')}"
        info = {"contentmodel": "wikitext", "pagelanguage": "en", "touched": page.timestamp,
                "lastrevid": page.revision_id, "length": len(page.text.encode())}
        if "url" in params.get("inprop", ""):
            info.update({"fullurl": url, "canonicalurl": url})
        return info

    @staticmethod
    def _revision(page: Page) -> dict[str, Any]:
        main = {"contentmodel": "wikitext", "contentformat": "text/x-wiki", "*": page.text}
        return {"revid": page.revision_id, "parentid": page.revision_id - 1, "timestamp": page.timestamp,
                "slots": {"main": main}}

    def _links(self, page: Page, params: dict[str, str]) -> tuple[list[dict[str, Any]], str | None]:
        links = self.data.links(page)
        start = 0
        if "plcontinue" in params:
            after = params["plcontinue"].split("|", 2)[2].replace("_", " ")
            start = next((i for i, t in enumerate(links) if t >= after), len(links))
        batch = links[start : start + self.behaviour.links_per_batch]
        rest = links[start + self.behaviour.links_per_batch :]
        more = f"{page.page_id}|0|{rest[0].replace(' ', '_')}" if rest else None
        return [{"ns": 0, "title": t} for t in batch], more

    def _search(self, params: dict[str, str]) -> dict[str, Any]:
        """Like CirrusSearch, in small: every word of the query must occur in the page (title or
        text, case aside); pages whose title holds more of the words come first, then those
        that use them most."""
        words = _WORD.findall(params.get("srsearch", "").lower())
        scored = []
        for page in self.data.pages.values():
            if page.redirect_to or not words:
                continue
            title, text = self.data.words(page)
            if not all(w in title or w in text for w in words):
                continue
            in_title = sum(w in title for w in words)
            scored.append((-in_title, -sum(text[w] for w in words), page.title, page))
        hits = [page for *_, page in sorted(scored)]
        limit = int(params.get("srlimit", "10"))
        return {
            "batchcomplete": "",
            "query": {
                "searchinfo": {"totalhits": len(hits)},
                "search": [{"ns": 0, "title": p.title, "pageid": p.page_id, "size": len(p.text),
                            "timestamp": p.timestamp} for p in hits[:limit]],
            },
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/w/api.php":
                    self.send_error(404)
                    return
                params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                with server._lock:
                    server.requests.append(Recorded(time.monotonic(), params, dict(self.headers)))
                status, headers, body = server.answer(params)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args: object) -> None:
                return None

        return Handler
