"""Unity and Unreal: how to recognise a project, which of its files to read, and the callbacks
each engine calls on a class (in the order it calls them), for ``explain``."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from lumina_core.errors import ValidationFailed

EngineName = Literal["unity", "unreal"]
#: Files larger than this are not read (a generated scene of many megabytes says little).
MAX_FILE_BYTES = 2_000_000


@dataclass(frozen=True)
class Rule:
    """Files under ``folder`` (the root when empty; at any depth when ``recursive``) whose suffix
    or whole name is listed."""

    folder: str
    suffixes: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    recursive: bool = True

    def matches(self, relative: PurePosixPath) -> bool:
        parts = relative.parts
        inside = (parts[0] == self.folder and len(parts) > 1) if self.folder else True
        depth_ok = self.recursive or len(parts) == (2 if self.folder else 1)
        return inside and depth_ok and (relative.suffix.lower() in self.suffixes or relative.name in self.names)


@dataclass(frozen=True)
class Engine:
    name: EngineName
    rules: tuple[Rule, ...]
    #: Folders never entered (build output, caches).
    skipped: frozenset[str]
    #: Callback name → when the engine calls it, in the engine's call order.
    callbacks: Mapping[str, str]

    def files(self, root: Path) -> Iterator[Path]:
        """The project's indexable files, in a stable order; skipped folders are never entered
        (a Unity ``Library/`` holds many thousands of files)."""
        for folder, subfolders, names in os.walk(root):
            subfolders[:] = sorted(d for d in subfolders if d not in self.skipped and not d.startswith("."))
            for name in sorted(names):
                path = Path(folder) / name
                if self.wants(root, path) and path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
                    yield path

    def wants(self, root: Path, path: Path) -> bool:
        """True when ``path`` is one of the files this engine's projects index (the watcher asks)."""
        try:
            relative = PurePosixPath(path.relative_to(root).as_posix())
        except ValueError:
            return False
        if any(part in self.skipped or part.startswith(".") for part in relative.parts[:-1]):
            return False
        return any(rule.matches(relative) for rule in self.rules)


UNITY = Engine(
    "unity",
    (Rule("Assets", frozenset({".cs", ".unity", ".prefab"})),
     Rule("ProjectSettings", frozenset({".asset"}), frozenset({"ProjectVersion.txt"}), recursive=False),
     Rule("Packages", names=frozenset({"manifest.json"}), recursive=False)),
    frozenset({"Library", "Temp", "Obj", "obj", "Logs", "Build", "Builds", "UserSettings"}),
    {
        "Awake": "once, when the object is loaded, before any Start",
        "OnEnable": "each time the component is enabled",
        "Reset": "in the editor, when the component is added or reset",
        "OnValidate": "in the editor, whenever a value changes in the Inspector",
        "Start": "once, before the first frame the component is enabled",
        "FixedUpdate": "at every physics step (fixed time step)",
        "OnTriggerEnter": "when another collider enters this trigger",
        "OnTriggerStay": "every physics step while another collider stays in this trigger",
        "OnTriggerExit": "when another collider leaves this trigger",
        "OnCollisionEnter": "when this collider starts touching another",
        "OnCollisionStay": "every physics step while touching another collider",
        "OnCollisionExit": "when this collider stops touching another",
        "OnTriggerEnter2D": "when another 2D collider enters this trigger",
        "OnCollisionEnter2D": "when this 2D collider starts touching another",
        "Update": "every frame",
        "LateUpdate": "every frame, after every Update",
        "OnGUI": "several times per frame, to draw and handle immediate-mode GUI",
        "OnBecameVisible": "when a camera starts seeing the renderer",
        "OnBecameInvisible": "when no camera sees the renderer any more",
        "OnApplicationPause": "when the application is paused or resumed",
        "OnApplicationQuit": "before the application quits",
        "OnDisable": "each time the component is disabled",
        "OnDestroy": "once, when the object is destroyed",
    },
)

