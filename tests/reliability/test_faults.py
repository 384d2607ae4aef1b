"""One plugin never takes the host down: with plugins failing at import, in setup, in a hook, in a
route and hanging at start, every other route answers under load (the ``faults`` scenario)."""

from __future__ import annotations

import pytest

from ops.reliability.faults import run_faults


@pytest.mark.timeout(400)
async def test_broken_plugins_cost_other_routes_nothing_under_load() -> None:
    figures = await run_faults(seconds=3.0, concurrency=6)
    assert {name: p["state"] for name, p in figures["plugins"].items()} == {
        "import-error": "failed", "setup-error": "failed", "bad-hook": "started", "hangs": "failed", "hello": "started",
    }
    healthy = figures["healthy_routes"]
    assert healthy["requests"] > 50 and healthy["errors"] == 0 and healthy["ok_ratio"] == 1.0
    assert healthy["statuses"] == {200: healthy["requests"]}
    assert figures["faulty_routes"] and all(set(c) == {503} for c in figures["faulty_routes"].values())
    assert figures["route_fault_answer"] == "unavailable"
    assert figures["chat_with_a_failing_context_hook"] == 200
