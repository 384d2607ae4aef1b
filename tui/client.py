"""The dashboard's only way to the server: HTTP calls that end in data or in a sentence.

Every panel asks through :class:`LuminaClient`; whatever goes wrong (server down, 4xx/5xx,
a body that is not the JSON it should be) comes back as an :class:`ApiProblem` with a message
for a person, so a panel can print it instead of crashing.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import aconnect_sse

DEFAULT_URL = "http://127.0.0.1:8000"
REQUEST_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 2.0


class ApiProblem(Exception):
    """A call that did not give usable data; ``str()`` is the sentence a panel shows."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Disconnected(ApiProblem):
    """No answer at all: the server is down, restarting or unreachable."""


class NotAvailable(ApiProblem):
    """The server does not serve this route (404 on a collection): an older or smaller server."""


class Unauthenticated(ApiProblem):
    """The server wants a token (401), or refused the one given."""


@dataclass(frozen=True)
class Reply:
    """One raw exchange, for the endpoint explorer: what came back and how long it took."""

    status: int
    elapsed_ms: float
    content_type: str
    text: str


def pretty_body(text: str, content_type: str) -> str:
    """A body as indented JSON when it is JSON, else as received."""
    if "json" not in content_type:
        return text
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


class LuminaClient:
    """Async HTTP client bound to one server URL and an optional bearer token."""

    def __init__(
        self, url: str = DEFAULT_URL, token: str | None = None, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.url,
            timeout=httpx.Timeout(REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
            headers={"User-Agent": "lumina-tui"},
            transport=transport,
        )
        self.set_token(token)

    def set_token(self, token: str | None) -> None:
        self.token = token or None
        if self.token:
            self._http.headers["Authorization"] = f"Bearer {self.token}"
        else:
            self._http.headers.pop("Authorization", None)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` and return its JSON; a missing route raises :class:`NotAvailable`."""
        response = await self._send("GET", path, params=params)
        return _json_or_problem(response, path)

    async def health(self) -> dict[str, Any]:
        """The ``/health`` report, also when it says "down" (which it answers with 503)."""
        response = await self._send("GET", "/health")
        if response.status_code == 503:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and "checks" in body:
                return body
        data = _json_or_problem(response, "/health")
        if not isinstance(data, dict):
            raise ApiProblem("/health answered something other than a JSON object")
        return data

    async def post_json(self, path: str, body: Any = None) -> Any:
        response = await self._send("POST", path, json=body)
        return _json_or_problem(response, path)

    async def get_items(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """The ``items`` of a list endpoint (``{"items": [...]}``), or of a bare list."""
        data = await self.get_json(path, params)
        items = data.get("items", data.get("data")) if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise ApiProblem(f"GET {path} answered {type(data).__name__}, not a list of items")
        return items

    async def exchange(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Reply:
        """Send any request and return what came back, whatever the status."""
        started = time.perf_counter()
        response = await self._send(method, path, params=params, json=body)
        return Reply(
            status=response.status_code,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            content_type=response.headers.get("content-type", ""),
            text=response.text,
        )

    @asynccontextmanager
    async def open_stream(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        read_timeout: float | None = REQUEST_TIMEOUT_S,
    ) -> AsyncIterator[httpx.Response]:
        """Send a request and hand over the response before its body is read (for streams)."""
        timeout = httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT_S)
        try:
            async with self._http.stream(method, path, params=params, json=body, timeout=timeout) as response:
                yield response
        except httpx.TransportError as exc:
            raise Disconnected(f"{method} {path}: {_reason(exc)}") from None

    async def stream_sse(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> AsyncIterator[tuple[str, str]]:
        """Yield ``(event, data)`` pairs of a server-sent event stream until it ends."""
        try:
            async with aconnect_sse(
                self._http, method, path, params=params, json=body, timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT_S)
            ) as source:
                response = source.response
                if response.is_error:
                    await response.aread()
                    raise _problem(response, path)
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    raise ApiProblem(f"{method} {path} did not answer with an event stream")
                async for event in source.aiter_sse():
                    # httpx-sse keeps the last id across a heartbeat comment and yields an empty
                    # event for it; the SSE spec dispatches nothing without data.
                    if event.data:
                        yield event.event, event.data
        except httpx.TransportError as exc:
            raise Disconnected(f"the stream from {path} broke: {_reason(exc)}") from None

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Disconnected(f"no answer from {self.url}: {_reason(exc)}") from None
        except httpx.HTTPError as exc:
            raise ApiProblem(f"{method} {path} failed: {exc}") from None


def _json_or_problem(response: httpx.Response, path: str) -> Any:
    if response.is_error:
        raise _problem(response, path)
    try:
        return response.json()
    except ValueError:
        raise ApiProblem(f"{path} answered {response.status_code} with a body that is not JSON") from None


def _problem(response: httpx.Response, path: str) -> ApiProblem:
    status = response.status_code
    message = error_message(response)
    if status == 401:
        return Unauthenticated(f"{path}: {message}", status=status)
    if status == 404 and _route_missing(response):
        return NotAvailable(f"{path}: not available on this server", status=status)
    return ApiProblem(f"{path} answered {status}: {message}", status=status)


def _route_missing(response: httpx.Response) -> bool:
    """A 404 for the route itself (Lumina's "nothing is served at", or a bare 404 from an older
    server or a proxy), not Lumina's 404 for an object the route looked up."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return True
    if not isinstance(error, dict):
        return True
    return str(error.get("message", "")).startswith("nothing is served at")


def error_message(response: httpx.Response) -> str:
    """The sentence of Lumina's or OpenAI's error envelope, or FastAPI's ``detail``."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"status {response.status_code}"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if "detail" in body:
            return str(body["detail"])
    return response.reason_phrase or f"status {response.status_code}"


def _reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return type(exc).__name__
