"""Calling an HTTP callback tool: the arguments go out as JSON (query parameters for GET), the
answer comes back as JSON or text, read up to a size cap, through the SSRF guard."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from lumina_core.errors import LuminaError
from lumina_router_tools.definitions import ToolSpec

RETRIED_STATUSES = frozenset({429, 502, 503, 504})


class ToolFailed(LuminaError):
    """A tool answered with an error, too much, or not at all."""

    type = "unavailable"
    status = 502


@dataclass(frozen=True)
class Policy:
    """Limits of one call: total time (retries included), answer size and retries of transient
    failures (connection errors, 429/502/503/504), with a doubling pause between tries."""

    timeout_s: float = 10.0
    max_response_bytes: int = 256 * 1024
    retries: int = 1
    backoff_s: float = 0.2


async def call_http_tool(client: httpx.AsyncClient, spec: ToolSpec, arguments: Mapping[str, Any], policy: Policy) -> Any:
    """The tool's answer; transient failures are retried, the rest raise :class:`ToolFailed`."""
    attempt = 0
    while True:
        try:
            return await _once(client, spec, arguments, policy)
        except (_Transient, httpx.TransportError) as exc:
            if attempt >= policy.retries:
                raise ToolFailed(f"{spec.name} failed after {attempt + 1} tries: {_describe(exc)}") from None
            await asyncio.sleep(policy.backoff_s * 2**attempt)
            attempt += 1


class _Transient(Exception):
    pass


async def _once(client: httpx.AsyncClient, spec: ToolSpec, arguments: Mapping[str, Any], policy: Policy) -> Any:
    body = None if spec.method == "GET" else orjson.dumps(dict(arguments))
    params = {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in arguments.items()} if spec.method == "GET" else None
    headers = {**spec.headers, "Accept": "application/json, text/plain;q=0.9"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    async with client.stream(spec.method, spec.url, content=body, params=params, headers=headers) as response:
        data = await _read_capped(response, policy.max_response_bytes, spec.name)
    if response.status_code in RETRIED_STATUSES:
        raise _Transient(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        raise ToolFailed(f"{spec.name} answered HTTP {response.status_code}: {data[:200].decode(errors='replace')}")
    try:
        return orjson.loads(data) if data else None
    except orjson.JSONDecodeError:
        return data.decode(errors="replace")


async def _read_capped(response: httpx.Response, cap: int, name: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise ToolFailed(f"{name} answered {declared} bytes, more than the {cap}-byte cap")
    parts, size = [], 0
    async for part in response.aiter_bytes():
        size += len(part)
        if size > cap:
            raise ToolFailed(f"{name} answered more than the {cap}-byte cap")
        parts.append(part)
    return b"".join(parts)


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
