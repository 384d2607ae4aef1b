"""The linter: each pitfall of the sample projects at its exact line, and nothing else."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from lumina_gamedev.cli import gamedev_group, lint_folder

DATA = Path(__file__).parent / "data"


def found(root: Path) -> list[tuple[str, int, str]]:
    return [(f.file, f.line, f.rule) for f in lint_folder(root)]


def test_unity_lookups_and_allocations_in_per_frame_callbacks_and_public_fields_are_found() -> None:
    assert found(DATA / "SkyHopper") == [
        ("Assets/Scripts/EnemyAI.cs", 17, "unity.lookup_in_update"),        # GameObject.Find("Player")
        ("Assets/Scripts/EnemyAI.cs", 18, "unity.per_frame_allocation"),    # new List<Transform>()
        ("Assets/Scripts/PlayerController.cs", 13, "unity.public_field"),   # public float moveSpeed
        ("Assets/Scripts/PlayerController.cs", 32, "unity.lookup_in_update"),  # GetComponent<Rigidbody>()
        ("Assets/Scripts/ScoreBoard.cs", 19, "unity.per_frame_allocation"),  # $"Score: {score}" in LateUpdate
        ("Assets/Scripts/ScoreBoard.cs", 20, "unity.per_frame_allocation"),  # new int[8]
    ]


def test_what_is_not_a_pitfall_is_left_alone() -> None:
    # new Vector3(...) in Update is a struct; GetComponent in Awake runs once; string building in
    # Start runs once; the EditorWindow's OnGUI allocates nothing; [SerializeField] private fields.
    lines = {(file, line) for file, line, _ in found(DATA / "SkyHopper")}
    assert ("Assets/Scripts/PlayerController.cs", 31) not in lines
    assert ("Assets/Scripts/PlayerController.cs", 20) not in lines
    assert ("Assets/Scripts/PlayerController.cs", 25) not in lines
    assert not any(file.startswith("Assets/Editor") for file, _ in lines)


def test_unreal_raw_uobject_pointers_and_needless_ticks_are_found() -> None:
    assert found(DATA / "ShooterDemo") == [
        ("Source/ShooterDemo/PickupActor.cpp", 6, "unreal.needless_tick"),       # ticks, has no Tick
        ("Source/ShooterDemo/ShooterCharacter.h", 44, "unreal.raw_uobject_pointer"),  # UWeaponComponent* EquippedWeapon
        ("Source/ShooterDemo/WeaponComponent.cpp", 5, "unreal.needless_tick"),   # TickComponent only calls Super
    ]


def test_fixing_the_code_clears_its_finding(tmp_path: Path) -> None:
    root = shutil.copytree(DATA / "ShooterDemo", tmp_path / "ShooterDemo")
    header = root / "Source/ShooterDemo/ShooterCharacter.h"
    header.write_text(header.read_text().replace("private:\n\tUWeaponComponent* EquippedWeapon;",
                                                 "private:\n\tUPROPERTY()\n\tUWeaponComponent* EquippedWeapon;"))
    source = root / "Source/ShooterDemo/PickupActor.cpp"
    source.write_text(source.read_text().replace("bCanEverTick = true", "bCanEverTick = false"))
    assert found(root) == [("Source/ShooterDemo/WeaponComponent.cpp", 5, "unreal.needless_tick")]


def test_the_command_prints_file_line_and_exits_1_when_it_finds_something() -> None:
    result = CliRunner().invoke(gamedev_group, ["lint", str(DATA / "ShooterDemo")])
    assert result.exit_code == 1
    assert result.output.splitlines()[1].startswith(
        "Source/ShooterDemo/ShooterCharacter.h:44: unreal.raw_uobject_pointer: 'UWeaponComponent* EquippedWeapon'")
    as_json = CliRunner().invoke(gamedev_group, ["lint", "--json", str(DATA / "SkyHopper")])
    assert json.loads(as_json.output.splitlines()[0])["cite"] == "Assets/Scripts/EnemyAI.cs:17"


def test_the_command_refuses_a_folder_that_is_no_project(tmp_path: Path) -> None:
    result = CliRunner().invoke(gamedev_group, ["lint", str(tmp_path)])
    assert result.exit_code == 1 and "neither a Unity project" in result.output
