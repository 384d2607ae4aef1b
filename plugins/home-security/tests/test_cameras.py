"""The cameras API: adding, listing, arming and removing cameras; credentials never come back;
another user's camera answers 404; bad input gets a clear 422."""

from __future__ import annotations

import sqlite3

from lumina_core.testing import Host, sign_up

UNREACHABLE = "http://127.0.0.1:9/snapshot.jpg"  # the discard port: nothing listens


async def test_a_camera_is_added_listed_and_removed(security_host) -> None:
    async with security_host() as host:
        added = await host.client.post("/security/cameras", json={"name": "Front door", "source": "snapshot", "url": UNREACHABLE})
        assert added.status_code == 201, added.text
        camera = added.json()
        assert camera["id"] == "front-door" and camera["origin"] == "api" and camera["arming"]["mode"] == "armed"
        listed = (await host.client.get("/security/cameras")).json()
        assert [c["id"] for c in listed["items"]] == ["front-door"] and listed["next_cursor"] is None
        assert (await host.client.delete("/security/cameras/front-door")).status_code == 204
        assert (await host.client.get("/security/cameras/front-door")).status_code == 404


async def test_credentials_are_sealed_and_never_returned(security_host, lumina_data_dir) -> None:
    async with security_host() as host:
        body = {"name": "Garage", "source": "mjpeg", "url": "http://admin:s3cret-pw@127.0.0.1:9/video", "password": None}
        camera = (await host.client.post("/security/cameras", json=body)).json()
        assert camera["url"] == "http://127.0.0.1:9/video" and camera["has_credentials"] is True
        shown = (await host.client.get("/security/cameras/garage")).text + (await host.client.get("/security/cameras")).text
        assert "s3cret-pw" not in shown and "admin" not in shown
    database = lumina_data_dir / "plugins" / "home-security" / "cameras.sqlite3"
    stored = sqlite3.connect(database).execute("SELECT spec || coalesce(credentials, '') FROM cameras").fetchone()[0]
    assert "s3cret-pw" not in stored and stored.count("admin") == 0


async def test_cameras_survive_a_restart_with_their_credentials_and_arming(security_host, kit) -> None:
    with kit.servers.SnapshotCamera([kit.clips.named("walk")[0].jpeg], credentials=("admin", "pw")) as server:
        body = {"name": "Yard", "source": "snapshot", "url": f"{server.url}/snap.jpg", "username": "admin", "password": "pw"}
        async with security_host() as host:
            assert (await host.client.post("/security/cameras", json=body)).status_code == 201
            disarmed = await host.client.put("/security/cameras/yard/arming", json={"mode": "disarmed"})
            assert disarmed.json()["armed_now"] is False
        async with security_host() as host:
            status = await kit.eventually(lambda: _live(host, "yard"))
            assert status["error"] is None
            assert (await host.client.get("/security/cameras/yard")).json()["arming"]["mode"] == "disarmed"


async def _live(host: Host, camera_id: str) -> dict | None:
    status = (await host.client.get(f"/security/cameras/{camera_id}")).json()["status"]
    return status if status["state"] == "live" else None


async def test_configured_cameras_are_watched_and_cannot_be_deleted_through_the_api(security_host) -> None:
    async with security_host(cameras=[{"id": "porch", "name": "Porch", "source": "snapshot", "url": UNREACHABLE}]) as host:
        camera = (await host.client.get("/security/cameras/porch")).json()
        assert camera["origin"] == "config"
        refused = await host.client.delete("/security/cameras/porch")
        assert refused.status_code == 409 and "configuration" in refused.json()["error"]["message"]
        assert (await host.client.put("/security/cameras/porch/arming", json={"mode": "disarmed"})).status_code == 200


async def test_a_broken_camera_in_the_configuration_names_its_field(lumina_host) -> None:
    config = {"home-security": {"cameras": [{"name": "Porch", "source": "mjpeg"}]}}
    async with lumina_host(plugins=["home-security"], plugin_config=config) as host:
        record = host.kernel.get("home-security")
        assert host.state("home-security") == "failed"
        assert "CAMERAS[0]" in record.error and "needs 'url'" in record.error


