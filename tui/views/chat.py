"""Chat: streaming answers from Lumina's chat gateway (``POST /chat``, server-sent events).

The stream is ``context`` (the memories and sources the context hooks added, and the token
budget), then ``token`` events, then ``done`` (model and usage) or ``error``. Tokens go into a
Markdown stream, which merges fast chunks into few redraws. Model, thread and brain are picked
above the transcript: models from ``/v1/models``, threads from the memory plugin when it is
installed; they go as ``model``, ``thread_id`` and ``brain_id`` when set.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Markdown, Select, Static

from lumina_tui.client import ApiProblem, Disconnected, NotAvailable
from lumina_tui.views.base import Notice, View

CHAT = "/chat"


def describe_context(event: Mapping[str, Any]) -> str:
    """The ``context`` event as a line: which sources the context hooks added, and the budget."""
    blocks = event.get("context") or []
    sources = [
        f"{b.get('source', '?')}" + (f" [{b['cite_id']}]" if b.get("cite_id") else "")
        for b in blocks
        if isinstance(b, Mapping)
    ]
    budget = event.get("budget") or {}
    used = f" · {budget.get('context_tokens', 0)} context tokens" if isinstance(budget, Mapping) else ""
    return ("context: " + ", ".join(sources) if sources else "context: none added") + used


def describe_done(event: Mapping[str, Any]) -> str:
    usage = event.get("usage") or {}
    tokens = usage.get("completion_tokens", "?") if isinstance(usage, Mapping) else "?"
    return f"{event.get('model', '?')} · {tokens} tokens · {event.get('finish_reason', '')}"


def _id_of(model: Any) -> str:
    return str(model.get("id")) if isinstance(model, Mapping) else str(model)


def _offer(select: Select[str], options: list[tuple[str, str]]) -> None:
    """Replace a Select's options, keeping the choice when it is still offered."""
    chosen = select.value
    select.set_options(options)
    if chosen in {value for _, value in options}:
        select.value = chosen


class ChatView(View):
    """The Chat tab."""

    focus_target = "#prompt"
    resting_focus = "#transcript"

    DEFAULT_CSS = """
    ChatView #chat-options { height: 1; }
    ChatView #chat-options > * { margin-right: 1; }
    ChatView #chat-model { width: 2fr; }
    ChatView #chat-thread, ChatView #chat-brain { width: 1fr; }
    ChatView #transcript { height: 1fr; padding: 0 1; }
    ChatView .you { color: $accent; margin-top: 1; }
    ChatView .context { color: $text-muted; }
    ChatView #prompt { dock: bottom; }
    """
    BINDINGS = [Binding("ctrl+n", "new_conversation", "New chat", id="chat.new")]

    def __init__(self) -> None:
        super().__init__()
        self.history: list[dict[str, str]] = []
        self.threads: list[Mapping[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Notice()
        with Horizontal(id="chat-options"):
            yield Select[str]([], prompt="model: server default", id="chat-model", compact=True)
            yield Select[str]([], prompt="thread: none", id="chat-thread", compact=True)
            yield Input(placeholder="brain: default", id="chat-brain", compact=True)
        yield VerticalScroll(id="transcript")
        yield Input(placeholder="Ask something, Enter sends, Esc leaves", id="prompt")

    def refresh_now(self) -> None:
        self.work(self._load_choices, "chat-choices")

    def on_mount(self) -> None:
        self.refresh_now()

    async def _load_choices(self) -> None:
        """Models from ``/v1/models``; the caller's threads (``/auth/me``, then the memory
        plugin's ``/threads/user/{id}``) when the server has them."""
        if not self.lumina.connected:
            return
        try:
            models = await self.client.get_items("/v1/models")
        except NotAvailable:
            self.say("/v1/models: not available on this server (the default model is used)")
            models = []
        _offer(self.query_one("#chat-model", Select), [(_id_of(m), _id_of(m)) for m in models])
        self.threads = await self._threads()
        _offer(
            self.query_one("#chat-thread", Select),
            [(f"{t.get('title') or 'untitled'} · {str(t['id'])[:8]}", str(t["id"])) for t in self.threads],
        )

    async def _threads(self) -> list[Mapping[str, Any]]:
        try:
            me = await self.client.get_json("/auth/me")
            threads = await self.client.get_items(f"/threads/user/{me['id']}")
        except (NotAvailable, KeyError, TypeError):
            return []
        return [t for t in threads if isinstance(t, Mapping) and "id" in t]

    def on_select_changed(self, event: Select.Changed) -> None:
        """Picking a thread picks its brain too."""
        if event.select.id != "chat-thread":
            return
        thread = next((t for t in self.threads if str(t["id"]) == event.value), None)
        if thread is not None and thread.get("brain_id"):
            self.query_one("#chat-brain", Input).value = str(thread["brain_id"])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "prompt" or not event.value.strip():
            return
        event.stop()
        question = event.value.strip()
        event.input.value = ""
        self.work(partial(self._ask, question), "chat-answer")

    def request_body(self, question: str) -> dict[str, Any]:
        body: dict[str, Any] = {"message": question, "history": list(self.history), "stream": True}
        for field, widget_id in (("model", "#chat-model"), ("thread_id", "#chat-thread")):
            value = self.query_one(widget_id, Select).value
            if isinstance(value, str):
                body[field] = value
        brain = self.query_one("#chat-brain", Input).value.strip()
        if brain:
            body["brain_id"] = brain
        return body

    async def _ask(self, question: str) -> None:
        transcript = self.query_one("#transcript", VerticalScroll)
        body = self.request_body(question)
        answer = Markdown("")
        context = Static("", classes="context", markup=False)
        await transcript.mount_all([Static(f"you: {question}", classes="you", markup=False), answer, context])
        transcript.anchor()
        stream = Markdown.get_stream(answer)
        reply: list[str] = []
        try:
            await self._stream_into(body, stream, reply, context)
        except ApiProblem as problem:
            context.update(f"no answer: {problem}")
            if isinstance(problem, Disconnected):
                self.lumina.report_lost()
        finally:
            await stream.stop()
        if reply:
            self.history.append({"role": "user", "content": question})
            self.history.append({"role": "assistant", "content": "".join(reply)})

    async def _stream_into(self, body: dict[str, Any], stream: Any, reply: list[str], context: Static) -> None:
        lines: list[str] = []
        async for kind, data in self.client.stream_sse("POST", CHAT, body=body):
            try:
                event = json.loads(data)
            except ValueError:
                continue
            if not isinstance(event, Mapping):
                continue
            if kind == "error":
                error = event.get("error", event)
                raise ApiProblem(str(error.get("message", error) if isinstance(error, Mapping) else error))
            if kind == "token" and event.get("text"):
                reply.append(str(event["text"]))
                await stream.write(str(event["text"]))
            elif kind in ("context", "done"):
                lines.append(describe_context(event) if kind == "context" else describe_done(event))
                context.update("\n".join(lines))
            if kind == "done":
                return

    def action_new_conversation(self) -> None:
        self.history.clear()
        self.query_one("#transcript", VerticalScroll).remove_children()
        self.query_one("#prompt", Input).focus()

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Chat: new conversation", "Forget this chat's history (ctrl+n)", self.action_new_conversation)
