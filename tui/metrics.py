"""Rates and latency percentiles from two scrapes of the server's Prometheus ``/metrics`` text.

Families are found by the end of their name (``*http_requests_total``,
``*http_request_duration_seconds``, ``*events_published_total``), so the server's ``lumina_``
prefix, or a proxy's own, does not matter; each is summed over its label sets.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

_REQUESTS = re.compile(r"http_requests$")
_LATENCY = re.compile(r"http_request_(duration|latency)_seconds$")
_EVENTS = re.compile(r"events_published$")


@dataclass
class Scrape:
    """The totals of one ``/metrics`` read, at a monotonic time ``at`` (seconds)."""

    at: float
    requests: float | None = None
    events: float | None = None
    buckets: dict[float, float] = field(default_factory=dict)  # upper bound (s) -> cumulative count


def parse_scrape(text: str, at: float) -> Scrape:
    """Sum each family of interest over all its label sets."""
    scrape = Scrape(at=at)
    buckets: dict[float, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        name = family.name
        if family.type == "counter" and _REQUESTS.search(name):
            scrape.requests = (scrape.requests or 0) + _total(family)
        elif family.type == "counter" and _EVENTS.search(name):
            scrape.events = (scrape.events or 0) + _total(family)
        elif family.type == "histogram" and _LATENCY.search(name):
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    buckets[float(sample.labels["le"])] += sample.value
    scrape.buckets = dict(buckets)
    return scrape


def _total(family: object) -> float:
    return sum(s.value for s in family.samples if s.name.endswith("_total") or s.name == family.name)  # type: ignore[attr-defined]


def per_second(before: float | None, after: float | None, seconds: float) -> float | None:
    """The rate of a counter between two reads (a restart that resets it counts from zero)."""
    if before is None or after is None or seconds <= 0:
        return None
    delta = after - before if after >= before else after
    return delta / seconds


def quantile_ms(before: Scrape, after: Scrape, q: float) -> float | None:
    """The ``q`` quantile of the requests between two scrapes, like PromQL's histogram_quantile."""
    bounds = sorted(after.buckets)
    counts = [after.buckets[b] - before.buckets.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return None
    rank = q * counts[-1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if math.isinf(bound):
                return lower_bound * 1000
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 1.0
            return (lower_bound + (bound - lower_bound) * share) * 1000
        lower_bound, lower_count = bound, count
    return None
