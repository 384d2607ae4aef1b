"""The event log: events with their thumbnails, kept per owner, forgotten after the retention."""

from __future__ import annotations

import datetime as dt
import time

from lumina_home_security.events import EventLog
from lumina_home_security.motion import Box


def add(log: EventLog, owner: str, ts: float):
    return log.add(owner=owner, camera_id="porch", camera_name="Porch", ts=ts, score=0.1, boxes=(Box(1, 2, 3, 4),),
                   armed=True, size=(640, 480), thumbnail=b"\xff\xd8jpeg\xff\xd9")


def test_an_event_keeps_its_thumbnail_and_only_its_owner_sees_it(tmp_path) -> None:
    log = EventLog(tmp_path)
    event = add(log, "alice", time.time())
    assert log.thumbnail_path(event).read_bytes() == b"\xff\xd8jpeg\xff\xd9"
    assert log.get("alice", event.id) == event and log.get("bob", event.id) is None
    assert log.page("bob", camera=None, since=None, limit=10, offset=0) == ([], False)


def test_events_past_the_retention_are_forgotten_with_their_thumbnails(tmp_path) -> None:
    log = EventLog(tmp_path)
    old, recent = add(log, "alice", time.time() - 40 * 86_400), add(log, "alice", time.time())
    assert log.forget_before(time.time() - 30 * 86_400) == 1
    assert not log.thumbnail_path(old).exists() and log.thumbnail_path(recent).exists()
    assert [e.id for e in log.page("alice", camera=None, since=None, limit=10, offset=0)[0]] == [recent.id]


async def test_the_daily_job_writes_yesterdays_summary_for_every_camera_owner(security_host, kit) -> None:
    porch = {"name": "Porch", "source": "snapshot", "url": "http://127.0.0.1:9/x.jpg"}
    async with security_host(cameras=[porch], summary_cron="* * * * * *") as host:  # every second
        yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date().isoformat()
        answer = await kit.eventually(lambda: _summary(host, yesterday), timeout=15)
        assert answer["text"] == f"{yesterday}: no motion was detected by any camera."


async def _summary(host, day: str) -> dict | None:
    answer = await host.client.get(f"/security/summaries/{day}")
    return answer.json() if answer.status_code == 200 else None
