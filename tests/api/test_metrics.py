"""``/metrics`` is Prometheus text that Prometheus' own parser reads; ``/metrics/summary`` is JSON."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from lumina_core.api.metrics import RequestMetrics

FIXTURES = Path(__file__).parents[1] / "fixtures" / "plugins"


def samples(text: str, name: str) -> list:
    return [s for f in text_string_to_metric_families(text) for s in f.samples if s.name == name]


async def test_metrics_parse_and_count_requests_by_route_template(lumina_host):
    async with lumina_host(plugins=[]) as host:
        await host.client.get("/tasks/some-id")
        await host.client.get("/nowhere/at/all")
        response = await host.client.get("/metrics")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        requests = samples(response.text, "lumina_http_requests_total")
        routes = {(s.labels["route"], s.labels["status"]) for s in requests}
        assert ("/tasks/{task_id}", "404") in routes and ("<unmatched>", "404") in routes
        assert samples(response.text, "lumina_http_request_duration_seconds_count")


async def test_metrics_show_each_plugins_state_hook_latency_and_hook_errors(lumina_host):
    async with lumina_host(plugins=["hello", "setup-error"], plugins_dir=FIXTURES) as host:
        text = (await host.client.get("/metrics")).text
    states = {(s.labels["plugin"], s.labels["state"]): s.value for s in samples(text, "lumina_plugin_state")}
    assert states[("hello", "started")] == 1 and states[("hello", "failed")] == 0
    assert states[("setup-error", "failed")] == 1
    errors = {(s.labels["plugin"], s.labels["hook"]) for s in samples(text, "lumina_plugin_hook_errors_total") if s.value}
    assert ("setup-error", "startup") in errors
    hooks = {s.labels["hook"] for s in samples(text, "lumina_plugin_hook_duration_seconds_count")}
    assert "startup" in hooks


async def test_the_summary_is_json_with_totals_plugins_and_node_growth(lumina_host):
    async with lumina_host(plugins=["hello"], plugins_dir=FIXTURES) as host:
        bus = host.kernel.services.get("events")
        await bus.publish("graph.node_added", {"node": "Mandelbrot set"}, source="test")
        await bus.store.flush()
        summary = (await host.client.get("/metrics/summary")).json()
    assert summary["plugins"]["hello"]["state"] == "started"
    assert summary["totals"]["lumina_events_published_total"] >= 1
    assert summary["node_growth"][-1]["nodes"] >= 1
    assert summary["metrics"]["lumina_task_queue_depth"]["type"] == "gauge"


def test_request_latency_is_a_cumulative_prometheus_histogram_per_route():
    metrics = RequestMetrics()
    for seconds in (0.0005, 0.003, 0.003, 42.0):
        metrics.record("GET", "/tasks/{task_id}", 200, seconds)
    metrics.record("GET", "/tasks/{task_id}", 404, 0.0005)
    text = generate_latest(_only(metrics)).decode()
    counts = {s.labels["status"]: s.value for s in samples(text, "lumina_http_requests_total")}
    assert counts == {"200": 4, "404": 1}
    buckets = {s.labels["le"]: s.value for s in samples(text, "lumina_http_request_duration_seconds_bucket")}
    assert (buckets["0.001"], buckets["0.005"], buckets["30.0"], buckets["+Inf"]) == (2, 4, 4, 5)
    [total] = samples(text, "lumina_http_request_duration_seconds_sum")
    assert total.value == pytest.approx(42.007)


def _only(collector: RequestMetrics) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(collector)
    return registry