UNREAL = Engine(
    "unreal",
    (Rule("", frozenset({".uproject"}), recursive=False),
     Rule("Source", frozenset({".h", ".hpp", ".cpp", ".cc", ".cs"})),
     Rule("Config", frozenset({".ini"})),
     Rule("Plugins", frozenset({".uplugin", ".h", ".hpp", ".cpp", ".cc", ".cs"}))),
    frozenset({"Binaries", "Intermediate", "Saved", "DerivedDataCache"}),
    {
        "constructor": "when the class default object and each instance are created (set defaults, create components)",
        "PostInitProperties": "after the properties are initialised",
        "OnConstruction": "when the actor is placed or changed in the editor, and when spawned",
        "PostInitializeComponents": "after all of the actor's components are initialised",
        "InitializeComponent": "when the component is initialised (bWantsInitializeComponent)",
        "BeginPlay": "once, when play starts for this object",
        "SetupPlayerInputComponent": "when a controller possesses the pawn, to bind input",
        "PossessedBy": "when a controller takes possession of the pawn",
        "Tick": "every frame, while ticking is enabled",
        "TickComponent": "every frame, while the component's ticking is enabled",
        "NotifyActorBeginOverlap": "when another actor starts overlapping this one",
        "NotifyActorEndOverlap": "when another actor stops overlapping this one",
        "NotifyHit": "when this actor hits or is hit by something blocking",
        "EndPlay": "once, when play ends for this object (destroyed, level unloaded)",
        "UninitializeComponent": "when the component is uninitialised",
        "BeginDestroy": "when the garbage collector starts destroying the object",
    },
)

ENGINES: Mapping[str, Engine] = {"unity": UNITY, "unreal": UNREAL}


def detect(root: Path) -> Engine:
    """The engine of the project at ``root``: Unity has ``Assets/`` and ``ProjectSettings/``,
    Unreal a ``.uproject`` file."""
    if (root / "Assets").is_dir() and (root / "ProjectSettings").is_dir():
        return UNITY
    if any(root.glob("*.uproject")):
        return UNREAL
    raise ValidationFailed(
        f"'{root}' is neither a Unity project (it needs Assets/ and ProjectSettings/) nor an Unreal project "
        f"(it needs a .uproject file): give the project's root folder", field="path")


def check(root: Path, engine: Engine) -> None:
    """Refuse an engine named by the caller that the folder does not look like."""
    if detect(root) is not engine:
        raise ValidationFailed(f"'{root}' is not a {engine.name} project (it looks like a {detect(root).name} one)",
                               field="engine")


#: What well-known engine files hold, in words a question would use: indexed beside their text,
#: since ``m_Axes`` or ``+ActionMappings`` never says "key" or "input".
ABOUT_NAMES: Mapping[str, str] = {
    "InputManager.asset": "Unity input settings: the input axes and buttons, and the keys bound to each",
    "TagManager.asset": "Unity tags and layers",
    "DynamicsManager.asset": "Unity physics settings: gravity, bounce threshold, default material",
    "Physics2DSettings.asset": "Unity 2D physics settings: gravity",
    "ProjectSettings.asset": "Unity player settings: product name of the game, company name, version, screen size",
    "ProjectVersion.txt": "the Unity editor version of the project",
    "TimeManager.asset": "Unity time settings: fixed timestep of physics",
    "QualitySettings.asset": "Unity quality levels",
    "manifest.json": "the Unity packages the project depends on",
    "DefaultInput.ini": "Unreal input settings: action and axis mappings, the keys bound to each",
    "DefaultEngine.ini": "Unreal engine settings: default map, game mode, physics gravity, rendering",
    "DefaultGame.ini": "Unreal game settings: project name, version, packaging",
}
ABOUT_SUFFIXES: Mapping[str, str] = {
    ".uproject": "Unreal project descriptor: engine version, modules, plugins",
    ".build.cs": "Unreal module build rules: the engine modules this module depends on",
    ".target.cs": "Unreal build target",
    ".uplugin": "Unreal plugin descriptor",
    ".unity": "Unity scene: its GameObjects",
    ".prefab": "Unity prefab: its GameObjects",
}


def about(relative_path: str) -> str:
    """What a well-known engine file holds, in plain words ("" for any other file)."""
    name = PurePosixPath(relative_path).name
    if name in ABOUT_NAMES:
        return ABOUT_NAMES[name]
    return next((text for suffix, text in ABOUT_SUFFIXES.items() if name.lower().endswith(suffix)), "")
