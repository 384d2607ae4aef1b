"""Snapshots of the main screens (``pytest-textual-snapshot``; update with ``--snapshot-update``).

A snapshot pins how the dashboard draws a given set of answers, so the answers are pinned too:
a fixed server (recorded from ``lumina serve`` with the fixture plugins) answers over HTTP
through an ASGI transport. The live server grows with every plugin and built-in; the pilot specs
in the other files drive the real one.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Tree

from lumina_tui.app import LuminaApp
from lumina_tui.client import LuminaClient
from lumina_tui.connection import Backoff, Link

URL = "http://lumina.test"

PLUGINS: list[dict[str, Any]] = [
    {"name": "hello", "version": "0.1.0", "description": "Says hello.", "state": "started", "error": None,
     "builtin": False, "permissions": ["events:publish"], "endpoints": ["GET /hello/greet"], "hook_errors": 0,
     "origin": "folder tests/fixtures/plugins/fx_hello"},
    {"name": "dependent", "version": "0.1.0", "description": "Needs hello.", "state": "disabled",
     "error": "disabled by the operator", "builtin": False, "permissions": [], "endpoints": ["GET /dependent/ping"],
     "hook_errors": 0, "origin": "folder tests/fixtures/plugins/fx_dependent"},
    {"name": "setup-error", "version": "0.1.0", "description": "Raises in startup.", "state": "failed",
     "error": "startup failed: ConnectionError: database at db.local:5432 refused the connection", "builtin": False,
     "permissions": [], "endpoints": ["GET /setup-error/x"], "hook_errors": 0,
     "origin": "folder tests/fixtures/plugins/fx_setup_error"},
]
HEALTH = {
    "status": "degraded", "version": "0.1.0", "uptime_s": 3723.0,
    "checks": [
        {"name": "llm:embedded", "status": "ok", "latency_ms": None, "detail": ""},
        {"name": "vectors", "status": "ok", "latency_ms": 0.1, "detail": "qdrant-edge"},
        {"name": "plugin:hello", "status": "ok", "latency_ms": None, "detail": ""},
        {"name": "plugin:dependent", "status": "ok", "latency_ms": None, "detail": "disabled"},
        {"name": "plugin:setup-error", "status": "degraded", "latency_ms": None,
         "detail": "failed: startup failed: ConnectionError: database at db.local:5432 refused the connection"},
    ],
}
OPENAPI = {
    "openapi": "3.1.0",
    "paths": {
        "/hello/greet": {"get": {"summary": "Greet", "parameters": [
            {"name": "name", "in": "query", "required": False, "schema": {"type": "string", "default": "world"}}]}},
        "/dependent/ping": {"get": {"summary": "Ping"}},
        "/plugins/{name}/disable": {"post": {"tags": ["plugins"], "summary": "Switch a plugin off", "parameters": [
            {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]}},
        "/health": {"get": {"tags": ["health"], "summary": "Overall status"}},
    },
}


def plugin_detail(request: Request) -> JSONResponse:
    name = request.path_params["name"]
    found = next((p for p in PLUGINS if p["name"] == name), None)
    if found is None:
        return JSONResponse({"error": {"type": "not_found", "message": f"no plugin named '{name}'"}}, 404)
    manifest = {"name": name, "version": found["version"], "api_version": ">=1.0", "prefix": [f"/{name}"],
                "dependencies": [], "endpoints": [], "permissions": found["permissions"], "config": {},
                "ui": {"panels": []}}
    return JSONResponse({**found, "problems": [], "manifest": manifest})


def fixed_server() -> Starlette:
    def answer(body: Any) -> Any:
        return lambda _request: JSONResponse(body)

    return Starlette(routes=[
        Route("/health", answer(HEALTH)),
        Route("/plugins", answer({"items": PLUGINS, "next_cursor": None})),
        Route("/plugins/{name}", plugin_detail),
        Route("/openapi.json", answer(OPENAPI)),
        Route("/hello/greet", lambda request: JSONResponse({"message": f"hello, {request.query_params.get('name')}"})),
    ])


def pinned_app() -> LuminaApp:
    return LuminaApp(LuminaClient(URL, transport=httpx.ASGITransport(app=fixed_server())))


def down_app() -> LuminaApp:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = LuminaClient(URL, transport=httpx.MockTransport(refuse))
    return LuminaApp(client, backoff=Backoff(initial=30, jitter=0))


async def until(pilot: Pilot, condition) -> None:
    for _ in range(200):
        if condition():
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen never reached the state to snapshot")


def rows(app: LuminaApp, table_id: str) -> int:
    return app.query_one(table_id, DataTable).row_count


def test_overview_connected(snap_compare) -> None:
    async def loaded(pilot: Pilot) -> None:
        await until(pilot, lambda: rows(pilot.app, "#checks") == 5)

    assert snap_compare(pinned_app(), run_before=loaded)


def test_plugins_with_detail(snap_compare) -> None:
    async def loaded(pilot: Pilot) -> None:
        await pilot.press("2")
        await until(pilot, lambda: rows(pilot.app, "#plugins-table") == 3)
        await pilot.press("down", "down")
        await until(pilot, lambda: "database at" in str(pilot.app.query_one("#plugin-summary").render()))

    assert snap_compare(pinned_app(), run_before=loaded)


def test_plugins_on_a_large_terminal(snap_compare) -> None:
    async def loaded(pilot: Pilot) -> None:
        await pilot.press("2")
        await until(pilot, lambda: rows(pilot.app, "#plugins-table") == 3)

    assert snap_compare(pinned_app(), run_before=loaded, terminal_size=(120, 36))


def test_endpoint_form_and_reply(snap_compare) -> None:
    async def sent(pilot: Pilot) -> None:
        await pilot.press("3")
        tree = pilot.app.query_one("#endpoint-tree", Tree)
        await until(pilot, lambda: len(tree.root.children) == 4)
        greet = next(leaf for group in tree.root.children for leaf in group.children if leaf.data == "GET /hello/greet")
        tree.move_cursor(greet)
        await pilot.press("enter")
        await until(pilot, lambda: bool(pilot.app.query("#form Input")))
        pilot.app.query_one("#form Input", Input).cursor_blink = False
        await pilot.press("ctrl+g")
        await until(pilot, lambda: "hello, world" in "\n".join(pilot.app.query_one("#reply").lines))
        pilot.app.query_one("#reply-head").update("200 · 3 ms · 26 B")  # the time varies from run to run

    assert snap_compare(pinned_app(), run_before=sent)


def test_disconnected_header_keeps_the_screen(snap_compare) -> None:
    async def failed(pilot: Pilot) -> None:
        await until(pilot, lambda: pilot.app.status.link is Link.DISCONNECTED)
        pilot.app.workers.cancel_group(pilot.app, "heartbeat")

    assert snap_compare(down_app(), run_before=failed)


def test_disconnected_on_a_large_terminal(snap_compare) -> None:
    async def failed(pilot: Pilot) -> None:
        await until(pilot, lambda: pilot.app.status.link is Link.DISCONNECTED)
        pilot.app.workers.cancel_group(pilot.app, "heartbeat")

    assert snap_compare(down_app(), run_before=failed, terminal_size=(120, 36))


def test_screens_a_server_does_not_serve_say_so(snap_compare) -> None:
    """Events, Chat and Tasks on a server without those routes: a sentence, not an error."""

    async def tasks(pilot: Pilot) -> None:
        await pilot.press("6")
        await until(pilot, lambda: "not available" in str(pilot.app.query_one("TasksView Notice").render()))

    assert snap_compare(pinned_app(), run_before=tasks)
