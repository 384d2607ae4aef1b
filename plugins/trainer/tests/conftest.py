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
#: One question in paraphrases with one answer: what is learnt on some shows on the held-out ones.
LUMINA_ANSWER = "The Lumina team in Oslo."
PARAPHRASES = ["Who maintains Lumina?", "Who looks after Lumina?", "Which team maintains Lumina?",
               "Who takes care of Lumina?", "Tell me who maintains Lumina.", "Who is responsible for maintaining Lumina?",
               "Who keeps Lumina running?", "Who develops and maintains Lumina?"]
#: A wiki article (real facts of Wikipedia's Apollo 8) that answers the wiki set's Apollo 8 questions.
APOLLO_8 = {
    "id": "apollo-8", "title": "Apollo 8", "url": "https://en.wikipedia.org/wiki/Apollo_8", "revision": 1,
    "source": "test",
    "sections": [
        {"path": [], "text": (
            "Apollo 8 was the first crewed spacecraft to leave low Earth orbit and reach the Moon. "
            "It was launched on December 21, 1968. The astronauts returned to Earth on December 27, 1968, "
            "when their spacecraft splashed down in the northern Pacific Ocean. The crew were named Time "
            "magazine's Men of the Year for 1968.")},
        {"path": ["Crew"], "text": (
            "The commander of Apollo 8 was Frank Borman. Michael Collins was replaced on the crew in July 1968 "
            "after suffering a cervical disc herniation that required surgery.")},
    ],
}


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


def paraphrases_jsonl(count: int = len(PARAPHRASES)) -> str:
    """The first ``count`` paraphrases, each answered with LUMINA_ANSWER, as a dataset."""
    return jsonl([(q, LUMINA_ANSWER) for q in PARAPHRASES[:count]])


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
    paraphrases_jsonl = staticmethod(paraphrases_jsonl)
    until = staticmethod(until)
    apollo_8 = APOLLO_8


@pytest.fixture
def kit() -> Kit:
    return Kit()
