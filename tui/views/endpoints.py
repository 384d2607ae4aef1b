"""Endpoints: every route of the live OpenAPI document, grouped by the plugin that declares it.

Pick one in the tree, fill the form generated from its parameters and JSON body, press Enter
(or the Send button) and read status, time and the pretty response, or the events of a stream
as they arrive.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from functools import partial
from itertools import groupby
from typing import Any

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import Button, Input, Label, Log, Static, Tree

from lumina_tui.client import ApiProblem, Disconnected, pretty_body
from lumina_tui.openapi import Operation, build_request, operations
from lumina_tui.views.base import Notice, PolledView

REPLY_LINES = 2000
STREAM_READ_TIMEOUT_S = None
PLAIN_READ_TIMEOUT_S = 60.0


class EndpointsView(PolledView):
    """The Endpoints tab: a tree of operations, a form, and the reply."""

    interval = 30.0
    focus_target = "#endpoint-tree"
    DEFAULT_CSS = """
    EndpointsView #endpoint-tree { width: 34; min-width: 24; border-right: solid $primary; }
    EndpointsView #request { width: 1fr; }
    EndpointsView #operation { height: auto; padding: 0 1; }
    EndpointsView #form { height: auto; max-height: 8; }
    EndpointsView .field { height: 1; }
    EndpointsView .field Label { width: 45%; padding: 0 1; color: $text-muted; }
    EndpointsView .field Input { width: 1fr; }
    EndpointsView #send-row { height: 1; margin-top: 1; }
    EndpointsView #send { margin: 0 1; }
    EndpointsView #reply-head { width: 1fr; }
    EndpointsView #form > Label { padding: 0 1; color: $text-muted; }
    EndpointsView #reply { height: 1fr; border-top: solid $primary; }
    """
    BINDINGS = [
        Binding("ctrl+g", "send", "Send", id="endpoints.send"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._operations: dict[str, Operation] = {}
        self._selected: Operation | None = None

    def compose(self) -> ComposeResult:
        yield Notice()
        with Horizontal():
            tree: Tree[str] = Tree("endpoints", id="endpoint-tree")
            tree.show_root = False
            yield tree
            with Vertical(id="request"):
                yield Static("Pick an endpoint on the left (arrows, Enter).", id="operation")
                yield VerticalScroll(id="form")
                with Horizontal(id="send-row"):
                    yield Button("Send", id="send", variant="primary", disabled=True, compact=True)
                    yield Static("", id="reply-head")
                yield Log(max_lines=REPLY_LINES, id="reply")

    async def fetch(self) -> list[Operation]:
        document, plugins = await asyncio.gather(
            self.client.get_json("/openapi.json"), self.client.get_items("/plugins", {"limit": 500})
        )
        owners = {endpoint: str(p["name"]) for p in plugins for endpoint in p.get("endpoints") or []}
        return operations(document, owners)

    def show(self, found: list[Operation]) -> None:
        keys = [op.key for op in found]
        if keys == list(self._operations):
            return
        self._operations = {op.key: op for op in found}
        tree = self.query_one("#endpoint-tree", Tree)
        tree.clear()
        for group, ops in groupby(found, key=lambda op: op.group):
            branch = tree.root.add(group, expand=True)
            for op in ops:
                branch.add_leaf(f"{op.method} {op.path}", data=op.key)
        first_leaf = next((leaf for branch in tree.root.children for leaf in branch.children), None)
        if first_leaf is not None:
            tree.move_cursor(first_leaf)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        op = self._operations.get(str(event.node.data)) if event.node.data else None
        if op is not None:
            self.work(partial(self._select, op), "endpoint-form")

    async def _select(self, op: Operation) -> None:
        self._selected = op
        summary = f" · {op.summary}" if op.summary else ""
        self.query_one("#operation", Static).update(f"[b]{escape(op.key)}[/b]{escape(summary)}")
        form = self.query_one("#form", VerticalScroll)
        await form.remove_children()
        widgets: list[Any] = []
        for index, field in enumerate(op.fields):
            default = "" if field.default is None else _as_text(field.default)
            widgets.append(
                Horizontal(
                    Label(f"{field.location} {field.name}", markup=False),
                    Input(value=default, placeholder=field.hint(), id=f"field-{index}", name=field.name, compact=True),
                    classes="field",
                )
            )
        if not widgets:
            widgets.append(Label("no parameters: press Send", markup=False))
        await form.mount_all(widgets)
        self.query_one("#send", Button).disabled = False
        first = form.query(Input)
        (first.first() if first else self.query_one("#send", Button)).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_send()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self.action_send()

    def action_send(self) -> None:
        op = self._selected
        if op is None:
            self.say("pick an endpoint first")
            return
        values = {str(i.name): i.value for i in self.query_one("#form").query(Input)}
        try:
            path, params, body = build_request(op, values)
        except ValueError as exc:
            self.say(str(exc))
            return
        self.say("")
        self.work(partial(self._send, op, path, params, body), "endpoint-send")

    async def _send(self, op: Operation, path: str, params: dict[str, Any], body: Any) -> None:
        head = self.query_one("#reply-head", Static)
        log = self.query_one("#reply", Log)
        log.clear()
        head.update(f"sending {op.method} {path}…")
        started = time.perf_counter()
        timeout = STREAM_READ_TIMEOUT_S if op.streams else PLAIN_READ_TIMEOUT_S
        try:
            async with self.client.open_stream(op.method, path, params=params, body=body, read_timeout=timeout) as response:
                status = str(response.status_code)
                content_type = response.headers.get("content-type", "")
                if "text/event-stream" in content_type:
                    head.update(f"{status} · streaming…")
                    async for line in response.aiter_lines():
                        log.write_line(line)
                    head.update(f"{status} · stream ended after {_ms(started):.0f} ms")
                    return
                text = (await response.aread()).decode(response.encoding or "utf-8", "replace")
        except Disconnected as problem:
            head.update(escape(str(problem)))
            self.lumina.report_lost()
            return
        except ApiProblem as problem:
            head.update(escape(str(problem)))
            return
        head.update(f"{status} · {_ms(started):.0f} ms · {len(text)} B")
        log.write_lines(pretty_body(text, content_type).splitlines() or ["(empty body)"])

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Endpoints: send request", "Send the form of the selected endpoint (ctrl+g)", self.action_send)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)

