"""A real host with the trainer plugin, and helpers to give it turns, feedback and datasets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lumina_core.contract import ChatRequest, ChatTurn, Message, Usage
from lumina_core.testing import Host, HostFactory, sign_up

TrainerHost = Callable[..., AbstractAsyncContextManager[Host]]


@pytest.fixture
def trainer_host(lumina_host: HostFactory) -> TrainerHost:
    """``async with trainer_host() as host``: the trainer plugin started (plus any ``plugins``)."""

    @asynccontextmanager
    async def start(*, plugins: Sequence[str] = (), **settings: Any) -> AsyncIterator[Host]:
        async with lumina_host(plugins=["trainer", *plugins], **settings) as host:
            assert host.state("trainer") == "started", host.kernel.get("trainer").error
            yield host

    return start


async def user_id(host: Host, headers: Mapping[str, str] | None = None) -> str:
    return (await host.client.get("/auth/me", headers=headers)).json()["id"]


async def finish_turn(host: Host, user: str, said: str, reply: str, *, turn_id: str, age_days: float = 0.0,
                      confidence: float | None = 0.9) -> None:
    """Hand a finished turn to ``after_chat_turn`` exactly as the chat pipeline does, and wait for it."""
    metadata = {} if confidence is None else {"confidence": confidence}
    request = ChatRequest(messages=(Message("user", said),), user_id=user, metadata=metadata)
    created = (datetime.now(UTC) - timedelta(days=age_days)).isoformat().replace("+00:00", "Z")
    turn = ChatTurn(request=request, reply=reply, model="test", usage=Usage(), latency_ms=1.0, turn_id=turn_id,
                    created_at=created)
    outcomes = await host.kernel.call_each("after_chat_turn", turn=turn)
    assert [o.error for o in outcomes if o.plugin == "trainer"] == [None]


def jsonl(examples: Sequence[tuple[str, str]]) -> str:
    """Chat-format JSONL: one line per (question, answer)."""
    return "".join(json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}) + "\n"
                   for q, a in examples)


async def until(check: Callable[[], Any], *, timeout: float = 120.0, every: float = 0.2) -> Any:
    """Poll the coroutine function ``check`` until it returns something true; fail after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {check.__name__}")
        await asyncio.sleep(every)


class Kit:
    """The helpers above, handed to tests as a fixture (test folders are not importable)."""

    sign_up = staticmethod(sign_up)
    user_id = staticmethod(user_id)
    finish_turn = staticmethod(finish_turn)
    jsonl = staticmethod(jsonl)
    until = staticmethod(until)


@pytest.fixture
def kit() -> Kit:
    return Kit()
