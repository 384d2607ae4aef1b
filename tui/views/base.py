"""Polling without freezing: fetch in an async worker, render on completion, then set a timer.

Runs never overlap (the next one is scheduled only when the last one ends), nothing is fetched
while the view is hidden or the server is away, and a failed fetch becomes a line in the view's
own message area while the last data stays on screen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widgets import Static, TabbedContent, TabPane

from lumina_tui.client import ApiProblem, Disconnected, LuminaClient, Unauthenticated

if TYPE_CHECKING:
    from lumina_tui.app import LuminaApp

#: What reading an answer of an unexpected shape raises; shown in the panel, never a crash.
SHAPE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def unexpected_shape(exc: Exception) -> str:
    return f"the server's answer has an unexpected shape ({type(exc).__name__}: {exc})"


class Notice(Static):
    """A one-line message area: why a panel shows no (or old) data."""

    DEFAULT_CSS = """
    Notice { height: auto; color: $warning; padding: 0 1; }
    Notice.-empty { display: none; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", classes="-empty", markup=False, **kwargs)

    def say(self, message: str) -> None:
        self.update(message)
        self.set_class(not message, "-empty")


class View(Vertical):
    """A tab's content: reaches the server through the app's client, speaks through a Notice."""

    BINDINGS = [Binding("escape", "rest", "Leave field", id="view.rest", show=False)]

    #: The widget that gets the keyboard when the tab is shown.
    focus_target: str = "DataTable"
    #: Where Esc puts the keyboard (not a text field, so the tab keys 1-6 work again).
    resting_focus: str = ""

    def take_focus(self, selector: str | None = None) -> None:
        targets = self.query(selector or self.focus_target)
        if targets:
            targets.first().focus()

    def action_rest(self) -> None:
        self.take_focus(self.resting_focus or self.focus_target)

    @property
    def lumina(self) -> LuminaApp:
        return self.app  # type: ignore[return-value]

    @property
    def client(self) -> LuminaClient:
        return self.lumina.client

    def say(self, message: str) -> None:
        """Show (or, with "", clear) this view's message line."""
        self.query_one(Notice).say(message)

    def refresh_now(self) -> None:
        """Fetch again at once (the server came back, or the user asked)."""

    def work(self, job: Callable[[], Awaitable[None]], group: str, *, exclusive: bool = True) -> None:
        """Run ``job()`` in a worker whose failures end up in this view's message line, never as
        a crash of the app. ``exclusive`` cancels the group's job in flight (a stale request)."""

        async def guarded() -> None:
            await self.reporting(job)

        self.run_worker(guarded, exclusive=exclusive, group=group)

    async def reporting(self, job: Callable[[], Awaitable[None]], *, when_lost: str | None = None) -> None:
        """Run ``job()``; what goes wrong becomes this view's message line (``when_lost``, if
        given, when the server is unreachable). An answer that arrives while the view is being
        removed (the app closing) finds its widgets gone: it is dropped."""
        try:
            try:
                await job()
            except Unauthenticated as problem:
                self.say(f"{problem} (ctrl+t enters a token)")
                self.lumina.need_token()
            except ApiProblem as problem:
                self.say(when_lost if when_lost and isinstance(problem, Disconnected) else str(problem))
                if isinstance(problem, Disconnected):
                    self.lumina.report_lost()
            except SHAPE_ERRORS as exc:
                self.say(unexpected_shape(exc))
        except NoMatches:
            if not self.taken_down:
                raise

    @property
    def taken_down(self) -> bool:
        """Whether this view is being removed, its widgets already gone. Textual marks the whole
        subtree as pruned before removing it (``_pruning``), and has no public name for that."""
        return not self.is_attached or self._pruning or self._closing

    def commands(self) -> Iterable[SystemCommand]:
        """This view's actions for the command palette."""
        return ()


class PolledView(View):
    """A view that refreshes every ``interval`` seconds while it is on screen."""

    interval: float = 2.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._timer: Timer | None = None

    async def fetch(self) -> Any:
        """Ask the server for this view's data; raise :class:`ApiProblem` when it cannot."""
        raise NotImplementedError

    def show(self, data: Any) -> None:
        """Put freshly fetched data on screen."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self.call_after_refresh(self.refresh_now)

    def refresh_now(self) -> None:
        """Fetch at once (cancelling a run in flight) and start the timer again afterwards."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.run_worker(self._poll, exclusive=True, group=f"poll-{id(self)}")

    def _should_fetch(self) -> bool:
        return self.lumina.connected and self.on_active_tab

    @property
    def on_active_tab(self) -> bool:
        """Whether the tab holding this view is the one shown (hidden tabs do not poll)."""
        pane = next((a for a in self.ancestors if isinstance(a, TabPane)), None)
        tabs = next((a for a in self.ancestors if isinstance(a, TabbedContent)), None)
        return pane is None or tabs is None or tabs.active == pane.id

    async def _poll(self) -> None:
        """One run; a cancelled run (a newer one replaced it) does not schedule another."""
        if self._should_fetch():
            await self.reporting(self._fetch_and_show, when_lost="server unreachable: showing the last data received")
        if not self.taken_down:
            self._timer = self.set_timer(self.interval, self.refresh_now)

    async def _fetch_and_show(self) -> None:
        self.show(await self.fetch())
        self.say("")
