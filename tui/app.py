"""``lumina tui``: the Textual dashboard, a pure HTTP client of a running Lumina server.

The app owns the connection: a heartbeat on ``/health`` with backoff says in the header whether
the server answers, and tells every view to refresh the moment it is back. Each tab is a view
from :mod:`lumina_tui.views`; each keeps polling on its own while it is on screen.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from lumina_tui.client import ApiProblem, LuminaClient, Reply
from lumina_tui.connection import Backoff, Link, Status
from lumina_tui.dialogs import TokenScreen
from lumina_tui.views.base import View
from lumina_tui.views.chat import ChatView
from lumina_tui.views.endpoints import EndpointsView
from lumina_tui.views.events import EventsView, PluginsChanged
from lumina_tui.views.overview import OverviewView
from lumina_tui.views.plugins import PluginsView
from lumina_tui.views.tasks import TasksView

HEARTBEAT_S = 2.0

#: (tab id, title, key) of every screen, in tab-bar order.
TABS: tuple[tuple[str, str, str], ...] = (
    ("overview", "Overview", "1"),
    ("plugins", "Plugins", "2"),
    ("endpoints", "Endpoints", "3"),
    ("events", "Events", "4"),
    ("chat", "Chat", "5"),
    ("tasks", "Tasks", "6"),
)


class StatusLine(Static):
    """The header: which server, and whether it answers."""

    DEFAULT_CSS = """
    StatusLine { dock: top; height: 1; padding: 0 1; background: $primary-background; color: $text; }
    StatusLine.-connected { background: $success-darken-2; }
    StatusLine.-disconnected, StatusLine.-unauthenticated { background: $error-darken-1; }
    """

    status: reactive[Status | None] = reactive(None)

    def watch_status(self, status: Status | None) -> None:
        if status is None:
            return
        self.update(f"Lumina  {status.describe()}")
        for link in Link:
            self.set_class(status.link is link, f"-{link.value}")


class LuminaApp(App[None]):
    """The dashboard of the server ``client`` talks to; ``backoff`` paces reconnection tries."""

    TITLE = "Lumina"
    CSS = """
    LuminaApp.-offline TabbedContent { opacity: 55%; }
    TabbedContent, TabPane { height: 1fr; }
    TabPane { padding: 0; }
    DataTable { scrollbar-size-horizontal: 0; }
    """
    BINDINGS = [
        *(
            Binding(key, f"show_tab('{tab}')", title, id=f"tab.{tab}", show=False)
            for tab, title, key in TABS
        ),
        Binding("f5", "refresh_view", "Refresh", id="app.refresh"),
        Binding("ctrl+t", "ask_token", "Token", id="app.token", show=False),
        Binding("question_mark", "show_help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, client: LuminaClient, backoff: Backoff | None = None) -> None:
        super().__init__()
        self.client = client
        self.backoff = backoff or Backoff()
        self._lost = asyncio.Event()
        self._asked_token = client.token is not None
        self.status = Status(Link.CONNECTING, client.url)
        self._status_line = StatusLine()

    @property
    def connected(self) -> bool:
        return self.status.link is Link.CONNECTED

    def compose(self) -> ComposeResult:
        yield self._status_line
        with TabbedContent(initial="overview"):
            with TabPane("Overview", id="overview"):
                yield OverviewView()
            with TabPane("Plugins", id="plugins"):
                yield PluginsView()
            with TabPane("Endpoints", id="endpoints"):
                yield EndpointsView()
            with TabPane("Events", id="events"):
                yield EventsView()
            with TabPane("Chat", id="chat"):
                yield ChatView()
            with TabPane("Tasks", id="tasks"):
                yield TasksView()
        yield Footer()

    def on_mount(self) -> None:
        self._set_status(self.status)
        self.run_worker(self._heartbeat(), name="heartbeat", group="heartbeat")

    async def on_unmount(self) -> None:
        await self.client.aclose()

    # -- connection -------------------------------------------------------------------------

    def need_token(self) -> None:
        """The server answered 401: ask for a token once, unless one is being typed already."""
        if not self._asked_token and not isinstance(self.screen, TokenScreen):
            self._asked_token = True
            self.action_ask_token()

    def report_lost(self) -> None:
        """Check the server at once instead of at the next beat (a view lost it, or a token came)."""
        self._lost.set()

    async def _heartbeat(self) -> None:
        """Ask ``/health`` every couple of seconds; without an answer, back off and count down.

        Any HTTP answer means the server is there: a 503 from a "down" health report is shown
        on the Overview, not as a lost connection.
        """
        while True:
            was_connected = self.connected
            try:
                reply = await self.client.exchange("GET", "/health")
            except ApiProblem:
                await self._count_down()
                continue
            self.backoff.reset()
            if reply.status == 401:
                self._set_status(Status(Link.UNAUTHENTICATED, self.client.url))
                self.need_token()
            else:
                self._set_status(Status(Link.CONNECTED, self.client.url, version=_version_of(reply)))
                if not was_connected:
                    self.refresh_views()
            await self._wait(HEARTBEAT_S)

    async def _count_down(self) -> None:
        delay = self.backoff.next_delay()
        attempt = self.backoff.attempt
        remaining = delay
        while remaining > 0:
            self._set_status(Status(Link.DISCONNECTED, self.client.url, max(1, round(remaining)), attempt))
            step = min(1.0, remaining)
            await asyncio.sleep(step)
            remaining -= step
        self._set_status(Status(Link.DISCONNECTED, self.client.url, 0, attempt))

    async def _wait(self, seconds: float) -> None:
        self._lost.clear()
        try:
            await asyncio.wait_for(self._lost.wait(), seconds)
        except TimeoutError:
            pass

    def _set_status(self, status: Status) -> None:
        """Say it in the header (kept by reference: a dialog on top has no header to query)."""
        self.status = status
        self._status_line.status = status
        self.set_class(status.link is Link.DISCONNECTED, "-offline")

    def refresh_views(self) -> None:
        for view in self.query(View):
            view.refresh_now()

    # -- actions ----------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.screen.minimize()  # a zoomed panel belongs to the tab being left
        for view in event.pane.query(View):
            view.take_focus()
            view.refresh_now()

    def on_plugins_changed(self, _message: PluginsChanged) -> None:
        self.query_one(PluginsView).refresh_now()

    def action_refresh_view(self) -> None:
        self.refresh_views()

    def action_ask_token(self) -> None:
        def use(token: str | None) -> None:
            if token:
                self.client.set_token(token)
                self.report_lost()
                self.refresh_views()

        self.push_screen(TokenScreen(self.client.url), use)

    def action_show_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for tab, title, key in TABS:
            yield SystemCommand(f"Go to {title}", f"Show the {title} screen (key {key})", lambda t=tab: self.action_show_tab(t))
        yield SystemCommand("Refresh", "Fetch every panel again now (F5)", self.action_refresh_view)
        yield SystemCommand("Enter token", "Set the bearer token sent to the server (ctrl+t)", self.action_ask_token)
        for view in self.query(View):
            yield from view.commands()


def _version_of(reply: Reply) -> str:
    try:
        body = json.loads(reply.text)
    except ValueError:
        return ""
    return str(body.get("version", "")) if isinstance(body, dict) else ""


def run(url: str, token: str | None) -> None:
    """Start the dashboard in the terminal (the body of ``lumina tui``)."""
    LuminaApp(LuminaClient(url, token)).run()
