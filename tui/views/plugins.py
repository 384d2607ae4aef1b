"""Plugins: every plugin's state, the selected one's manifest and panels, enable/disable/reload.

The table polls ``/plugins`` every second and is diffed by plugin name, so a change made
elsewhere (CLI, REST, a crash) shows within two seconds and the cursor never jumps.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import DataTable, Static

from lumina_tui.client import ApiProblem, Disconnected
from lumina_tui.dialogs import ConfirmScreen
from lumina_tui.panels import PluginPanel
from lumina_tui.tables import sync_table
from lumina_tui.views.base import Notice, PolledView

#: (column key, title) of the plugins table.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("version", "Version"),
    ("state", "State"),
    ("permissions", "Permissions"),
    ("endpoints", "Endpoints"),
    ("error", "Last error"),
)
STATE_STYLE = {"started": "green", "disabled": "dim", "failed": "red", "invalid": "red", "incompatible": "yellow"}
ERROR_CHARS = 80
ACTIONS = {"enable": "Switch on", "disable": "Switch off", "reload": "Re-import"}


def plugin_row(plugin: Mapping[str, Any]) -> dict[str, str]:
    """The table cells of one ``/plugins`` item."""
    state = escape(str(plugin.get("state", "?")))
    return {
        "name": str(plugin["name"]),
        "version": escape(str(plugin.get("version") or "-")),
        "state": f"[{STATE_STYLE.get(state, 'yellow')}]{state}[/]",
        "permissions": escape(_shortened(plugin.get("permissions") or [])),
        "endpoints": str(len(plugin.get("endpoints") or [])),
        "error": escape(str(plugin.get("error") or "")[:ERROR_CHARS]),
    }


def _shortened(items: Sequence[str]) -> str:
    """The first item and how many more: the detail pane lists them all."""
    if not items:
        return "-"
    return items[0] if len(items) == 1 else f"{items[0]} +{len(items) - 1}"


class PluginsView(PolledView):
    """The Plugins tab: the table above, the selected plugin's detail below."""

    interval = 1.0
    DEFAULT_CSS = """
    PluginsView #plugins-table { height: 3fr; min-height: 5; }
    PluginsView #plugin-detail { height: 2fr; border-top: solid $primary; }
    PluginsView #plugin-panels { height: auto; }
    """
    BINDINGS = [
        Binding("e", "change('enable')", "Enable", id="plugins.enable"),
        Binding("d", "change('disable')", "Disable", id="plugins.disable"),
        Binding("r", "change('reload')", "Reload", id="plugins.reload"),
        Binding("z", "zoom", "Zoom", id="plugins.zoom"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._shown_detail: tuple[str, str] | None = None
        self._detail_generation = 0

    def compose(self) -> ComposeResult:
        yield Notice()
        table: DataTable = DataTable(id="plugins-table", cursor_type="row", zebra_stripes=True)
        for key, title in COLUMNS:
            table.add_column(title, key=key)
        yield table
        with VerticalScroll(id="plugin-detail"):
            yield Static("Select a plugin to see its manifest and panels.", id="plugin-summary")
            yield Vertical(id="plugin-panels")
            yield Static("", id="plugin-manifest", markup=False)

    async def fetch(self) -> list[Any]:
        return await self.client.get_items("/plugins", {"limit": 500})

    def show(self, plugins: list[Any]) -> None:
        table = self.query_one("#plugins-table", DataTable)
        with self.app.batch_update():
            sync_table(table, {str(p["name"]): plugin_row(p) for p in plugins})
        self._follow_selection()

    @property
    def selected(self) -> str | None:
        table = self.query_one("#plugins-table", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "plugins-table":
            self._follow_selection()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a plugin: its detail and panels fill the screen until Esc."""
        if event.data_table.id == "plugins-table":
            self.action_zoom()

    def action_zoom(self) -> None:
        detail = self.query_one("#plugin-detail", VerticalScroll)
        self.screen.maximized = detail
        detail.focus()

    def _follow_selection(self) -> None:
        """Show the selected plugin's detail when the selection or its state changed."""
        name = self.selected
        if name is None:
            return
        state = str(self.query_one("#plugins-table", DataTable).get_cell(name, "state"))
        if self._shown_detail != (name, state):
            self._shown_detail = (name, state)
            self.work(partial(self._load_detail, name), "plugin-detail")

    async def _load_detail(self, name: str) -> None:
        summary = self.query_one("#plugin-summary", Static)
        try:
            detail = await self.client.get_json(f"/plugins/{name}")
        except ApiProblem as problem:
            summary.update(f"[b]{escape(name)}[/b]\n{escape(str(problem))}")
            return
        await self._render_detail(detail)

    async def _render_detail(self, detail: Mapping[str, Any]) -> None:
        manifest = detail.get("manifest") or {}
        self.query_one("#plugin-summary", Static).update(describe_plugin(detail))
        self.query_one("#plugin-manifest", Static).update(describe_manifest(manifest))
        box = self.query_one("#plugin-panels", Vertical)
        self._detail_generation += 1
        generation = self._detail_generation
        specs = (manifest.get("ui") or {}).get("panels") or [] if isinstance(manifest, Mapping) else []
        panels = [PluginPanel(spec) for spec in specs if isinstance(spec, Mapping)]
        for panel in panels:
            panel.generation = generation
        await box.mount_all(panels)
        # Also drops the panels of a render that a newer selection interrupted half-way.
        await box.remove_children([p for p in box.query(PluginPanel) if p.generation != generation])

    def action_change(self, action: str) -> None:
        name = self.selected
        if name is None:
            self.say("no plugin selected")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.work(partial(self._change, name, action), "plugin-change", exclusive=False)

        self.app.push_screen(ConfirmScreen(f"{ACTIONS[action]} plugin '{name}' on {self.client.url}?"), confirmed)

    async def _change(self, name: str, action: str) -> None:
        try:
            result = await self.client.post_json(f"/plugins/{name}/{action}")
        except ApiProblem as problem:
            self.app.notify(f"{action} '{name}' failed: {problem}", severity="error", timeout=8, markup=False)
            if isinstance(problem, Disconnected):
                self.lumina.report_lost()
            return
        state = result.get("state", "?") if isinstance(result, Mapping) else "?"
        self.app.notify(f"{action} '{name}': now {state}", markup=False)
        self.refresh_now()

    def commands(self) -> Iterable[SystemCommand]:
        name = self.selected or "the selected plugin"
        yield SystemCommand(f"Plugin: zoom into {name}", "Its manifest and panels fill the screen; Esc returns (z, Enter)", self.action_zoom)
        for action, verb in ACTIONS.items():
            yield SystemCommand(
                f"Plugin: {action} {name}", f"{verb} {name} (asks first)", lambda a=action: self.action_change(a)
            )


def describe_plugin(detail: Mapping[str, Any]) -> str:
    """The top of the detail pane: name, state, origin, error, permissions and problems."""
    head = f"{detail.get('name')} {detail.get('version') or ''} · {detail.get('state')} · {detail.get('origin', '')}"
    lines = [f"[b]{escape(head)}[/b]", escape(str(detail.get("description") or ""))]
    if detail.get("error"):
        lines.append(f"[red]error:[/] {escape(str(detail['error']))}")
    if detail.get("permissions"):
        lines.append(escape(f"permissions: {', '.join(detail['permissions'])}"))
    lines.extend(f"[yellow]problem:[/] {escape(str(p))}" for p in detail.get("problems") or [])
    return "\n".join(lines)


def describe_manifest(manifest: Any) -> str:
    """The bottom of the detail pane, below the panels: prefixes, dependencies, endpoints, config."""
    if not isinstance(manifest, Mapping) or not manifest:
        return ""
    prefixes = ", ".join(manifest.get("prefix") or [])
    lines = [f"api_version {manifest.get('api_version')} · prefix {prefixes}"]
    if manifest.get("dependencies"):
        lines.append(f"depends on {', '.join(manifest['dependencies'])}")
    for endpoint in manifest.get("endpoints") or []:
        lines.append(f"  {endpoint.get('method')} {endpoint.get('path')}  {endpoint.get('description', '')}")
    if manifest.get("config"):
        lines.append("config schema: " + json.dumps(manifest["config"], ensure_ascii=False))
    return "\n".join(lines)