async def test_bad_cameras_get_a_clear_422(security_host) -> None:
    async with security_host() as host:
        cases = [
            ({"name": "A", "source": "snapshot", "url": "ftp://camera/x.jpg"}, "http(s) URL"),
            ({"name": "A", "source": "mqtt"}, "needs 'topic'"),
            ({"name": "A", "source": "mqtt", "topic": "cameras/#"}, "wildcards"),
            ({"name": "A", "source": "snapshot", "url": UNREACHABLE, "detection": {"masks": [[[0, 0], [2, 0], [0, 1]]]}}, "between 0 and 1"),
            ({"name": "A", "source": "snapshot", "url": UNREACHABLE, "arming": {"mode": "schedule"}}, "at least one window"),
        ]
        for body, message in cases:
            answer = await host.client.post("/security/cameras", json=body)
            assert answer.status_code == 422, body
            assert message in answer.json()["error"]["message"], answer.json()


async def test_an_id_already_taken_is_a_conflict(security_host) -> None:
    async with security_host() as host:
        body = {"id": "door", "name": "Door", "source": "snapshot", "url": UNREACHABLE}
        assert (await host.client.post("/security/cameras", json=body)).status_code == 201
        assert (await host.client.post("/security/cameras", json=body)).status_code == 409


async def test_another_users_cameras_and_events_answer_404(security_host) -> None:
    async with security_host(settings={"require_auth": True}) as host:
        alice, bob = await sign_up(host, "alice"), await sign_up(host, "bob")
        body = {"name": "Alice's door", "source": "snapshot", "url": UNREACHABLE}
        assert (await host.client.post("/security/cameras", json=body, headers=alice)).status_code == 201
        assert (await host.client.get("/security/cameras", headers=bob)).json()["items"] == []
        for path in ("/security/cameras/alice-s-door", "/security/cameras/alice-s-door/snapshot"):
            assert (await host.client.get(path, headers=bob)).status_code == 404, path
        assert (await host.client.get("/security/events?camera=alice-s-door", headers=bob)).json()["items"] == []
        assert (await host.client.delete("/security/cameras/alice-s-door", headers=bob)).status_code == 404


async def test_only_an_admin_may_watch_a_folder(security_host, tmp_path) -> None:
    async with security_host(settings={"require_auth": True}) as host:
        first = await sign_up(host, "first-user")  # the first account is the admin
        second = await sign_up(host, "second-user")
        body = {"name": "Drop", "source": "folder", "folder": str(tmp_path)}
        refused = await host.client.post("/security/cameras", json=body, headers=second)
        assert refused.status_code == 403 and refused.json()["error"]["field"] == "folder"
        assert (await host.client.post("/security/cameras", json=body, headers=first)).status_code == 201


async def test_a_change_replaces_the_fields_given_and_keeps_the_credentials(security_host, kit, walk) -> None:
    with kit.servers.SnapshotCamera([walk[0].jpeg], credentials=("admin", "pw")) as server:
        async with security_host() as host:
            body = {"name": "Yard", "source": "snapshot", "url": "http://127.0.0.1:9/s.jpg", "username": "admin", "password": "pw"}
            await kit.add_camera(host, body)
            change = {"name": "Back yard", "url": f"{server.url}/s.jpg", "detection": {"sensitivity": 0.8}}
            changed = await host.client.patch("/security/cameras/yard", json=change)
            assert changed.status_code == 200, changed.text
            camera = changed.json()
            assert camera["name"] == "Back yard" and camera["detection"]["sensitivity"] == 0.8 and camera["has_credentials"]
            await kit.eventually(lambda: _live(host, "yard"))  # the new URL, with the credentials kept
            refused = await host.client.patch("/security/cameras/yard", json={"url": "gopher://x"})
            assert refused.status_code == 422 and "http(s) URL" in refused.json()["error"]["message"]
            assert (await host.client.patch("/security/cameras/nope", json={"name": "X"})).status_code == 404


async def test_a_configured_camera_is_changed_in_the_configuration(security_host) -> None:
    async with security_host(cameras=[{"id": "porch", "name": "Porch", "source": "snapshot", "url": UNREACHABLE}]) as host:
        refused = await host.client.patch("/security/cameras/porch", json={"name": "Front"})
        assert refused.status_code == 409 and "configuration" in refused.json()["error"]["message"]
