"""How the dashboard reads the server's answers: metrics text, OpenAPI forms, backoff, panels."""

from __future__ import annotations

import httpx
import pytest

from lumina_tui.client import LuminaClient
from lumina_tui.connection import Backoff, Link, Status
from lumina_tui.metrics import parse_scrape, per_second, quantile_ms
from lumina_tui.openapi import Field, build_request, operations
from lumina_tui.views.events import parse_event

METRICS_BEFORE = """\
# TYPE lumina_http_requests_total counter
lumina_http_requests_total{method="GET",route="/health",status="200"} 10.0
lumina_http_requests_total{method="GET",route="/plugins",status="200"} 5.0
# TYPE lumina_http_request_duration_seconds histogram
lumina_http_request_duration_seconds_bucket{le="0.01",route="/health"} 10.0
lumina_http_request_duration_seconds_bucket{le="0.1",route="/health"} 15.0
lumina_http_request_duration_seconds_bucket{le="+Inf",route="/health"} 15.0
lumina_http_request_duration_seconds_count{route="/health"} 15.0
lumina_http_request_duration_seconds_sum{route="/health"} 0.3
# TYPE lumina_events_published_total counter
lumina_events_published_total{type="plugin.state_changed"} 2.0
# TYPE lumina_plugin_hook_duration_seconds histogram
lumina_plugin_hook_duration_seconds_bucket{le="+Inf",hook="startup"} 99.0
"""
METRICS_AFTER = METRICS_BEFORE.replace("} 10.0\nlumina_http_requests_total", "} 30.0\nlumina_http_requests_total").replace(
    'le="0.01",route="/health"} 10.0', 'le="0.01",route="/health"} 20.0'
).replace('le="0.1",route="/health"} 15.0', 'le="0.1",route="/health"} 35.0').replace(
    'le="+Inf",route="/health"} 15.0', 'le="+Inf",route="/health"} 35.0'
).replace("state_changed\"} 2.0", "state_changed\"} 12.0")


def test_rates_and_percentiles_come_from_two_scrapes() -> None:
    before, after = parse_scrape(METRICS_BEFORE, at=100.0), parse_scrape(METRICS_AFTER, at=102.0)
    assert (before.requests, after.requests) == (15.0, 35.0)
    assert per_second(before.requests, after.requests, 2.0) == 10.0
    assert per_second(before.events, after.events, 2.0) == 5.0
    # 20 requests between the scrapes: 10 under 10 ms, 10 between 10 and 100 ms.
    assert quantile_ms(before, after, 0.5) == pytest.approx(10.0)
    assert quantile_ms(before, after, 0.95) == pytest.approx(91.0)


def test_a_server_restart_counts_from_zero_and_missing_families_give_no_rate() -> None:
    assert per_second(500.0, 20.0, 2.0) == 10.0
    assert per_second(None, 20.0, 2.0) is None
    empty = parse_scrape("", at=1.0)
    assert quantile_ms(empty, empty, 0.5) is None


OPENAPI = {
    "paths": {
        "/notes/{note_id}": {
            "put": {
                "summary": "Replace a note",
                "parameters": [
                    {"name": "note_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "dry_run", "in": "query", "schema": {"anyOf": [{"type": "boolean"}, {"type": "null"}]}},
                ],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Note"}}}},
            }
        },
        "/health": {"get": {"tags": ["health"]}},
    },
    "components": {
        "schemas": {
            "Note": {
                "type": "object",
                "required": ["text"],
                "properties": {"text": {"type": "string"}, "stars": {"type": "integer", "default": 3}, "tags": {"type": "array"}},
            }
        }
    },
}


def test_operations_are_grouped_by_the_declaring_plugin_with_typed_fields() -> None:
    notes, health = operations(OPENAPI, owners={"PUT /notes/{note_id}": "notes"})
    assert (notes.group, health.group) == ("notes", "core: health")
    assert [(f.name, f.location, f.type) for f in notes.fields] == [
        ("note_id", "path", "string"), ("dry_run", "query", "boolean"),
        ("text", "body", "string"), ("stars", "body", "integer"), ("tags", "body", "array"),
    ]
    assert notes.fields[3].hint() == "integer = 3"


def test_a_form_becomes_a_request_or_names_the_wrong_field() -> None:
    (notes, _) = operations(OPENAPI, owners={})
    path, params, body = build_request(notes, {"note_id": "n1", "dry_run": "yes", "text": "hi", "tags": '["a"]'})
    assert (path, params, body) == ("/notes/n1", {"dry_run": True}, {"text": "hi", "tags": ["a"]})
    with pytest.raises(ValueError, match="^text: required"):
        build_request(notes, {"note_id": "n1"})
    with pytest.raises(ValueError, match="^stars: 'many' is not a valid integer"):
        build_request(notes, {"note_id": "n1", "text": "hi", "stars": "many"})
    assert Field("x", "query", "boolean").hint() == "boolean"


def test_backoff_doubles_up_to_a_ceiling_and_the_header_says_when_it_retries() -> None:
    backoff = Backoff(initial=1, maximum=8, jitter=0)
    assert [backoff.next_delay() for _ in range(5)] == [1, 2, 4, 8, 8]
    backoff.reset()
    assert backoff.next_delay() == 1
    status = Status(Link.DISCONNECTED, "http://h:8000", retry_in_s=2, attempt=3)
    assert status.describe() == "○ disconnected, retrying in 2 s (attempt 3) · http://h:8000"


def test_an_event_becomes_one_tail_line_with_a_readable_payload() -> None:
    data = (
        '{"id": "e1", "type": "plugin.state_changed", "v": 1, "ts": "2026-11-23T17:36:06.250Z", "source": "core",'
        ' "payload": {"plugin": "dependent", "state": "disabled", "builtin": false}}'
    )
    line = parse_event("plugin.state_changed", data).line()
    assert line == "17:36:06.250  plugin.state_changed     core       plugin=dependent state=disabled builtin=false"
    assert parse_event("ping", "not json").topic == "ping"


async def test_a_heartbeat_comment_after_an_event_with_an_id_is_not_an_event() -> None:
    frames = b"id: 7\nevent: plugin.state_changed\ndata: {}\n\n: ping - 2026-11-23 17:00:00\n\n"

    async def stream(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": frames})

    client = LuminaClient("http://lumina.test", transport=httpx.ASGITransport(app=stream))
    try:
        received = [pair async for pair in client.stream_sse("GET", "/events")]
    finally:
        await client.aclose()
    assert received == [("plugin.state_changed", "{}")]
