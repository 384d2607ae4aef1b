"""Overview: version, uptime, each part's health, plugin states, traffic and the backends in use.

``/health`` gives the parts; two reads of ``/metrics`` a second or two apart give request and
event rates and latency percentiles, kept in short deques for the sparklines. ``/v1/models``
names the models when the chat gateway is installed. Each source can be missing on its own.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.widgets import DataTable, Label, Sparkline, Static

from lumina_tui.client import ApiProblem, Disconnected
from lumina_tui.metrics import Scrape, parse_scrape, per_second, quantile_ms
from lumina_tui.tables import sync_table
from lumina_tui.views.base import Notice, PolledView

POINTS = 60
STATUS_STYLE = {"ok": "green", "degraded": "yellow", "down": "red"}
_SEVERITY = {"down": 0, "degraded": 1, "ok": 2}


@dataclass
class Sources:
    """One poll's answers; a source that failed holds the problem instead of data."""

    health: Any
    metrics: str | ApiProblem
    models: Any


def format_uptime(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


class Trend(Vertical):
    """A titled sparkline with its latest value as caption."""

    DEFAULT_CSS = """
    Trend { width: 1fr; height: 5; border: round $primary; padding: 0 1; }
    Trend Sparkline { height: 2; }
    Trend Label { color: $text-muted; }
    """

    def __init__(self, title: str, unit: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = title
        self.unit = unit
        self.points: deque[float] = deque(maxlen=POINTS)

    def compose(self) -> ComposeResult:
        yield Sparkline([])
        yield Label("waiting for data")

    def add(self, value: float | None, caption: str | None = None) -> None:
        if value is not None:
            self.points.append(value)
            self.query_one(Sparkline).data = list(self.points)
        self.query_one(Label).update(caption or (f"{value:.1f} {self.unit}" if value is not None else "no data"))


class OverviewView(PolledView):
    """The Overview tab."""

    interval = 1.5
    DEFAULT_CSS = """
    OverviewView #summary { height: auto; padding: 0 1; }
    OverviewView #metrics-note { height: auto; padding: 0 1; color: $text-muted; }
    OverviewView #trends { height: 5; }
    OverviewView #checks { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._last_scrape: Scrape | None = None

    def compose(self) -> ComposeResult:
        yield Notice()
        yield Static("waiting for the server…", id="summary")
        yield Static("", id="metrics-note", markup=False)
        with Horizontal(id="trends"):
            yield Trend("requests/s", "req/s", id="trend-requests")
            yield Trend("latency p50/p95/p99", "ms", id="trend-latency")
            yield Trend("events/s", "ev/s", id="trend-events")
        table: DataTable = DataTable(id="checks", cursor_type="row", zebra_stripes=True)
        table.add_column("Part", key="name")
        table.add_column("State", key="status")
        table.add_column("Latency", key="latency")
        table.add_column("Detail", key="detail")
        yield table

    async def fetch(self) -> Sources:
        health, metrics, models = await asyncio.gather(
            self.client.health(),
            self._metrics_text(),
            self._models(),
            return_exceptions=True,
        )
        if isinstance(health, Disconnected):
            raise health
        if isinstance(health, BaseException):
            raise health if isinstance(health, ApiProblem) else ApiProblem(f"/health: {health}")
        return Sources(health, metrics, models)  # type: ignore[arg-type]

    async def _metrics_text(self) -> str | ApiProblem:
        try:
            reply = await self.client.exchange("GET", "/metrics")
        except ApiProblem as problem:
            return problem
        if reply.status == 404:
            return ApiProblem("/metrics: not available on this server")
        if reply.status >= 400:
            return ApiProblem(f"/metrics answered {reply.status}")
        return reply.text

    async def _models(self) -> Any:
        try:
            return await self.client.get_items("/v1/models")
        except ApiProblem as problem:
            return problem

    def show(self, sources: Sources) -> None:
        health = sources.health
        checks = sorted(
            (c for c in health.get("checks", []) if isinstance(c, Mapping)),
            key=lambda c: (str(c.get("name", "")).startswith("plugin:"), _SEVERITY.get(str(c.get("status")), 3)),
        )
        self.query_one("#summary", Static).update(self._summary(health, checks, sources.models))
        with self.app.batch_update():
            sync_table(self.query_one("#checks", DataTable), {str(c.get("name")): _check_row(c) for c in checks})
        self._show_metrics(sources.metrics)

    def _summary(self, health: Mapping[str, Any], checks: list[Mapping[str, Any]], models: Any) -> str:
        status = str(health.get("status", "?"))
        plugin_states = Counter(
            (c.get("detail") or "started").split(":")[0] for c in checks if str(c.get("name", "")).startswith("plugin:")
        )
        plugins = ", ".join(f"{n} {s}" for s, n in sorted(plugin_states.items())) or "none"
        backends = _backends(checks, models)
        style = STATUS_STYLE.get(status, "yellow")
        return (
            f"[b][{style}]{escape(status)}[/][/b]"
            f" · lumina {escape(str(health.get('version', '?')))}"
            f" · up {format_uptime(float(health.get('uptime_s', 0)))}"
            f" · plugins: {escape(plugins)}\n"
            f"backends: {escape(backends)}"
        )

    def _show_metrics(self, metrics: str | ApiProblem) -> None:
        trends = {name: self.query_one(f"#trend-{name}", Trend) for name in ("requests", "latency", "events")}
        self.query_one("#trends").display = not isinstance(metrics, ApiProblem)
        note = self.query_one("#metrics-note", Static)
        note.update(str(metrics) if isinstance(metrics, ApiProblem) else "")
        note.display = isinstance(metrics, ApiProblem)
        if isinstance(metrics, ApiProblem):
            return
        scrape = parse_scrape(metrics, time.monotonic())
        before, self._last_scrape = self._last_scrape, scrape
        if before is None:
            return
        seconds = scrape.at - before.at
        trends["requests"].add(per_second(before.requests, scrape.requests, seconds))
        trends["events"].add(per_second(before.events, scrape.events, seconds))
        p50, p95, p99 = (quantile_ms(before, scrape, q) for q in (0.5, 0.95, 0.99))
        caption = " / ".join("-" if v is None else f"{v:.0f}" for v in (p50, p95, p99)) + " ms"
        trends["latency"].add(p95, caption)


def _check_row(check: Mapping[str, Any]) -> dict[str, str]:
    status = str(check.get("status", "?"))
    latency = check.get("latency_ms")
    return {
        "name": escape(str(check.get("name", "?"))),
        "status": f"[{STATUS_STYLE.get(status, 'yellow')}]{escape(status)}[/]",
        "latency": "" if latency is None else f"{float(latency):.0f} ms",
        "detail": escape(str(check.get("detail") or "")),
    }


def _backends(checks: list[Mapping[str, Any]], models: Any) -> str:
    """LLM and embedding backends, from health parts named for them and from ``/v1/models``."""
    named = [
        f"{c.get('name')}: {c.get('detail') or c.get('status')}"
        for c in checks
        if any(word in str(c.get("name", "")) for word in ("llm", "embed", "vector", "ollama", "model"))
        and not str(c.get("name", "")).startswith("plugin:")
    ]
    if isinstance(models, list) and models:
        ids = [str(m.get("id")) if isinstance(m, Mapping) else str(m) for m in models]
        named.append("models " + ", ".join(ids[:4]) + ("…" if len(ids) > 4 else ""))
    return "; ".join(named) or "none reported by this server"
