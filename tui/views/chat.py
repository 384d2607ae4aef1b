"""Chat: streaming answers from the gateway (``POST /v1/chat/completions`` with ``stream``).

Tokens go into a Markdown stream, which merges fast chunks into few redraws. The model list
comes from ``/v1/models``; thread and brain are sent as ``thread_id`` and ``brain_id`` when set.
Context the server reports (``context`` events or a ``context`` field of a chunk: the recalled
memories and sources) is listed under each answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Markdown, Select, Static

from lumina_tui.client import ApiProblem, Disconnected, NotAvailable
from lumina_tui.views.base import Notice, View

COMPLETIONS = "/v1/chat/completions"


def chunk_text(data: Mapping[str, Any]) -> str:
    """The new text of one OpenAI-style stream chunk."""
    choices = data.get("choices") or []
    if not choices:
        return ""
    delta = choices[0].get("delta") or choices[0].get("message") or {}
    return str(delta.get("content") or "")


def context_lines(blocks: Any) -> list[str]:
    """One line per context block the server says it used (source and a short text)."""
    if isinstance(blocks, Mapping):
        blocks = blocks.get("blocks") or blocks.get("context") or []
    lines = []
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, Mapping):
            text = str(block.get("text") or block.get("title") or "").replace("\n", " ")
            lines.append(f"{block.get('source', '?')}: {text[:100]}")
        else:
            lines.append(str(block)[:120])
    return lines


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

    def compose(self) -> ComposeResult:
        yield Notice()
        with Horizontal(id="chat-options"):
            yield Select[str]([], prompt="model: server default", id="chat-model", compact=True)
            yield Input(placeholder="thread id", id="chat-thread", compact=True)
            yield Input(placeholder="brain: default", id="chat-brain", compact=True)
        yield VerticalScroll(id="transcript")
        yield Input(placeholder="Ask something, Enter sends, Esc leaves", id="prompt")

    def refresh_now(self) -> None:
        self.run_worker(self._load_models(), exclusive=True, group="chat-models")

    def on_mount(self) -> None:
        self.refresh_now()

    async def _load_models(self) -> None:
        if not self.lumina.connected:
            return
        try:
            models = await self.client.get_items("/v1/models")
        except NotAvailable:
            self.say("chat: not available on this server (no /v1/models)")
            return
        except ApiProblem as problem:
            self.say(f"models: {problem}")
            return
        ids = [str(m.get("id")) if isinstance(m, Mapping) else str(m) for m in models]
        select = self.query_one("#chat-model", Select)
        chosen = select.value
        select.set_options((i, i) for i in ids)
        if chosen in ids:
            select.value = chosen
        self.say("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "prompt" or not event.value.strip():
            return
        event.stop()
        question = event.value.strip()
        event.input.value = ""
        self.run_worker(self._ask(question), exclusive=True, group="chat-answer")

    def request_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"messages": list(self.history), "stream": True}
        model = self.query_one("#chat-model", Select).value
        if isinstance(model, str):
            body["model"] = model
        for field, widget_id in (("thread_id", "#chat-thread"), ("brain_id", "#chat-brain")):
            value = self.query_one(widget_id, Input).value.strip()
            if value:
                body[field] = value
        return body

    async def _ask(self, question: str) -> None:
        transcript = self.query_one("#transcript", VerticalScroll)
        self.history.append({"role": "user", "content": question})
        answer = Markdown("")
        context = Static("", classes="context", markup=False)
        await transcript.mount_all([Static(f"you: {question}", classes="you", markup=False), answer, context])
        transcript.anchor()
        stream = Markdown.get_stream(answer)
        reply: list[str] = []
        try:
            await self._stream_into(stream, reply, context)
        except ApiProblem as problem:
            context.update(f"no answer: {problem}")
            if isinstance(problem, Disconnected):
                self.lumina.report_lost()
        finally:
            await stream.stop()
        if reply:
            self.history.append({"role": "assistant", "content": "".join(reply)})
        else:
            self.history.pop()

    async def _stream_into(self, stream: Any, reply: list[str], context: Static) -> None:
        used: list[str] = []
        async for kind, data in self.client.stream_sse("POST", COMPLETIONS, body=self.request_body()):
            if data.strip() == "[DONE]" or kind == "done":
                break
            try:
                chunk = json.loads(data)
            except ValueError:
                continue
            if not isinstance(chunk, Mapping):
                continue
            if kind == "error" or "error" in chunk:
                error = chunk.get("error", chunk)
                raise ApiProblem(str(error.get("message", error) if isinstance(error, Mapping) else error))
            if kind == "context" or "context" in chunk:
                used.extend(context_lines(chunk.get("context", chunk)))
                context.update("context used:\n  " + "\n  ".join(used))
            text = chunk_text(chunk)
            if text:
                reply.append(text)
                await stream.write(text)

    def action_new_conversation(self) -> None:
        self.history.clear()
        self.query_one("#transcript", VerticalScroll).remove_children()
        self.query_one("#prompt", Input).focus()

    def commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Chat: new conversation", "Forget this chat's history (ctrl+n)", self.action_new_conversation)
