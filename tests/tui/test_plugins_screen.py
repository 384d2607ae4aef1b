"""Overview and Plugins against a real ``lumina serve``: what an operator sees and does, at 80x24."""

from __future__ import annotations

import httpx
from textual.widgets import DataTable, Input

from lumina_tui.dialogs import ConfirmScreen, TokenScreen
from lumina_tui.views.plugins import PluginsView
from tests.tui.screens import SIZE, header, plugin_state


async def test_overview_shows_version_health_and_plugin_states(live_server, dashboard, wait_until) -> None:
    app = dashboard(live_server.url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "plugin:hello" in app.query_one("#checks", DataTable).rows, what="checks")
        summary = str(app.query_one("#summary").render())
        assert header(app) == f"● connected to {live_server.url} · lumina 0.1.0"
        assert "lumina 0.1.0" in summary and "2 started" in summary and "1 failed" in summary
        assert "degraded" in str(app.query_one("#checks", DataTable).get_cell("plugin:setup-error", "status"))


async def test_plugins_are_listed_with_their_states(live_server, dashboard, wait_until) -> None:
    app = dashboard(live_server.url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: plugin_state(app, "setup-error") != "", what="plugins listed")
        assert "started" in plugin_state(app, "hello")
        assert "started" in plugin_state(app, "dependent")
        assert "failed" in plugin_state(app, "setup-error")
        assert "ConnectionError" in str(app.query_one("#plugins-table", DataTable).get_cell("setup-error", "error"))


async def test_a_plugin_disabled_through_rest_shows_as_disabled_within_two_seconds(live_server, dashboard, wait_until) -> None:
    app = dashboard(live_server.url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: "started" in plugin_state(app, "dependent"), what="dependent started")
        async with httpx.AsyncClient(base_url=live_server.url) as rest:
            (await rest.post("/plugins/dependent/disable")).raise_for_status()
        seconds = await wait_until(pilot, lambda: "disabled" in plugin_state(app, "dependent"), timeout=5)
        assert seconds <= 2.0

        plugins = app.query_one(PluginsView)
        plugins.interval = 60.0  # from now on only the event bus can make the table follow quickly
        plugins.refresh_now()
        await pilot.pause(0.5)
        async with httpx.AsyncClient(base_url=live_server.url) as rest:
            (await rest.post("/plugins/dependent/enable")).raise_for_status()
        # with polling at a minute, seeing the change within the wait proves the bus delivered it
        await wait_until(pilot, lambda: "started" in plugin_state(app, "dependent"), timeout=5, what="bus refresh")


async def test_disable_from_the_dashboard_asks_first_and_then_switches_the_plugin_off(live_server, dashboard, wait_until) -> None:
    app = dashboard(live_server.url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: "started" in plugin_state(app, "hello"), what="hello listed")
        table = app.query_one("#plugins-table", DataTable)
        table.move_cursor(row=table.get_row_index("hello"))
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.pause(2.5)  # a heartbeat and a poll run while the dialog covers the screen
        assert app.is_running and header(app).startswith("● connected")
        await pilot.press("n")
        await pilot.pause(0.3)
        assert "started" in plugin_state(app, "hello")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: "disabled" in plugin_state(app, "hello"), what="hello disabled")
        async with httpx.AsyncClient(base_url=live_server.url) as rest:
            assert (await rest.get("/plugins/hello")).json()["state"] == "disabled"


async def test_a_server_that_wants_a_token_gets_asked_for_one(auth_server, dashboard, wait_until) -> None:
    credentials = {"username": "admin", "password": "correct horse battery"}
    async with httpx.AsyncClient(base_url=auth_server.url) as rest:
        (await rest.post("/auth/register", json=credentials)).raise_for_status()
        token = (await rest.post("/auth/login", json=credentials)).json()["access_token"]
    app = dashboard(auth_server.url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: isinstance(app.screen, TokenScreen), what="the token prompt")
        # whichever view met the 401 first says why (the others wait behind the token prompt)
        notices = app.screen_stack[0].query("Notice")
        await wait_until(pilot, lambda: any("sign in first" in str(n.render()) for n in notices), what="the notice")
        app.screen.query_one(Input).value = token
        await pilot.press("enter")
        await wait_until(pilot, lambda: "started" in plugin_state(app, "hello"), what="plugins once signed in")
