"""New classes the way each engine expects them, previewed first, written only when asked, and
never over an existing file.

Unity: a MonoBehaviour, a ScriptableObject (with ``[CreateAssetMenu]``) or an EditorWindow (with
its ``[MenuItem]``, in an ``Editor`` folder, which Unity leaves out of player builds), one
``.cs`` file named after its class. Unreal: an Actor or an ActorComponent, header and source,
``A``/``U`` prefix, ``MODULE_API``, ``GENERATED_BODY()``, in the module's ``Public``/``Private``
folders when it has them; Tick stays off unless asked for (a ticking object costs every frame).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from lumina_core.errors import Conflict, ValidationFailed

Kind = Literal["monobehaviour", "scriptable_object", "editor_window", "actor", "component"]
UNITY_KINDS: tuple[Kind, ...] = ("monobehaviour", "scriptable_object", "editor_window")
UNREAL_KINDS: tuple[Kind, ...] = ("actor", "component")
CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9_]{0,63}$")
NAMESPACE = re.compile(r"^[A-Z][A-Za-z0-9_]*(\.[A-Z][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class PlannedFile:
    path: str
    content: str
    exists: bool

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "content": self.content, "exists": self.exists}


@dataclass(frozen=True)
class Request:
    kind: Kind
    name: str
    folder: str | None = None
    namespace: str | None = None
    module: str | None = None
    tick: bool = False


def plan(root: Path, engine: str, request: Request) -> list[PlannedFile]:
    """The files ``request`` would write under ``root``, each saying whether it exists already."""
    _check_name(request.name)
    if engine == "unity":
        files = _unity(request)
    else:
        files = _unreal(root, request)
    return [PlannedFile(path, content, (root / path).exists()) for path, content in files]


def write(root: Path, files: Sequence[PlannedFile]) -> None:
    """Create the planned files; refuse (409) when any exists, and never replace one, even one
    that appears between the check and the write."""
    taken = [f.path for f in files if (root / f.path).exists()]
    if taken:
        raise Conflict(f"{', '.join(taken)} exists already; nothing was written (pick another name or folder)",
                       field="name")
    written: list[Path] = []
    try:
        for planned in files:
            target = root / planned.path
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("x", encoding="utf-8", newline="\n") as out:
                out.write(planned.content)
            written.append(target)
    except FileExistsError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise Conflict(f"{exc.filename} appeared while writing; nothing was kept", field="name") from None


def _check_name(name: str) -> None:
    if not CLASS_NAME.match(name):
        raise ValidationFailed(f"'{name}' is not a class name: use PascalCase letters and digits, e.g. PlayerHealth",
                               field="name")


def _inside(folder: str) -> str:
    path = PurePosixPath(folder)
    if path.is_absolute() or ".." in path.parts:
        raise ValidationFailed(f"folder '{folder}' must be relative to the project, inside it", field="folder")
    return path.as_posix()


# --- Unity -----------------------------------------------------------------------------------


def _unity(request: Request) -> list[tuple[str, str]]:
    if request.kind not in UNITY_KINDS:
        raise ValidationFailed(f"a Unity project scaffolds {', '.join(UNITY_KINDS)}, not '{request.kind}'", field="kind")
    if request.namespace is not None and not NAMESPACE.match(request.namespace):
        raise ValidationFailed(f"'{request.namespace}' is not a C# namespace (e.g. SkyHopper.Gameplay)", field="namespace")
    default = "Assets/Editor" if request.kind == "editor_window" else "Assets/Scripts"
    folder = _inside(request.folder or default)
    if not folder.startswith("Assets"):
        raise ValidationFailed("Unity scripts live under Assets/", field="folder")
    if request.kind == "editor_window" and "Editor" not in PurePosixPath(folder).parts:
        raise ValidationFailed("an EditorWindow must be in a folder named Editor (Unity leaves those out of "
                               "player builds; UnityEditor does not exist there)", field="folder")
    body = {"monobehaviour": _monobehaviour, "scriptable_object": _scriptable_object,
            "editor_window": _editor_window}[request.kind](request.name)
    usings = "using UnityEditor;\nusing UnityEngine;\n" if request.kind == "editor_window" else "using UnityEngine;\n"
    return [(f"{folder}/{request.name}.cs", usings + "\n" + _in_namespace(body, request.namespace))]


def _in_namespace(body: str, namespace: str | None) -> str:
    if not namespace:
        return body
    indented = "".join(f"    {line}" if line.strip() else line for line in body.splitlines(keepends=True))
    return f"namespace {namespace}\n{{\n{indented}}}\n"


def _monobehaviour(name: str) -> str:
    return f"""/// <summary>TODO: what {name} does, in one sentence.</summary>
