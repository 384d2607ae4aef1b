"""What the dashboard specs read off the screen, in one place."""

from __future__ import annotations

from textual.widgets import DataTable

SIZE = (80, 24)  # the smallest terminal the dashboard promises to work in


def header(app) -> str:  # noqa: ANN001 - any LuminaApp
    return app.status.describe()


def plugin_state(app, name: str) -> str:  # noqa: ANN001
    """The state cell of plugin ``name`` in the Plugins table, or '' while it is not listed."""
    table = app.query_one("#plugins-table", DataTable)
    if name not in {key.value for key in table.rows}:
        return ""
    return str(table.get_cell(name, "state"))
