"""Live events reach clients over a real socket: SSE on GET /events, JSON on the /stream WebSocket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from lumina_core.builtins.events import stream_message
from lumina_core.testing import LuminaProcess

FIXTURES = Path(__file__).parents[1] / "fixtures" / "plugins"


@pytest.fixture
def server(backend, tmp_path):
    process = LuminaProcess.serve(
        tmp_path / "data", tmp_path / "server.log", plugins_dir=FIXTURES, load_plugins="hello", **backend
    )
    yield process
    process.stop()


def disable_hello(server: LuminaProcess) -> None:
    assert httpx.post(f"{server.url}/plugins/hello/disable", timeout=10).status_code == 200


def test_an_sse_client_receives_the_events_it_asked_for(server):
    with httpx.stream("GET", f"{server.url}/events", params={"type": "plugin.*"}, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == ": listening"
        disable_hello(server)
        event = read_sse_event(lines, until=lambda e: e["payload"]["action"] == "disable")
    assert (event["type"], event["payload"]["plugin"], event["payload"]["state"]) == (
        "plugin.state_changed", "hello", "disabled",
    )


def read_sse_event(lines, until) -> dict[str, Any]:
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                event = json.loads(fields["data"])
                assert fields["event"] == event["type"] and fields["id"] == event["id"]
                if until(event):
                    return event
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value
    raise AssertionError("the stream ended without the event")


def test_a_bad_type_filter_is_a_422(server):
    response = httpx.get(f"{server.url}/events", params={"type": "Graph Added"}, timeout=10)
    assert response.status_code == 422 and response.json()["error"]["field"] == "type"


async def test_a_websocket_client_receives_events_as_json(server):
    url = server.url.replace("http://", "ws://") + "/stream?type=plugin.state_changed"
    async with websockets.connect(url) as socket:
        async with httpx.AsyncClient() as client:
            assert (await client.post(f"{server.url}/plugins/hello/disable")).status_code == 200
        while True:
            event = json.loads(await socket.recv())
            if event["payload"]["action"] == "disable":
                break
    assert event["payload"]["plugin"] == "hello"


async def test_the_live_feed_is_for_admins_when_sign_in_is_required(tmp_path) -> None:
    server = LuminaProcess.serve(tmp_path / "data", tmp_path / "server.log", require_auth=1)
    try:
        feed = httpx.get(f"{server.url}/events", timeout=10)
        assert feed.status_code == 401 and feed.json()["error"]["type"] == "unauthenticated"
        async with websockets.connect(server.url.replace("http://", "ws://") + "/stream") as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd.code == 1008
        assert closed.value.rcvd.reason.startswith("sign in first")
    finally:
        server.stop()


def test_graph_events_carry_the_seeds_name_for_browser_graphs() -> None:
    added = {"type": "graph.node_added", "v": 1, "payload": {"id": "Apollo_8"}}
    assert stream_message(added) == {**added, "seed_type": "GRAPH_ADD"}
    other = {"type": "plugin.state_changed", "v": 1, "payload": {}}
    assert stream_message(other) == other
