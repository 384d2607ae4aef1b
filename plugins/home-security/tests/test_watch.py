"""Watching cameras end to end, over real sockets: a snapshot URL, an MJPEG stream, a folder of
dropped frames (MQTT cameras are in test_mqtt.py). The figure walking through the photo makes one
motion event with its boxes and thumbnail; broken cameras show a clear error, never a crash."""

from __future__ import annotations

import asyncio

import cv2
import numpy as np

FAST = {"max_fps": 25, "min_frames": 2, "cooldown_s": 1}


def camera(name: str, source: str, **fields) -> dict:
    return {"name": name, "source": source, "detection": FAST, **fields}


async def test_a_snapshot_camera_makes_one_event_for_the_walk(security_host, kit, walk) -> None:
    with kit.servers.SnapshotCamera([f.jpeg for f in walk]) as server:
        async with security_host() as host:
            await kit.add_camera(host, camera("Hall", "snapshot", url=f"{server.url}/snap.jpg", interval_s=0.05))
            (event,) = await kit.eventually(lambda: kit.events(host, camera="hall"), timeout=30)
            await kit.eventually(lambda: server.index >= len(walk) + 10, timeout=30)
            assert len(await kit.events(host)) == 1, "one walk, one event"
    assert event["camera"] == "hall" and event["armed"] is True and event["time"].endswith("Z")
    assert event["frame"] == {"width": 640, "height": 480} and 0 < event["score"] < 0.2
    (box,) = event["boxes"]
    assert 120 <= box["h"] <= 260 and box["y"] >= 150


async def test_an_mjpeg_stream_makes_an_event_with_a_thumbnail_and_the_snapshot_is_the_latest_frame(security_host, kit, walk) -> None:
    with kit.servers.MjpegCamera([f.jpeg for f in walk], fps=25) as server:
        async with security_host() as host:
            await kit.add_camera(host, camera("Drive", "mjpeg", url=f"{server.url}/video"))
            (event,) = await kit.eventually(lambda: kit.events(host), timeout=30)
            thumbnail = await host.client.get(event["thumbnail_url"])
            assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
            picture = cv2.imdecode(np.frombuffer(thumbnail.content, np.uint8), cv2.IMREAD_COLOR)
            assert picture.shape == (240, 320, 3)
            snapshot = await host.client.get("/security/cameras/drive/snapshot")
            assert snapshot.status_code == 200 and snapshot.content in {f.jpeg for f in walk}
            status = await kit.camera_status(host, "drive")
            assert status["state"] == "live" and status["fps"] > 5 and status["last_motion_at"]


async def test_frames_dropped_in_a_folder_make_an_event(security_host, kit, walk, tmp_path) -> None:
    (tmp_path / "old.jpg").write_bytes(walk[20].jpeg)  # there before the camera: not replayed
    async with security_host() as host:
        await kit.add_camera(host, camera("Upload", "folder", folder=str(tmp_path), interval_s=0.05))
        await kit.eventually(lambda: _state(kit, host, "upload", "starting", "live"))
        for index, frame in enumerate(walk):
            (tmp_path / f"frame-{index:03d}.jpg").write_bytes(frame.jpeg)
            await asyncio.sleep(0.05)
        (event,) = await kit.eventually(lambda: kit.events(host), timeout=30)
        assert event["camera"] == "upload" and event["boxes"]


async def _state(kit, host, camera_id: str, *states: str) -> bool:
    return (await kit.camera_status(host, camera_id))["state"] in states


async def test_events_are_paged_and_filtered_by_time(security_host, kit, walk) -> None:
    twice = [f.jpeg for f in walk] * 2
    with kit.servers.SnapshotCamera(twice) as server:
        async with security_host() as host:
            await kit.add_camera(host, camera("Hall", "snapshot", url=f"{server.url}/s.jpg", interval_s=0.05))
            both = await kit.eventually(lambda: _at_least(kit, host, 2), timeout=40)
            first = (await host.client.get("/security/events", params={"limit": 1})).json()
            assert first["items"] == both[:1] and first["next_cursor"] == "1"
            second = (await host.client.get("/security/events", params={"limit": 1, "cursor": first["next_cursor"]})).json()
            assert second["items"] == both[1:2]
            since_newest = await kit.events(host, since=both[0]["time"])
            assert since_newest == both[:1]


async def _at_least(kit, host, count: int) -> list | None:
    found = await kit.events(host)
    return found if len(found) >= count else None


async def test_an_unreachable_camera_is_in_error_and_the_host_keeps_serving(security_host, kit) -> None:
    async with security_host() as host:
        await kit.add_camera(host, camera("Gone", "snapshot", url="http://127.0.0.1:9/x.jpg"))
        status = await kit.eventually(lambda: _errored(kit, host, "gone"))
        assert "cannot read http://127.0.0.1:9/x.jpg" in status["error"] and "is the URL right" in status["error"]
        snapshot = await host.client.get("/security/cameras/gone/snapshot")
        assert snapshot.status_code == 503 and "cannot read" in snapshot.json()["error"]["message"]
        assert (await host.client.get("/health/live")).status_code == 200


async def _errored(kit, host, camera_id: str) -> dict | None:
    status = await kit.camera_status(host, camera_id)
    return status if status["state"] == "error" else None


async def test_wrong_credentials_say_so(security_host, kit, walk) -> None:
    with kit.servers.SnapshotCamera([walk[0].jpeg], credentials=("admin", "right")) as server:
        async with security_host() as host:
            body = camera("Locked", "snapshot", url=f"{server.url}/s.jpg", username="admin", password="wrong")
            await kit.add_camera(host, body)
            status = await kit.eventually(lambda: _errored(kit, host, "locked"))
            assert "answered 401" in status["error"] and "username and password" in status["error"]


async def test_unreadable_frames_put_the_camera_in_error_until_a_picture_comes(security_host, kit, walk) -> None:
    with kit.servers.SnapshotCamera([b"<html>login page</html>"] * 3 + [walk[0].jpeg]) as server:
        async with security_host() as host:
            await kit.add_camera(host, camera("Odd", "snapshot", url=f"{server.url}/s.jpg", interval_s=0.05))
            status = await kit.eventually(lambda: _errored(kit, host, "odd"))
            assert "not a readable JPEG or PNG picture" in status["error"] and "3c68746d6c3e6c6f" in status["error"]
            await kit.eventually(lambda: _state(kit, host, "odd", "live"), timeout=30)


async def test_a_still_image_url_given_as_a_stream_says_to_use_snapshot(security_host, kit, walk) -> None:
    with kit.servers.SnapshotCamera([walk[0].jpeg]) as server:
        async with security_host() as host:
            await kit.add_camera(host, camera("Still", "mjpeg", url=f"{server.url}/s.jpg"))
            status = await kit.eventually(lambda: _errored(kit, host, "still"))
            assert "not an MJPEG stream" in status["error"] and "use source 'snapshot'" in status["error"]


async def test_a_missing_folder_is_named(security_host, kit, tmp_path) -> None:
    async with security_host() as host:
        await kit.add_camera(host, camera("Nowhere", "folder", folder=str(tmp_path / "missing")))
        status = await kit.eventually(lambda: _errored(kit, host, "nowhere"))
        assert "missing does not exist" in status["error"]
