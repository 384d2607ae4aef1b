"""Events: a live tail of the event bus (``GET /events``, server-sent events).

Arrivals go to a bounded buffer and are drawn in one batch every quarter second, so a burst of
thousands of events a second costs one screen update per flush. Pause keeps collecting and counts
what is new; the topic filter (``*`` wildcards) redraws from the buffer.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label, Log

from lumina_tui.client import ApiProblem, Disconnected, NotAvailable
from lumina_tui.views.base import Notice, View

BUFFER = 5000
SHOWN_LINES = 1000
FLUSH_S = 0.25
RETRY_S = 5.0
SUMMARY_CHARS = 160


@dataclass(frozen=True)
class BusEvent:
    topic: str
    source: str
    ts: str
    summary: str

    def line(self) -> str:
        clock = self.ts[11:23] if len(self.ts) >= 23 else self.ts
        return f"{clock}  {self.topic:<24} {self.source:<10} {self.summary}"


def parse_event(kind: str, data: str) -> BusEvent:
    """One SSE message of ``/events`` (``data`` is the event as JSON) as a tail line."""
    try:
        event = json.loads(data)
    except ValueError:
        return BusEvent(kind or "message", "?", "", data[:SUMMARY_CHARS])
    if not isinstance(event, Mapping):
        return BusEvent(kind or "message", "?", "", data[:SUMMARY_CHARS])
    payload = event.get("payload", {k: v for k, v in event.items() if k not in ("type", "source", "ts", "id", "v")})
    summary = summarize(payload)
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    return BusEvent(str(event.get("type") or kind or "message"), str(event.get("source", "?")), str(event.get("ts", "")), summary)


def summarize(payload: Any) -> str:
    """``key=value`` pairs for a flat payload (strings bare, the rest as JSON); JSON otherwise."""
    if not isinstance(payload, Mapping):
        return json.dumps(payload, ensure_ascii=False)
    return " ".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in payload.items()
    )


class PluginsChanged(Message):
    """The bus said a plugin changed state."""


class EventsView(View):
    """The Events tab."""

    focus_target = "#events-log"

    DEFAULT_CSS = """
    EventsView #events-bar { height: 1; }
    EventsView #events-filter { width: 1fr; }
    EventsView #events-counter { width: auto; padding: 0 1; color: $text-muted; }
    EventsView #events-log { height: 1fr; }
    """
    BINDINGS = [
        Binding("p", "toggle_pause", "Pause", id="events.pause"),
        Binding("slash", "focus_filter", "Filter", id="events.filter"),
        Binding("c", "clear", "Clear", id="events.clear"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.buffer: deque[BusEvent] = deque(maxlen=BUFFER)
        self._pending: list[BusEvent] = []
        self.paused = False
        self.unseen = 0
        self.received = 0
        self.pattern = ""

    def compose(self) -> ComposeResult:
        yield Notice()
        with Horizontal(id="events-bar"):
            yield Input(placeholder="/ filter topics, e.g. plugin.*", id="events-filter", compact=True)
            yield Label("connecting…", id="events-counter")
        yield Log(max_lines=SHOWN_LINES, id="events-log")

    def on_mount(self) -> None:
        self.set_interval(FLUSH_S, self.flush)
        self.work(self._listen, "events")

    async def _listen(self) -> None:
        """Follow ``/events`` for as long as the app runs, reconnecting after any break."""
        while True:
            try:
                async for kind, data in self.client.stream_sse("GET", "/events"):
                    if self.received == 0:
                        self.say("")
                    self.receive([parse_event(kind, data)])
                self.say("the event stream ended; reconnecting")
            except NotAvailable:
                self.say("/events: not available on this server")
            except Disconnected:
                self.say("events: server unreachable, reconnecting")
            except ApiProblem as problem:
                self.say(f"events: {problem}")
            await asyncio.sleep(RETRY_S)

    def receive(self, events: list[BusEvent]) -> None:
        """Queue arrivals; they are drawn at the next flush. A plugin's state change also
        refreshes the Plugins screen at once (its polling is the fallback)."""
        self._pending.extend(events)
        self.received += len(events)
        if any(event.topic.startswith("plugin.") for event in events):
            self.post_message(PluginsChanged())

    def flush(self) -> None:
        """Draw what arrived since the last flush, in one write (or count it while paused)."""
        arrived, self._pending = self._pending, []
        self.buffer.extend(arrived)
        shown = [e.line() for e in arrived if self._matches(e)]
        if self.paused:
            self.unseen += len(shown)
        elif shown:
            self.query_one("#events-log", Log).write_lines(shown[-SHOWN_LINES:])
        self._show_counter()

    def _matches(self, event: BusEvent) -> bool:
        return not self.pattern or fnmatchcase(event.topic, self.pattern)

    def _show_counter(self) -> None:
        state = f"paused · {self.unseen} new" if self.paused else "live"
        self.query_one("#events-counter", Label).update(f"{state} · {self.received} received")

    def redraw(self) -> None:
        log = self.query_one("#events-log", Log)
        log.clear()
        log.write_lines([e.line() for e in self.buffer if self._matches(e)][-SHOWN_LINES:])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "events-filter":
            event.stop()
            self.pattern = event.value.strip()
            self.redraw()
            self.query_one("#events-log", Log).focus()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            self.unseen = 0
            self.redraw()
        self._show_counter()

    def action_focus_filter(self) -> None:
        self.query_one("#events-filter", Input).focus()

    def action_clear(self) -> None:
        self.buffer.clear()
        self.query_one("#events-log", Log).clear()

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Events: pause / resume", "Stop or restart drawing the tail (p)", self.action_toggle_pause)
        yield SystemCommand("Events: filter topics", "Show only topics matching a pattern (/)", self.action_focus_filter)
        yield SystemCommand("Events: clear", "Empty the tail (c)", self.action_clear)

