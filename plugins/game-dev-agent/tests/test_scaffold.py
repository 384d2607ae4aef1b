"""Scaffolding: the engine's conventions, a preview unless writing is asked for, never an
overwrite; what is written is indexed at once."""

from __future__ import annotations

from pathlib import Path

from lumina_gamedev.cli import lint_folder


async def scaffold(host, project_id: str, **body):
    return await host.client.post(f"/gamedev/projects/{project_id}/scaffold", json=body)


async def test_a_monobehaviour_is_previewed_then_written_then_never_overwritten(gamedev_host, unity_project: Path, kit) -> None:
    async with gamedev_host() as host:
        project = (await kit.register(host, unity_project))["id"]
        target = unity_project / "Assets/Scripts/CoinSpinner.cs"

        preview = await scaffold(host, project, kind="monobehaviour", name="CoinSpinner", namespace="SkyHopper")
        assert preview.status_code == 200 and not target.exists()
        (planned,) = preview.json()["files"]
        assert (planned["path"], planned["exists"]) == ("Assets/Scripts/CoinSpinner.cs", False)
        assert "namespace SkyHopper\n{\n    /// <summary>" in planned["content"]
        assert "    public class CoinSpinner : MonoBehaviour\n" in planned["content"]

        written = await scaffold(host, project, kind="monobehaviour", name="CoinSpinner", namespace="SkyHopper", write=True)
        assert written.status_code == 201 and target.read_text() == planned["content"]
        explained = (await host.client.get(f"/gamedev/projects/{project}/classes/CoinSpinner")).json()
        assert [c["name"] for c in explained["callbacks"]] == ["Awake", "Start", "Update"]

        target.write_text(target.read_text() + "// my own work\n")
        again = await scaffold(host, project, kind="monobehaviour", name="CoinSpinner", write=True)
        assert again.status_code == 409 and again.json()["error"]["type"] == "conflict"
        assert "Assets/Scripts/CoinSpinner.cs exists already; nothing was written" in again.json()["error"]["message"]
        assert target.read_text().endswith("// my own work\n")
        assert (await scaffold(host, project, kind="monobehaviour", name="CoinSpinner")).json()["files"][0]["exists"]


async def test_unity_scriptable_objects_and_editor_windows_follow_unitys_rules(gamedev_host, unity_project, kit) -> None:
    async with gamedev_host() as host:
        project = (await kit.register(host, unity_project))["id"]
        settings = (await scaffold(host, project, kind="scriptable_object", name="WaveSettings")).json()["files"][0]
        assert '[CreateAssetMenu(fileName = "WaveSettings", menuName = "ScriptableObjects/WaveSettings")]' in settings["content"]
        window = (await scaffold(host, project, kind="editor_window", name="SpawnerWindow")).json()["files"][0]
        assert window["path"] == "Assets/Editor/SpawnerWindow.cs" and "using UnityEditor;" in window["content"]
        assert '[MenuItem("Window/Spawner")]' in window["content"] and 'GetWindow<SpawnerWindow>("Spawner")' in window["content"]

        outside = await scaffold(host, project, kind="editor_window", name="SpawnerWindow", folder="Assets/Scripts")
        assert (outside.status_code, outside.json()["error"]["field"]) == (422, "folder")
        assert "folder named Editor" in outside.json()["error"]["message"]
        escaping = await scaffold(host, project, kind="monobehaviour", name="Evil", folder="../../etc", write=True)
        assert (escaping.status_code, escaping.json()["error"]["field"]) == (422, "folder")
        bad_name = await scaffold(host, project, kind="monobehaviour", name="coin spinner")
        assert (bad_name.status_code, bad_name.json()["error"]["field"]) == (422, "name")
        wrong_engine = await scaffold(host, project, kind="actor", name="Door")
        assert wrong_engine.status_code == 422 and "a Unity project scaffolds" in wrong_engine.json()["error"]["message"]


async def test_an_unreal_actor_gets_a_header_and_a_source_the_unreal_way(gamedev_host, unreal_project: Path, kit) -> None:
    async with gamedev_host() as host:
        project = (await kit.register(host, unreal_project))["id"]
        response = await scaffold(host, project, kind="actor", name="Door", write=True)
        assert response.status_code == 201
        header, source = response.json()["files"]
        assert (header["path"], source["path"]) == ("Source/ShooterDemo/Door.h", "Source/ShooterDemo/Door.cpp")
        text = (unreal_project / header["path"]).read_text()
        assert '#include "Door.generated.h"' in text and "UCLASS()\nclass SHOOTERDEMO_API ADoor : public AActor" in text
        assert "\tGENERATED_BODY()\n" in text
        assert "PrimaryActorTick.bCanEverTick = false;" in (unreal_project / source["path"]).read_text()
        explained = (await host.client.get(f"/gamedev/projects/{project}/classes/Door")).json()
        assert [c["name"] for c in explained["callbacks"]] == ["ADoor", "BeginPlay"]

        component = (await scaffold(host, project, kind="component", name="HealthComponent", tick=True)).json()["files"]
        assert "class SHOOTERDEMO_API UHealthComponent : public UActorComponent" in component[0]["content"]
        assert "meta = (BlueprintSpawnableComponent)" in component[0]["content"]
        assert "virtual void TickComponent(float DeltaTime, ELevelTick TickType" in component[0]["content"]


async def test_what_is_scaffolded_passes_the_linter(gamedev_host, unity_project: Path, unreal_project: Path, kit) -> None:
    async with gamedev_host() as host:
        for root, kinds in ((unity_project, ["monobehaviour", "scriptable_object", "editor_window"]),
                            (unreal_project, ["actor", "component"])):
            project = (await kit.register(host, root))["id"]
            before = lint_folder(root)
            for number, kind in enumerate(kinds):
                assert (await scaffold(host, project, kind=kind, name=f"Fresh{number}Thing", write=True)).status_code == 201
            assert lint_folder(root) == before
