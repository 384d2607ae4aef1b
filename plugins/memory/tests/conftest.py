"""A real host with the memory plugin, accounts required, and helpers to act as different users."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lumina_core.contract import ChatRequest, ChatTurn, Message, Usage
from lumina_core.testing import Host, HostFactory, sign_up

MemoryHost = Callable[..., AbstractAsyncContextManager[Host]]


@pytest.fixture
def memory_host(lumina_host: HostFactory) -> MemoryHost:
    """``async with memory_host() as host``: the memory plugin started, sign-in required."""

    @asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[Host]:
        async with lumina_host(plugins=["memory"], **{"require_auth": True, **settings}) as host:
            assert host.state("memory") == "started", host.kernel.get("memory").error
            yield host

    return start


async def user_id(host: Host, headers: dict[str, str]) -> str:
    return (await host.client.get("/auth/me", headers=headers)).json()["id"]


def days_ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat().replace("+00:00", "Z")


async def finish_turn(
    host: Host, user: str, said: str, reply: str, *, brain: str = "default", thread: str | None = None,
    age_days: float = 0.0, turn_id: str = "",
) -> None:
    """Hand a finished turn to ``after_chat_turn`` exactly as the chat pipeline does, and wait for it."""
    request = ChatRequest(messages=(Message("user", said),), user_id=user, brain_id=brain, thread_id=thread)
    turn = ChatTurn(request=request, reply=reply, model="test", usage=Usage(), latency_ms=1.0,
                    turn_id=turn_id, created_at=days_ago(age_days))
    outcomes = await host.kernel.call_each("after_chat_turn", turn=turn)
    assert any(o.plugin == "memory" for o in outcomes)


async def memory_context(host: Host, user: str, said: str, *, brain: str = "default", thread: str | None = None) -> list[Any]:
    """The blocks memory contributes to a chat request, through the ``chat_context`` hook."""
    request = ChatRequest(messages=(Message("user", said),), user_id=user, brain_id=brain, thread_id=thread)
    outcomes = await host.kernel.call_each("chat_context", request=request)
    return [b for o in outcomes if o.plugin == "memory" for b in o.value]


class Kit:
    """The helpers above, handed to tests as a fixture (test folders are not importable)."""

    sign_up = staticmethod(sign_up)
    user_id = staticmethod(user_id)
    days_ago = staticmethod(days_ago)
    finish_turn = staticmethod(finish_turn)
    memory_context = staticmethod(memory_context)


@pytest.fixture
def kit() -> Kit:
    return Kit()
