"""The daily summary: the day's events counted into facts, told by the real embedded model."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from lumina_home_security.events import MotionEvent
from lumina_home_security.motion import Box
from lumina_home_security.summary import facts

UTC = ZoneInfo("UTC")
DAY = dt.date(2026, 5, 1)


def event(camera: str, hour: int, minute: int, score: float, armed: bool) -> MotionEvent:
    ts = dt.datetime(2026, 5, 1, hour, minute, tzinfo=UTC).timestamp()
    return MotionEvent(f"{ts}", "local", camera.lower(), camera, ts, score, (Box(1, 2, 3, 4),), armed, 640, 480, "t.jpg")


def test_the_facts_count_events_per_camera_and_name_the_busiest_hour() -> None:
    lines = facts(DAY, [event("Porch", 8, 5, 0.02, True), event("Porch", 8, 40, 0.3, False), event("Garden", 22, 10, 0.05, True)], UTC)
    assert lines[0] == "2026-05-01: 3 motion events in total."
    assert "Camera 'Porch': 2 events (1 while armed, so alerted), first at 08:05, last at 08:40." in lines
    assert "Busiest hour: 08:00-09:00 with 2 events." in lines
    assert lines[-1] == "Largest motion: camera 'Porch' at 08:40, 30% of the picture."


async def test_a_day_without_events_needs_no_model(security_host) -> None:
    async with security_host() as host:
        assert (await host.client.get("/security/summaries/2026-05-01")).status_code == 404
        written = await host.client.post("/security/summaries", json={"date": "2026-05-01"})
        assert written.status_code == 201
        assert written.json()["text"] == "2026-05-01: no motion was detected by any camera." and written.json()["model"] is None


async def test_the_days_events_are_summarised_by_the_language_model(security_host, kit, walk) -> None:
    with kit.servers.SnapshotCamera([f.jpeg for f in walk]) as server:
        async with security_host(summary_max_tokens=12) as host:  # short: this machine's 2 cores are shared
            body = {"name": "Hall", "source": "snapshot", "url": f"{server.url}/s.jpg", "interval_s": 0.05,
                    "detection": {"max_fps": 25, "cooldown_s": 1}}
            await kit.add_camera(host, body)
            await kit.eventually(lambda: kit.events(host), timeout=30)
            written = await host.client.post("/security/summaries", json={})
            assert written.status_code == 201, written.text
            summary = written.json()
            assert summary["model"] and summary["text"] and "1 motion events in total." in summary["facts"][0]
            stored = await host.client.get(f"/security/summaries/{summary['date']}")
            assert stored.json() == summary
