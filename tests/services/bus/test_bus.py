"""The event bus: the same behaviour in-process and on Redis Streams, plus what only Redis adds."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from lumina_core.errors import ValidationFailed
from lumina_core.services.bus import EventBus, build_bus
from lumina_core.services.bus import store as event_store
from lumina_core.services.bus.redis import RedisBackend
from lumina_core.testing import host_settings

FIXTURES = Path(__file__).parents[2] / "fixtures" / "plugins"


async def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def test_a_subscriber_receives_events_matching_its_pattern(lumina_host, backend):
    async with lumina_host(plugins=[], **backend) as host:
        bus: EventBus = host.kernel.services.get("events")
        received: list[dict[str, Any]] = []

        async def on_graph(event):
            received.append(event)

        stop = bus.subscribe("graph.*", on_graph, owner="test")
        await asyncio.sleep(0.2)  # the Redis consumer group is created
        await bus.publish("graph.node_added", {"node": "Mandelbrot set"}, source="test")
        await bus.publish("planner.logged", {"line": "not for graph"}, source="test")
        await wait_for(lambda: received)
        stop()
        event = received[0]
        assert (event["type"], event["v"], event["source"]) == ("graph.node_added", 1, "test")
        assert event["payload"] == {"node": "Mandelbrot set"} and event["ts"].endswith("Z")
        await asyncio.sleep(0.1)
        assert len(received) == 1


async def test_a_failing_handler_does_not_stop_its_subscription(lumina_host, backend):
    async with lumina_host(plugins=[], **backend) as host:
        bus: EventBus = host.kernel.services.get("events")
        seen: list[str] = []

        async def fragile(event):
            seen.append(event["payload"]["n"])
            if event["payload"]["n"] == 1:
                raise RuntimeError("boom")

        bus.subscribe("probe.tick", fragile, owner="test")
        await asyncio.sleep(0.2)
        for n in (1, 2):
            await bus.publish("probe.tick", {"n": n}, source="test")
        await wait_for(lambda: len(seen) == 2)


async def test_plugins_subscribe_through_their_hook_and_lose_it_when_stopped(lumina_host, backend, tmp_path):
    journal = tmp_path / "journal.jsonl"
    config = {"probe": {"journal": str(journal)}}
    async with lumina_host(plugins=["probe"], plugins_dir=FIXTURES / "..", plugin_config=config, **backend) as host:
        assert host.state("probe") == "started", host.kernel.get("probe").error
        bus: EventBus = host.kernel.services.get("events")
        await asyncio.sleep(0.2)
        await bus.publish("probe.pinged", {}, source="test")
        await wait_for(lambda: journal.exists() and "probe.pinged" in journal.read_text())
        await host.client.post("/plugins/probe/disable")
        await bus.publish("probe.pinged_again", {}, source="test")
        await asyncio.sleep(0.3)
        assert "probe.pinged_again" not in journal.read_text()


async def test_every_plugin_state_change_is_published(lumina_host, backend):
    async with lumina_host(plugins=["hello"], plugins_dir=FIXTURES, **backend) as host:
        bus: EventBus = host.kernel.services.get("events")
        async with bus.listen(("plugin.*",)) as queue:
            await asyncio.sleep(0.1)
            response = await host.client.post("/plugins/hello/disable")
            assert response.status_code == 200
            events = [await asyncio.wait_for(queue.get(), 5)]
            while events[-1]["payload"]["action"] != "disable":
                events.append(await asyncio.wait_for(queue.get(), 5))
        event = events[-1]
        assert event["type"] == "plugin.state_changed" and event["source"] == "core"
        assert (event["payload"]["plugin"], event["payload"]["state"]) == ("hello", "disabled")


async def test_events_are_recorded_for_sql_queries(lumina_host, lumina_data_dir, backend):
    async with lumina_host(plugins=[], **backend) as host:
        bus: EventBus = host.kernel.services.get("events")
        for node in ("a", "b", "c"):
            await bus.publish("graph.node_added", {"node": node, "agent": "crawler"}, source="crawler")
        await bus.store.flush()
    columns, rows = event_store.query(
        lumina_data_dir,
        "SELECT json_extract(payload, '$.agent') AS agent, count(*) AS n FROM events "
        "WHERE type = 'graph.node_added' GROUP BY agent",
    )
    assert columns == ["agent", "n"] and rows == [("crawler", 3)]


def test_a_query_cannot_change_the_event_log(lumina_data_dir):
    event_store.EventStore(lumina_data_dir)._connection.close()
    with pytest.raises(ValidationFailed, match="readonly"):
        event_store.query(lumina_data_dir, "DELETE FROM events")


async def test_bad_event_types_and_payloads_are_refused(lumina_host, backend):
    async with lumina_host(plugins=[], **backend) as host:
        bus: EventBus = host.kernel.services.get("events")
        with pytest.raises(ValidationFailed, match="area.thing_happened"):
            await bus.publish("NodeAdded", {}, source="test")
        with pytest.raises(ValidationFailed, match="not JSON"):
            await bus.publish("graph.node_added", {"when": object()}, source="test")


# --- what only the Redis Streams backend does ---------------------------------------------


def redis_bus(settings: dict[str, Any], data_dir: Path, **overrides: Any) -> EventBus:
    return build_bus(host_settings(data_dir, [], **settings, **overrides))


async def test_a_consumer_group_shares_events_between_processes(redis_backend, tmp_path):
    """Two buses stand for two processes: each event is handled once by the group in total."""
    buses = [redis_bus(redis_backend, tmp_path / str(i)) for i in range(2)]
    handled: list[tuple[int, int]] = []
    for number, bus in enumerate(buses):
        await bus.start()

        async def handler(event, number=number):
            handled.append((number, event["payload"]["n"]))

        bus.subscribe("graph.*", handler, owner="indexer")
    await asyncio.sleep(0.3)
    for n in range(40):
        await buses[n % 2].publish("graph.node_added", {"n": n}, source="test")
    await wait_for(lambda: len(handled) == 40)
    await asyncio.sleep(0.2)
    assert sorted(n for _, n in handled) == list(range(40))
    for bus in buses:
        await bus.close()


async def test_events_left_pending_by_a_dead_consumer_are_reclaimed(redis_backend, tmp_path):
    bus = redis_bus(redis_backend, tmp_path, events_claim_idle=0.3)
    backend_: RedisBackend = bus.backend  # type: ignore[assignment]
    key, group = backend_.key("graph/v1"), "indexer:graph.*"
    raw = aioredis.Redis.from_url(redis_backend["redis_url"])
    await raw.xgroup_create(key, group, id="$", mkstream=True)
    await raw.xadd(key, {"event": json.dumps({"id": "x1", "type": "graph.node_added", "v": 1, "ts": "", "source": "t", "payload": {}})})
    await raw.xreadgroup(group, "dead-consumer", {key: ">"}, count=10)  # read, never acknowledged
    received: list[str] = []

    async def handler(event):
        received.append(event["id"])

    await bus.start()
    bus.subscribe("graph.*", handler, owner="indexer")
    await wait_for(lambda: received == ["x1"])
    await wait_for(lambda: True)
    pending = await raw.xpending(key, group)
    assert pending["pending"] == 0
    await bus.close()
    await raw.aclose()


async def test_streams_are_trimmed_to_their_maximum_length(redis_backend, tmp_path):
    bus = redis_bus(redis_backend, tmp_path, events_maxlen=100)
    await bus.start()
    await asyncio.gather(*(bus.publish("graph.node_added", {"n": n}, source="t") for n in range(2000)))
    length = await bus.backend.client.xlen(bus.backend.key("graph/v1"))
    assert length < 400
    await bus.close()


async def test_a_finished_chat_turn_is_published_without_its_text(lumina_host, backend):
    from lumina_core.contract import ChatRequest, ChatTurn, Message, Usage

    async with lumina_host(plugins=[], **backend) as host:
        bus: EventBus = host.kernel.services.get("events")
        request = ChatRequest(messages=(Message("user", "my secret question"),), user_id="ada")
        turn = ChatTurn(request=request, reply="the secret answer", model="m1", usage=Usage(12, 30), latency_ms=41.5, turn_id="t1")
        async with bus.listen(("chat.*",)) as queue:
            await asyncio.sleep(0.1)
            await host.kernel.call_each("after_chat_turn", turn=turn)
            event = await asyncio.wait_for(queue.get(), 5)
    assert event["type"] == "chat.turn_completed"
    assert event["payload"] == {
        "turn_id": "t1", "user_id": "ada", "brain_id": "default", "model": "m1",
        "prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42, "latency_ms": 41.5,
    }
    assert "secret" not in json.dumps(event)
