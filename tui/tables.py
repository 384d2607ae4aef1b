"""Tables that follow live data without flicker: diffed by row key, never cleared and refilled."""

from __future__ import annotations

from collections.abc import Mapping

from textual.widgets import DataTable


def sync_table(table: DataTable, wanted: Mapping[str, Mapping[str, str]]) -> None:
    """Make ``table`` show ``wanted`` (row key -> cells by column): update changed cells, add
    new rows, drop vanished ones, so the cursor and scroll position stay where they are."""
    for row_key in [k for k in table.rows if k.value not in wanted]:
        table.remove_row(row_key)
    present = {k.value for k in table.rows}
    for name, row in wanted.items():
        if name not in present:
            table.add_row(*row.values(), key=name)
            continue
        for column, value in row.items():
            if table.get_cell(name, column) != value:
                table.update_cell(name, column, value)
