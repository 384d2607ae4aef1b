"""``POST /router/chat``: decide, run the chosen tools in parallel, answer with their results.

With the brain (``use_brain``), the answer goes through the host's ``chat`` service, so memory
and knowledge add their context for the chosen ``brain_id``; without it, the model answers from
the message and the tool results alone. Tool results are quoted as data with their origin. A
tool that failed is named in the answer, which arrives all the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from lumina_core.contract import ChatRequest, Message, Usage
from lumina_router_tools.calls import ToolResult, quoted
from lumina_router_tools.definitions import ToolSpec
from lumina_router_tools.router import Decision
from lumina_router_tools.service import ToolService

SYSTEM = "You are a helpful assistant. Answer the user's message; use the tool results below when they help."


@dataclass(frozen=True)
class Turn:
    """What was decided and run for one message, before the answer."""

    decision: Decision
    results: tuple[ToolResult, ...]

    @property
    def failures(self) -> str:
        failed = [r for r in self.results if r.status != "ok"]
        return "".join(f"\n\n(The tool {r.call.name} failed: {r.error}.)" for r in failed)

    def messages(self, message: str) -> tuple[Message, ...]:
        context = [Message("system", SYSTEM + ("\n\n" + quoted(self.results) if self.results else ""))]
        return (*context, Message("user", message))

    def metadata(self) -> dict[str, Any]:
        return {"router_decision": self.decision.to_dict(), "tools_invoked": [r.to_dict() for r in self.results]}


class RouterChat:
    def __init__(self, tools: ToolService, chat: Any, llm: Any, *, reply_tokens: int = 256) -> None:
        self._tools = tools
        self._chat = chat
        self._llm = llm
        self._reply_tokens = reply_tokens

    async def prepare(self, message: str, tools: Sequence[ToolSpec], *, user_id: str, choice: str = "auto") -> Turn:
        decision = await self._tools.decide(message, tools, choice=choice)
        results = await self._tools.run(decision.calls, tools, user_id=user_id)
        return Turn(decision, tuple(results))

    async def tokens(self, turn: Turn, message: str, *, user_id: str, brain_id: str) -> AsyncIterator[Any]:
        """The answer's chunks: through the chat pipeline with the brain, or the model alone."""
        messages = turn.messages(message)
        if turn.decision.use_brain:
            request = ChatRequest(messages, user_id, brain_id=brain_id, metadata={"api": "router"})
            chunks = self._chat.stream(request, max_tokens=self._reply_tokens)
        else:
            chunks = self._llm.stream(messages, max_tokens=self._reply_tokens)
        async for chunk in chunks:
            yield chunk

    async def answer(
        self, message: str, tools: Sequence[ToolSpec], *, user_id: str, brain_id: str, choice: str = "auto"
    ) -> dict[str, Any]:
        turn = await self.prepare(message, tools, user_id=user_id, choice=choice)
        parts: list[str] = []
        usage, model = Usage(), ""
        async for chunk in self.tokens(turn, message, user_id=user_id, brain_id=brain_id):
            parts.append(chunk.text)
            usage, model = chunk.usage or usage, chunk.model
        answer = "".join(parts).strip() + turn.failures
        return {"answer": answer, "model": model, "usage": _usage(usage), **turn.metadata()}


def _usage(usage: Usage) -> dict[str, int]:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens}


async def events(chat: RouterChat, message: str, tools: Sequence[ToolSpec], *, user_id: str, brain_id: str,
                 choice: str = "auto") -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The SSE variant: ``decision``, one ``tool`` per finished call, ``token``s, then ``done``."""
    turn = await chat.prepare(message, tools, user_id=user_id, choice=choice)
    yield "decision", turn.decision.to_dict()
    for result in turn.results:
        yield "tool", result.to_dict()
    usage, model = Usage(), ""
    async for chunk in chat.tokens(turn, message, user_id=user_id, brain_id=brain_id):
        if chunk.text:
            yield "token", {"text": chunk.text}
        usage, model = chunk.usage or usage, chunk.model
    if turn.failures:
        yield "token", {"text": turn.failures}
    yield "done", {"model": model, "usage": _usage(usage), **turn.metadata()}
