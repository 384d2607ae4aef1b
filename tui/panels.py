"""Plugin-declared panels: a box per ``manifest.ui.panels`` entry, fed by one GET endpoint.

No plugin code runs here: the panel's kind picks how the endpoint's JSON is drawn, and a panel
whose endpoint fails or answers an unexpected shape shows that in its own box only.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

from textual.app import ComposeResult
from textual.widgets import DataTable, Label, Log, Markdown, Sparkline, Static

from lumina_tui.client import ApiProblem
from lumina_tui.views.base import Notice, PolledView

KINDS = ("stat", "table", "sparkline", "markdown", "log")
SPARK_POINTS = 60
LOG_LINES = 200


class PluginPanel(PolledView):
    """One declared panel: title, endpoint, kind and refresh interval from the manifest."""

    DEFAULT_CSS = """
    PluginPanel { height: auto; max-height: 16; border: round $primary; padding: 0 1; }
    PluginPanel > .panel-body { height: auto; max-height: 12; }
    PluginPanel > Sparkline.panel-body { height: 3; }
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__(classes="plugin-panel")
        self.title_text = str(spec.get("title", "panel"))
        self.endpoint = str(spec.get("endpoint", ""))
        self.kind = str(spec.get("kind", ""))
        self.interval = max(0.5, float(spec.get("refresh_s") or 5))
        self.border_title = f"{self.title_text} · {self.kind}"
        self._points: deque[float] = deque(maxlen=SPARK_POINTS)
        #: Which rendering of the detail pane mounted this panel (older ones are removed).
        self.generation = 0

    def compose(self) -> ComposeResult:
        yield Notice()
        if self.kind == "table":
            yield DataTable(classes="panel-body", cursor_type="row", zebra_stripes=True)
        elif self.kind == "sparkline":
            yield Sparkline([], classes="panel-body")
            yield Label("", classes="spark-caption")
        elif self.kind == "markdown":
            yield Markdown("", classes="panel-body")
        elif self.kind == "log":
            yield Log(max_lines=LOG_LINES, classes="panel-body")
        else:
            yield Static("", classes="panel-body")

    async def fetch(self) -> Any:
        if self.kind not in KINDS:
            raise ApiProblem(f"unknown panel kind '{self.kind}' (expected one of {', '.join(KINDS)})")
        return await self.client.get_json(self.endpoint)

    def show(self, data: Any) -> None:
        render = getattr(self, f"_show_{self.kind}")
        render(data)

    def _show_stat(self, data: Any) -> None:
        self.query_one(".panel-body", Static).update(stat_text(data))

    def _show_table(self, data: Any) -> None:
        rows = _unwrap(data, "items", "rows", "data")
        if not isinstance(rows, list):
            raise TypeError("a table panel needs a list of objects (or {'items': [...]})")
        table = self.query_one(DataTable)
        columns = list(dict.fromkeys(key for row in rows if isinstance(row, dict) for key in row))
        table.clear(columns=True)
        table.add_columns(*(columns or ["no rows yet"]))
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in columns) if isinstance(row, dict) else [_cell(row)])

    def _show_sparkline(self, data: Any) -> None:
        values = _unwrap(data, "values", "points", "data")
        if isinstance(values, list):
            self._points = deque((float(v) for v in values), maxlen=SPARK_POINTS)
        else:
            self._points.append(float(_unwrap(data, "value")))
        self.query_one(Sparkline).data = list(self._points)
        last = self._points[-1] if self._points else 0
        self.query_one(".spark-caption", Label).update(f"last {last:g} · {len(self._points)} points")

    def _show_markdown(self, data: Any) -> None:
        text = _unwrap(data, "markdown", "text", "content")
        self.query_one(Markdown).update(text if isinstance(text, str) else f"```\n{json.dumps(text, indent=2)}\n```")

    def _show_log(self, data: Any) -> None:
        lines = _unwrap(data, "lines", "items", "entries")
        log = self.query_one(Log)
        log.clear()
        log.write_lines(str(line) if not isinstance(line, dict) else json.dumps(line) for line in lines)


def stat_text(data: Any) -> str:
    """A number, ``{"value": 3, "unit": "ms"}``, or a mapping of names to numbers, as lines; a
    nested mapping's names are joined with dots (``budget.pages_left``), a list of records is
    counted, not dumped, and what is not there yet (``None``, empty) is a dash, so a status
    document reads as a column of figures."""
    if isinstance(data, Mapping) and "value" in data:
        value = "–" if data["value"] is None else _cell(data["value"])
        label = f"{data['label']}: " if data.get("label") else ""
        return f"{label}{value} {data.get('unit', '')}".strip()
    if isinstance(data, Mapping):
        rows = list(_flattened(data))
        width = max((len(name) for name, _ in rows), default=0)
        return "\n".join(f"{name:<{width}}  {_stat_cell(v)}" for name, v in rows)
    return _cell(data)


def _flattened(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from _flattened(value, f"{name}.")
        else:
            yield name, value


def _stat_cell(value: Any) -> str:
    if value is None or value == {} or value == []:
        return "–"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return f"{len(value)} items"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return _cell(value)


def _unwrap(data: Any, *keys: str) -> Any:
    if isinstance(data, Mapping):
        for key in keys:
            if key in data:
                return data[key]
    return data


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)