public class {name} : MonoBehaviour
{{
    [SerializeField] private float speed = 1f;

    private void Awake()
    {{
        // Cache components here (GetComponent), not in Update.
    }}

    private void Start()
    {{
    }}

    private void Update()
    {{
    }}
}}
"""


def _scriptable_object(name: str) -> str:
    return f"""/// <summary>TODO: what these {name} values tune, in one sentence.</summary>
[CreateAssetMenu(fileName = "{name}", menuName = "ScriptableObjects/{name}")]
public class {name} : ScriptableObject
{{
    [SerializeField] private float value = 1f;

    public float Value => value;
}}
"""


def _editor_window(name: str) -> str:
    title = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name.removesuffix("Window")) or name
    return f"""/// <summary>TODO: what the {title} window is for, in one sentence.</summary>
public class {name} : EditorWindow
{{
    [MenuItem("Window/{title}")]
    public static void ShowWindow()
    {{
        GetWindow<{name}>("{title}");
    }}

    private void OnGUI()
    {{
        GUILayout.Label("{title}", EditorStyles.boldLabel);
    }}
}}
"""


# --- Unreal ----------------------------------------------------------------------------------


def _unreal(root: Path, request: Request) -> list[tuple[str, str]]:
    if request.kind not in UNREAL_KINDS:
        raise ValidationFailed(f"an Unreal project scaffolds {', '.join(UNREAL_KINDS)}, not '{request.kind}'", field="kind")
    module = request.module or _primary_module(root)
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", module):
        raise ValidationFailed(f"'{module}' is not a module name", field="module")
    base = _inside(request.folder) if request.folder else f"Source/{module}"
    public, private = (f"{base}/Public", f"{base}/Private") if (root / base / "Public").is_dir() else (base, base)
    prefix = "A" if request.kind == "actor" else "U"
    name = request.name[1:] if len(request.name) > 1 and request.name[0] == prefix and request.name[1].isupper() else request.name
    spec = ACTOR if request.kind == "actor" else COMPONENT
    header, source = _unreal_class(spec, prefix + name, name, f"{module.upper()}_API", request.tick)
    return [(f"{public}/{name}.h", header), (f"{private}/{name}.cpp", source)]


def _primary_module(root: Path) -> str:
    """The first module the ``.uproject`` lists (the game module)."""
    for uproject in sorted(root.glob("*.uproject")):
        try:
            modules = json.loads(uproject.read_text(encoding="utf-8")).get("Modules") or []
        except (OSError, ValueError):
            continue
        if modules and modules[0].get("Name"):
            return str(modules[0]["Name"])
        return uproject.stem
    raise ValidationFailed("no module found in the .uproject: give 'module'", field="module")


@dataclass(frozen=True)
class _UnrealBase:
    include: str
    base: str
    uclass: str
    tick_struct: str
    tick_signature: str
    tick_super: str
    purpose: str


ACTOR = _UnrealBase("GameFramework/Actor.h", "AActor", "UCLASS()", "PrimaryActorTick", "Tick(float DeltaTime)",
                    "Super::Tick(DeltaTime);", "is")
COMPONENT = _UnrealBase(
    "Components/ActorComponent.h", "UActorComponent", "UCLASS(ClassGroup = (Custom), meta = (BlueprintSpawnableComponent))",
    "PrimaryComponentTick",
    "TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction)",
    "Super::TickComponent(DeltaTime, TickType, ThisTickFunction);", "adds to its actor")


def _unreal_class(spec: _UnrealBase, cls: str, file: str, api: str, tick: bool) -> tuple[str, str]:
    tick_declaration = f"\n\tvirtual void {spec.tick_signature} override;\n" if tick else ""
    tick_definition = f"\nvoid {cls}::{spec.tick_signature}\n{{\n\t{spec.tick_super}\n}}\n" if tick else ""
    header = f"""#pragma once

#include "CoreMinimal.h"
#include "{spec.include}"
#include "{file}.generated.h"

/** TODO: what {cls} {spec.purpose}, in one sentence. */
{spec.uclass}
class {api} {cls} : public {spec.base}
{{
	GENERATED_BODY()

public:
	{cls}();

protected:
	virtual void BeginPlay() override;
{tick_declaration}}};
"""
    source = f"""#include "{file}.h"

{cls}::{cls}()
{{
	{spec.tick_struct}.bCanEverTick = {str(tick).lower()};
}}

void {cls}::BeginPlay()
{{
	Super::BeginPlay();
}}
{tick_definition}"""
    return header, source
