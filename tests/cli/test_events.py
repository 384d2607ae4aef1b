"""``lumina events query``: read-only SQL over the event log, as a table or JSON."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from lumina_cli.main import cli
from lumina_core.services.bus import build_bus
from lumina_core.testing import host_settings


def record_events(data_dir) -> None:
    async def publish() -> None:
        bus = build_bus(host_settings(data_dir, [], redis_url=None))
        await bus.start()
        for node in ("a", "b"):
            await bus.publish("graph.node_added", {"node": node}, source="crawler")
        await bus.publish("task.failed", {"kind": "crawl"}, source="core")
        await bus.close()

    asyncio.run(publish())


def test_a_query_prints_a_table_or_json(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMINA_DATA_DIR", str(tmp_path))
    record_events(tmp_path)
    sql = "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type"
    table = CliRunner().invoke(cli, ["events", "query", sql])
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[:3] == ["type              n", "graph.node_added  2", "task.failed       1"]
    as_json = CliRunner().invoke(cli, ["events", "query", "--json", sql])
    assert json.loads(as_json.output) == [{"type": "graph.node_added", "n": 2}, {"type": "task.failed", "n": 1}]


def test_a_write_or_a_bad_query_is_a_one_line_user_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMINA_DATA_DIR", str(tmp_path))
    record_events(tmp_path)
    refused = CliRunner().invoke(cli, ["events", "query", "DELETE FROM events"])
    assert refused.exit_code == 1 and "readonly" in refused.output
    typo = CliRunner().invoke(cli, ["events", "query", "SELEC 1"])
    assert typo.exit_code == 1 and "the table is events(" in typo.output


def test_before_any_event_the_query_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMINA_DATA_DIR", str(tmp_path / "empty"))
    result = CliRunner().invoke(cli, ["events", "query", "SELECT 1"])
    assert result.exit_code == 1 and "no events recorded yet" in result.output
