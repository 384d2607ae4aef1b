"""Explaining a class: what it derives from, and its engine callbacks in the engine's order,
each with when it runs, where it is and what it calls."""

from __future__ import annotations


async def explain(host, project_id: str, name: str):
    return await host.client.get(f"/gamedev/projects/{project_id}/classes/{name}")


async def test_a_monobehaviour_is_explained_with_its_unity_callbacks_in_call_order(gamedev_host, unity_project, kit) -> None:
    async with gamedev_host() as host:
        project = await kit.register(host, unity_project)
        found = (await explain(host, project["id"], "PlayerController")).json()
        assert (found["cite"], found["inherits"]) == ("Assets/Scripts/PlayerController.cs:8", ["MonoBehaviour"])
        assert found["doc"] == "Moves the player with the keyboard and makes it jump when grounded."
        assert [(c["name"], c["cite"]) for c in found["callbacks"]] == [
            ("Awake", "Assets/Scripts/PlayerController.cs:18"),
            ("Start", "Assets/Scripts/PlayerController.cs:23"),
            ("OnCollisionEnter", "Assets/Scripts/PlayerController.cs:48"),
            ("Update", "Assets/Scripts/PlayerController.cs:28"),
        ]
        update = found["callbacks"][3]
        assert update["when"] == "every frame"
        assert update["calls"] == ["Input.GetAxis", "GetComponent<Rigidbody>", "Input.GetButtonDown", "Jump"]
        assert {m["name"] for m in found["members"]} == {"jumpHeight", "groundLayers", "moveSpeed", "body", "isGrounded", "Jump"}
        assert [f["cite"] for f in found["findings"]] == ["Assets/Scripts/PlayerController.cs:13",
                                                         "Assets/Scripts/PlayerController.cs:32"]
        assert found["explanation"].startswith(
            "PlayerController is a class, deriving from MonoBehaviour (Assets/Scripts/PlayerController.cs:8). "
            "Moves the player with the keyboard and makes it jump when grounded. Unity calls: "
            "Awake once, when the object is loaded, before any Start (Assets/Scripts/PlayerController.cs:18), "
            "which calls GetComponent<Rigidbody>.")


async def test_an_unreal_class_joins_its_header_and_its_source(gamedev_host, unreal_project, kit) -> None:
    async with gamedev_host() as host:
        project = await kit.register(host, unreal_project)
        found = (await explain(host, project["id"], "ShooterCharacter")).json()  # the A prefix may be left out
        assert (found["name"], found["cite"], found["inherits"]) == (
            "AShooterCharacter", "Source/ShooterDemo/ShooterCharacter.h:12", ["ACharacter"])
        assert found["macro"] == {"name": "UCLASS", "arguments": "Blueprintable", "line": 11}
        assert [(c["name"], c["cite"], c["declared_at"]) for c in found["callbacks"]] == [
            ("AShooterCharacter", "Source/ShooterDemo/ShooterCharacter.cpp:6", "Source/ShooterDemo/ShooterCharacter.h:17"),
            ("BeginPlay", "Source/ShooterDemo/ShooterCharacter.cpp:17", "Source/ShooterDemo/ShooterCharacter.h:29"),
            ("SetupPlayerInputComponent", "Source/ShooterDemo/ShooterCharacter.cpp:32",
             "Source/ShooterDemo/ShooterCharacter.h:31"),
            ("Tick", "Source/ShooterDemo/ShooterCharacter.cpp:23", "Source/ShooterDemo/ShooterCharacter.h:19"),
        ]
        sprint = next(m for m in found["members"] if m["name"] == "SprintSpeed")
        assert sprint["macro"]["arguments"] == 'EditAnywhere, BlueprintReadOnly, Category = "Movement"'
        assert [f["rule"] for f in found["findings"]] == ["unreal.raw_uobject_pointer"]
        weapon = (await explain(host, project["id"], "UWeaponComponent")).json()
        assert [f["cite"] for f in weapon["findings"]] == ["Source/ShooterDemo/WeaponComponent.cpp:5"]


async def test_an_unknown_class_answers_404(gamedev_host, unity_project, kit) -> None:
    async with gamedev_host() as host:
        project = await kit.register(host, unity_project)
        response = await explain(host, project["id"], "NoSuchClass")
        assert response.status_code == 404 and "no class 'NoSuchClass'" in response.json()["error"]["message"]
