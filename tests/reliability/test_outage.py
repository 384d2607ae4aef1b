"""Redis stopped and started while serving: /health turns degraded and then ok by itself, the host
keeps answering, and no event the bus acknowledged is lost (the ``outage`` scenario, on a private
redis-server: the shared one is never stopped)."""

from __future__ import annotations

import shutil

import pytest

from ops.reliability.outage import redis_outage


@pytest.mark.timeout(300)
async def test_a_redis_outage_degrades_then_recovers_and_loses_no_acknowledged_event() -> None:
    if shutil.which("redis-server") is None:
        pytest.fail("this test runs its own redis-server: apt-get install -y redis-server")
    figures = await redis_outage(events_per_phase=10, outage_s=2.0)
    assert figures["health_before"] == "ok"
    assert figures["degraded_after_s"] < 10 and figures["served_during_outage"] == 200
    assert figures["ok_again_after_restart_s"] < 30
    assert figures["events_acknowledged"] >= 20
    assert figures["acknowledged_events_lost"] == 0
