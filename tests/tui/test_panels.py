"""Plugin-declared panels on the plugin's detail pane: drawn from the manifest, fed by HTTP only."""

from __future__ import annotations

from textual.widgets import DataTable, Log, Markdown, Sparkline, Static

from lumina_tui.panels import PluginPanel, stat_text
from lumina_tui.views.base import Notice


def panels_by_title(app) -> dict[str, PluginPanel]:
    """The panels on the detail pane now (a newer selection replaces them)."""
    return {panel.title_text: panel for panel in app.query(PluginPanel) if panel.endpoint.startswith("/dashboard/")}


def notice(panel: PluginPanel) -> str:
    return str(panel.query_one(Notice).render())


async def test_each_declared_panel_renders_and_a_bad_one_only_breaks_its_own_box(
    panels_server, dashboard, wait_until
) -> None:
    app = dashboard(panels_server.url)
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.press("2")
        table = app.query_one("#plugins-table", DataTable)
        await wait_until(pilot, lambda: "dashboard" in {k.value for k in table.rows}, what="plugin listed")
        table.move_cursor(row=table.get_row_index("dashboard"))
        await wait_until(pilot, lambda: len(panels_by_title(app)) == 7, what="seven panels mounted")

        def drawn() -> bool:
            panels = panels_by_title(app)
            return len(panels) == 7 and (
                "memories" in str(panels["Memories"].query_one(".panel-body", Static).render())
                and panels["Users"].query_one(DataTable).row_count == 2
                and len(panels["Recall latency"].query_one(Sparkline).data or []) == 4
                and panels["Activity"].query_one(Log).line_count == 2
                and "not available" in notice(panels["Missing"])
                and "unexpected shape" in notice(panels["Wrong shape"])
                and "Indexed" in panels["Notes"].query_one(Markdown).source
            )

        await wait_until(pilot, drawn, what="every panel drawn")
        panels = panels_by_title(app)
        assert "Indexed" in panels["Notes"].query_one(Markdown).source
        assert panels["Memories"].interval == 1.0
        assert notice(panels["Memories"]) == ""
        assert panels["Missing"].border_title == "Missing · stat"

        await pilot.press("z")
        assert app.screen.maximized is app.query_one("#plugin-detail"), "z zooms into the detail"
        await pilot.press("3")
        await pilot.pause()
        assert app.screen.maximized is None, "another tab un-zooms"


def test_stat_panels_accept_a_value_a_mapping_or_a_bare_number() -> None:
    assert stat_text({"value": 42, "unit": "ms"}) == "42 ms"
    assert stat_text({"value": None, "unit": "ms", "label": "recall p95"}) == "recall p95: – ms"
    assert stat_text({"memories": 12, "threads": 3}) == "memories  12\nthreads   3"
    assert stat_text(7) == "7"


def test_a_status_document_reads_as_a_column_of_figures() -> None:
    status = {"queue_depth": 2, "budget": {"pages_left": 117, "llm_spent_today": 0.0},
              "last_cycle": {"summary": {"planned": [{"gap_id": "a"}, {"gap_id": "b"}], "detect": ["stale"]}},
              "goals": {}, "next_cycle_at": None}
    assert stat_text(status).splitlines() == [
        "queue_depth                 2",
        "budget.pages_left           117",
        "budget.llm_spent_today      0.0",
        "last_cycle.summary.planned  2 items",
        "last_cycle.summary.detect   stale",
        "goals                       –",
        "next_cycle_at               –",
    ]
