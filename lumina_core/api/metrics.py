"""Request counts and latency by route, kept in plain counters and exported when scraped.

Every request is recorded, so recording must cost next to nothing: a dict lookup and three
additions on the event loop's thread, with no lock and no labelled-child lookup. Prometheus'
text comes from :class:`RequestMetrics.collect`, run only when ``/metrics`` is read.

The route label is the route's path template (``/tasks/{task_id}``), read after routing, so ids
never multiply the series; requests that matched no route share one label.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

UNMATCHED = "<unmatched>"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class _RouteSeries:
    """Latency of one (method, route): per-bucket counts (the last is +Inf) and their sum."""

    __slots__ = ("buckets", "total")

    def __init__(self) -> None:
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.total = 0.0


class RequestMetrics(Collector):
    """``lumina_http_requests_total`` (method, route, status) and
    ``lumina_http_request_duration_seconds`` (method, route), as Prometheus defines them."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}
        self._latency: dict[tuple[str, str], _RouteSeries] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request. Called from the event loop only, hence no lock."""
        key = (method, route, status)
        self._counts[key] = self._counts.get(key, 0) + 1
        series = self._latency.get(key[:2])
        if series is None:
            series = self._latency[key[:2]] = _RouteSeries()
        series.buckets[bisect_left(BUCKETS, seconds)] += 1
        series.total += seconds

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        requests = CounterMetricFamily(
            "lumina_http_requests", "HTTP requests, by method, route and status.", labels=["method", "route", "status"]
        )
        for (method, route, status), count in list(self._counts.items()):
            requests.add_metric([method, route, str(status)], count)
        latency = HistogramMetricFamily(
            "lumina_http_request_duration_seconds", "Time to the end of the response, by method and route.",
            labels=["method", "route"],
        )
        for (method, route), series in list(self._latency.items()):
            latency.add_metric([method, route], _cumulative(series.buckets), series.total)
        yield requests
        yield latency


def _cumulative(counts: list[int]) -> list[tuple[str, float]]:
    bounds = [*(str(float(b)) for b in BUCKETS), "+Inf"]
    running, cumulative = 0, []
    for bound, count in zip(bounds, counts):
        running += count
        cumulative.append((bound, running))
    return cumulative


REQUEST_METRICS = RequestMetrics()
REGISTRY.register(REQUEST_METRICS)
