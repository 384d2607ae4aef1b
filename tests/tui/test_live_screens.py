"""Endpoints, the event tail and a server restart, against a real ``lumina serve``, at 80x24."""

from __future__ import annotations

import httpx
from textual.widgets import Log, Tree

from tests.tui.screens import SIZE, header, plugin_state


async def test_an_endpoint_form_is_generated_from_openapi_and_sent(live_server, dashboard, wait_until) -> None:
    app = dashboard(live_server.url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        tree = app.query_one("#endpoint-tree", Tree)
        leaves = lambda: {str(n.data): n for n in tree.root.children for n in n.children}
        await wait_until(pilot, lambda: "GET /hello/greet" in leaves(), what="hello's endpoints listed")
        assert leaves()["GET /hello/greet"].parent.label.plain == "hello"
        tree.move_cursor(leaves()["GET /hello/greet"])
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query("#form Input")), what="form")
        field = app.query_one("#form Input")
        assert field.name == "name" and field.value == "world"
        field.value = "operator"
        field.focus()
        await pilot.press("enter")
        log = app.query_one("#reply", Log)
        await wait_until(pilot, lambda: "hello, operator" in "\n".join(log.lines), what="the reply")
        assert str(app.query_one("#reply-head").render()).startswith("200 · ")


async def test_a_server_restart_is_survived_and_said_in_the_header(live_server, dashboard, wait_until) -> None:
    app = dashboard(live_server.url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: "started" in plugin_state(app, "hello"), what="connected")
        live_server.stop()
        await wait_until(pilot, lambda: header(app).startswith("○ disconnected, retrying"), what="disconnected")
        assert app.has_class("-offline")
        assert "started" in plugin_state(app, "hello"), "the last data stays on screen"
        live_server.start()
        await wait_until(pilot, lambda: header(app).startswith("● connected"), timeout=15, what="reconnected")
        assert not app.has_class("-offline")
        async with httpx.AsyncClient(base_url=live_server.url) as rest:
            (await rest.post("/plugins/dependent/disable")).raise_for_status()
        await wait_until(pilot, lambda: "disabled" in plugin_state(app, "dependent"), what="live again")


async def test_the_event_tail_shows_plugin_state_changes_and_pauses(live_server, dashboard, wait_until) -> None:
    app = dashboard(live_server.url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        events = app.query_one("EventsView")
        log = app.query_one("#events-log", Log)
        await wait_until(pilot, lambda: app.is_running and header(app).startswith("● connected"), what="connected")
        await pilot.pause(0.5)
        async with httpx.AsyncClient(base_url=live_server.url) as rest:
            (await rest.post("/plugins/dependent/disable")).raise_for_status()
            await wait_until(pilot, lambda: "plugin.state_changed" in "\n".join(log.lines), what="the event")
            await pilot.press("p")
            shown = log.line_count
            (await rest.post("/plugins/dependent/enable")).raise_for_status()
            await wait_until(pilot, lambda: events.unseen > 0, what="counted while paused")
            assert log.line_count == shown
            await pilot.press("p")
            await wait_until(pilot, lambda: log.line_count > shown, what="drawn after resume")
        await pilot.press("slash")
        await pilot.press(*"graph.*", "enter")
        assert events.pattern == "graph.*" and log.line_count == 0, "the filter redraws from the buffer"
        await pilot.press("slash", *["backspace"] * 7, *"plugin.*", "enter")
        assert log.line_count == len(events.buffer) > 0

