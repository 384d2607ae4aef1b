"""The code-aware splitter: chunks follow the code's structure and carry their exact lines."""

from __future__ import annotations

from pathlib import Path

from lumina_gamedev.splitter import outline_file
from lumina_gamedev.syntax import set_macros_aside

DATA = Path(__file__).parent / "data"


def outline(project: str, relative: str):
    return outline_file(relative, (DATA / project / relative).read_text())


def test_a_unity_script_is_cut_into_its_class_header_fields_and_methods() -> None:
    chunks = outline("SkyHopper", "Assets/Scripts/PlayerController.cs").chunks
    assert sorted((c.start_line, c.end_line, c.kind, c.symbol) for c in chunks) == [
        (5, 10, "class", "PlayerController"),
        (11, 16, "fields", "PlayerController fields: jumpHeight, groundLayers, moveSpeed, body, isGrounded"),
        (18, 21, "method", "PlayerController.Awake"),
        (23, 26, "method", "PlayerController.Start"),
        (28, 38, "method", "PlayerController.Update"),
        (40, 46, "method", "PlayerController.Jump"),  # its doc comment included
        (48, 54, "method", "PlayerController.OnCollisionEnter"),
    ]


def test_every_chunk_holds_exactly_the_lines_it_names() -> None:
    for project in ("SkyHopper", "ShooterDemo"):
        for path in sorted((DATA / project).rglob("*")):
            if path.is_file() and path.suffix in {".cs", ".h", ".cpp", ".unity", ".asset", ".ini", ".uproject"}:
                lines = path.read_text().splitlines()
                relative = path.relative_to(DATA / project).as_posix()
                for chunk in outline_file(relative, path.read_text()).chunks:
                    assert chunk.text == "\n".join(lines[chunk.start_line - 1 : chunk.end_line]), (relative, chunk.label)


def test_unreal_macros_are_set_aside_without_moving_a_line_or_a_column() -> None:
    code = b'UCLASS(meta = (BlueprintSpawnableComponent))\nclass SHOOTERDEMO_API AThing : public AActor\n{\n\tGENERATED_BODY()\n};\n'
    blanked, macros = set_macros_aside(code)
    assert len(blanked) == len(code) and blanked.count(b"\n") == code.count(b"\n")
    assert blanked.splitlines()[1] == b"class " + b" " * len(b"SHOOTERDEMO_API") + b" AThing : public AActor"
    assert [(m.name, m.arguments, m.line) for m in macros] == [
        ("UCLASS", "meta = (BlueprintSpawnableComponent)", 1), ("GENERATED_BODY", "", 4)]


def test_an_unreal_header_keeps_each_members_reflection_macro() -> None:
    symbols = {s.name: s for s in outline("ShooterDemo", "Source/ShooterDemo/ShooterCharacter.h").symbols}
    character = next(s for s in outline("ShooterDemo", "Source/ShooterDemo/ShooterCharacter.h").symbols if s.kind == "class")
    assert (character.kind, character.start_line, character.detail["bases"]) == ("class", 12, ["ACharacter"])
    assert character.detail["macro"]["arguments"] == "Blueprintable"
    assert symbols["SprintSpeed"].detail["macro"] == {
        "name": "UPROPERTY", "arguments": 'EditAnywhere, BlueprintReadOnly, Category = "Movement"', "line": 34}
    assert symbols["Fire"].detail["macro"]["name"] == "UFUNCTION"
    assert symbols["EquippedWeapon"].detail["macro"] is None and symbols["EquippedWeapon"].detail["pointer"]


def test_an_unreal_source_is_cut_into_its_function_definitions() -> None:
    found = outline("ShooterDemo", "Source/ShooterDemo/WeaponComponent.cpp")
    assert [(c.start_line, c.end_line, c.symbol) for c in found.chunks] == [
        (3, 6, "UWeaponComponent::UWeaponComponent"), (8, 11, "UWeaponComponent::TickComponent"),
        (13, 22, "UWeaponComponent::FireOnce"), (24, 27, "UWeaponComponent::Reload")]
    constructor = next(s for s in found.symbols if s.kind == "constructor")
    assert constructor.detail["enables_tick"] == 5


def test_a_long_method_is_cut_into_windows_that_keep_their_lines() -> None:
    body = "\n".join(f"        total += {n};" for n in range(150))
    code = f"class Big : MonoBehaviour\n{{\n    void Update()\n    {{\n{body}\n    }}\n}}\n"
    windows = [c for c in outline_file("Assets/Big.cs", code).chunks if c.kind == "method"]
    assert [(c.start_line, c.end_line) for c in windows] == [(3, 42), (43, 82), (83, 122), (123, 155)]


def test_scenes_are_indexed_by_their_game_objects_and_settings_by_their_blocks() -> None:
    scene = outline("SkyHopper", "Assets/Scenes/Level1.unity")
    assert [(c.symbol, c.start_line) for c in scene.chunks] == [
        ("Level1.unity: GameObject Player", 7), ("Level1.unity: GameObject Main Camera", 28),
        ("Level1.unity: GameObject Ground", 41)]
    ini = outline("ShooterDemo", "Config/DefaultEngine.ini")
    assert [(c.symbol, c.start_line, c.end_line) for c in ini.chunks] == [
        ("DefaultEngine.ini [/Script/EngineSettings.GameMapsSettings]", 1, 5),
        ("DefaultEngine.ini [/Script/Engine.PhysicsSettings]", 6, 7)]
    axes = outline("SkyHopper", "ProjectSettings/InputManager.asset")
    assert [(c.symbol, c.start_line, c.end_line) for c in axes.chunks] == [
        ("InputManager.asset Horizontal", 1, 13), ("InputManager.asset Jump", 14, 17)]
