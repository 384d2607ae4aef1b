"""Registering projects: indexed into the knowledge index with their lines, clear 4xx errors,
and one user's projects invisible to another."""

from __future__ import annotations

from pathlib import Path


async def test_a_unity_project_is_indexed_with_its_code_scenes_and_settings(gamedev_host, unity_project, kit) -> None:
    async with gamedev_host() as host:
        project = await kit.register(host, unity_project)
        assert (project["engine"], project["status"], project["name"]) == ("unity", "ready", "SkyHopper")
        assert project["files"] == 13 and project["report"]["indexed"] == 13 and not project["report"]["failed"]
        assert project["findings"] == 6
        listed = (await host.client.get("/gamedev/projects")).json()
        assert [p["id"] for p in listed["items"]] == [project["id"]] and listed["next_cursor"] is None
        scope = await host.kernel.services.get("knowledge").scope(f"gamedev_{project['id']}")
        assert (await scope.stats())["articles"] == 13
        shared = await host.kernel.services.get("knowledge").stats()
        assert shared["articles"] == 0  # the project's passages stay in its own scope


async def test_an_unreal_project_is_recognised_by_its_uproject(gamedev_host, unreal_project, kit) -> None:
    async with gamedev_host() as host:
        project = await kit.register(host, unreal_project, name="Arena shooter")
        assert (project["engine"], project["name"], project["files"]) == ("unreal", "Arena shooter", 10)


async def test_registering_without_waiting_answers_202_and_the_project_becomes_ready(gamedev_host, unity_project, kit) -> None:
    async with gamedev_host() as host:
        response = await host.client.post("/gamedev/projects", json={"path": str(unity_project)})
        assert response.status_code == 202 and response.json()["status"] == "indexing"
        location = response.headers["Location"]

        async def ready() -> bool:
            return (await host.client.get(location)).json()["status"] == "ready"

        await kit.eventually(ready, timeout=120)
        assert (await host.client.get(location)).json()["files"] == 13


async def test_bad_projects_get_a_clear_4xx(gamedev_host, unity_project, tmp_path: Path, kit) -> None:
    async with gamedev_host() as host:
        async def post(body: dict) -> tuple[int, dict]:
            response = await host.client.post("/gamedev/projects", params={"wait": "true"}, json=body)
            return response.status_code, response.json().get("error", {})

        status, error = await post({"path": str(tmp_path / "nowhere")})
        assert (status, error["field"]) == (422, "path") and "there is no folder at" in error["message"]
        status, error = await post({"path": "relative/project"})
        assert (status, error["field"]) == (422, "path") and "absolute path" in error["message"]
        status, error = await post({"path": str(tmp_path)})
        assert status == 422 and "neither a Unity project" in error["message"]
        status, error = await post({"path": str(unity_project), "engine": "unreal"})
        assert (status, error["field"]) == (422, "engine") and "looks like a unity one" in error["message"]
        status, error = await post({"path": str(unity_project), "engine": "godot"})
        assert (status, error["type"]) == (422, "validation_error") and error["field"] == "engine"
        await kit.register(host, unity_project)
        status, error = await post({"path": str(unity_project)})
        assert (status, error["type"]) == (409, "conflict") and "registered already" in error["message"]
        missing = await host.client.get("/gamedev/projects/0123456789ab")
        assert missing.status_code == 404 and "GET /gamedev/projects" in missing.json()["error"]["message"]


async def test_a_deleted_project_leaves_the_index(gamedev_host, unity_project, kit) -> None:
    async with gamedev_host() as host:
        project = await kit.register(host, unity_project)
        deleted = await host.client.delete(f"/gamedev/projects/{project['id']}")
        assert deleted.status_code == 204
        assert (await host.client.get(f"/gamedev/projects/{project['id']}")).status_code == 404
        assert (await host.client.get("/gamedev/status")).json()["projects"] == 0
        again = await kit.register(host, unity_project)  # the same folder may be registered anew
        assert again["files"] == 13


async def test_another_users_project_answers_404_everywhere(gamedev_host, unity_project, kit) -> None:
    async with gamedev_host(require_auth=True) as host:
        alice, bob = await kit.sign_up(host, "alice"), await kit.sign_up(host, "bob")
        response = await host.client.post("/gamedev/projects", params={"wait": "true"},
                                          json={"path": str(unity_project)}, headers=alice)
        project = response.json()["id"]
        c = host.client
        calls = [
            c.get(f"/gamedev/projects/{project}", headers=bob),
            c.post(f"/gamedev/projects/{project}/ask", json={"question": "jump height?"}, headers=bob),
            c.get(f"/gamedev/projects/{project}/classes/PlayerController", headers=bob),
            c.get(f"/gamedev/projects/{project}/lint", headers=bob),
            c.post(f"/gamedev/projects/{project}/scaffold", json={"kind": "monobehaviour", "name": "Spy", "write": True},
                   headers=bob),
            c.post(f"/gamedev/projects/{project}/reindex", headers=bob),
            c.delete(f"/gamedev/projects/{project}", headers=bob),
        ]
        for call in calls:
            answer = await call
            assert answer.status_code == 404, (answer.request.method, answer.request.url, answer.text)
        assert (await c.get("/gamedev/projects", headers=bob)).json()["items"] == []
        assert not (unity_project / "Assets/Scripts/Spy.cs").exists()
        assert (await c.get(f"/gamedev/projects/{project}", headers=alice)).status_code == 200


async def test_a_binary_asset_is_named_as_not_read_and_the_rest_is_indexed(gamedev_host, unity_project, kit) -> None:
    (unity_project / "ProjectSettings/EditorBuildSettings.asset").write_bytes(b"\x00\x01binary\x00serialised")
    async with gamedev_host() as host:
        project = await kit.register(host, unity_project)
        assert (project["status"], project["files"]) == ("ready", 13)
        assert project["report"]["failed"] == {
            "ProjectSettings/EditorBuildSettings.asset": "binary, not read (Unity: set Asset Serialization to Force Text)"}
        assert "EditorBuildSettings.asset: binary, not read" in project["error"]


async def test_a_project_whose_folder_is_gone_says_so_and_keeps_its_index(gamedev_host, unity_project, kit) -> None:
    async with gamedev_host() as host:
        project = await kit.register(host, unity_project)
        unity_project.rename(unity_project.with_name("Moved"))
        response = await host.client.post(f"/gamedev/projects/{project['id']}/reindex")
        assert response.status_code == 409 and "is gone: restore it" in response.json()["error"]["message"]
        described = (await host.client.get(f"/gamedev/projects/{project['id']}")).json()
        assert (described["status"], described["files"]) == ("error", 13)
