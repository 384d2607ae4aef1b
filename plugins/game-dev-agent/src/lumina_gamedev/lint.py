"""Common Unity and Unreal pitfalls, found on the syntax trees and reported at exact lines.

Unity (C#): component and object lookups (``GetComponent``, ``GameObject.Find`` ...) and heap
allocations (``new List<>``, arrays, LINQ copies, built strings) in a method the engine calls
every frame, and public fields on a MonoBehaviour or ScriptableObject where ``[SerializeField]
private`` keeps the Inspector without opening the field to every script.
Unreal (C++): raw pointers to UObjects without ``UPROPERTY()`` (invisible to the garbage
collector), and Tick switched on in a constructor for a class whose Tick does nothing (a call per
frame for every instance, for nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from tree_sitter import Node

from lumina_gamedev.outline import Finding, Symbol
from lumina_gamedev.syntax import Source, first_line, text, walk

PER_FRAME = frozenset({"Update", "LateUpdate", "FixedUpdate", "OnGUI"})
UNITY_OBJECT_BASES = frozenset({"MonoBehaviour", "ScriptableObject", "NetworkBehaviour", "StateMachineBehaviour"})
COMPONENT_LOOKUPS = frozenset({"GetComponent", "GetComponents", "GetComponentInChildren", "GetComponentsInChildren",
                               "GetComponentInParent", "GetComponentsInParent"})
OBJECT_LOOKUPS = frozenset({"Find", "FindWithTag", "FindGameObjectWithTag", "FindGameObjectsWithTag",
                            "FindObjectOfType", "FindObjectsOfType", "FindFirstObjectByType", "FindAnyObjectByType",
                            "FindObjectsByType"})
#: Receivers for which ``Find`` is Unity's scene search (``list.Find`` is not).
SCENE_RECEIVERS = frozenset({"", "GameObject", "Object", "UnityEngine.Object", "transform", "gameObject", "this"})
#: Unity's value types: ``new Vector3(...)`` lives on the stack and allocates nothing.
VALUE_TYPES = frozenset({"Vector2", "Vector3", "Vector4", "Vector2Int", "Vector3Int", "Quaternion", "Color",
                         "Color32", "Rect", "RectInt", "Bounds", "BoundsInt", "Ray", "Ray2D", "Plane", "Matrix4x4",
                         "RaycastHit", "RaycastHit2D", "LayerMask", "KeyValuePair", "ContactPoint", "Keyframe",
                         "Touch", "Scene", "Pose", "float", "int", "bool", "double", "long", "char", "byte"})
COPYING_CALLS = frozenset({"ToList", "ToArray", "ToDictionary", "ToHashSet"})
UOBJECT_TYPE = re.compile(r"^(?:TObjectPtr<\s*)?[UA][A-Z]\w*")
TICK_METHODS = frozenset({"Tick", "TickComponent"})


# --- Unity -----------------------------------------------------------------------------------


def csharp_findings(source: Source, file: str) -> list[Finding]:
    findings: list[Finding] = []
    for node in walk(source.root):
        if node.type == "class_declaration":
            findings.extend(_public_fields(node, file))
        elif node.type == "method_declaration" and text(node.child_by_field_name("name")) in PER_FRAME:
            findings.extend(_per_frame_work(node, file))
    return sorted(findings, key=lambda f: f.line)


def _public_fields(cls: Node, file: str) -> Iterator[Finding]:
    name = text(cls.child_by_field_name("name"))
    bases = next((c for c in cls.named_children if c.type == "base_list"), None)
    if bases is None or not {text(b).rsplit(".", 1)[-1] for b in bases.named_children} & UNITY_OBJECT_BASES:
        return
    body = cls.child_by_field_name("body")
    for member in body.named_children if body is not None else ():
        modifiers = {text(c) for c in member.named_children if c.type == "modifier"}
        attributes = {text(a.child_by_field_name("name")) for lst in member.named_children if lst.type == "attribute_list"
                      for a in lst.named_children if a.type == "attribute"}
        if member.type != "field_declaration" or "public" not in modifiers or modifiers & {"const", "static", "readonly"} \
                or attributes & {"NonSerialized", "System.NonSerialized", "HideInInspector"}:
            continue
        declaration = next(c for c in member.named_children if c.type == "variable_declaration")
        for declarator in (c for c in declaration.named_children if c.type == "variable_declarator"):
            field = text(declarator.child_by_field_name("name") or declarator.named_children[0])
            yield Finding("unity.public_field", file, first_line(member),
                          f"public field '{field}' on {name}: make it [SerializeField] private so the Inspector still "
                          f"shows it but other scripts cannot change it behind the component's back", f"{name}.{field}")


def _per_frame_work(method: Node, file: str) -> Iterator[Finding]:
    callback = text(method.child_by_field_name("name"))
    owner = _enclosing_class(method)
    symbol = f"{owner}.{callback}" if owner else callback
    for node in walk(method):
        if node.type == "invocation_expression":
            receiver, called = _called(node.child_by_field_name("function"))
            if called in COMPONENT_LOOKUPS or (called in OBJECT_LOOKUPS and receiver in SCENE_RECEIVERS):
                what = f"{receiver}.{called}" if receiver else called
                yield Finding("unity.lookup_in_update", file, first_line(node),
                              f"{what} in {callback} searches every frame: look it up once in Awake or Start and keep "
                              f"it in a field", symbol)
            elif called in COPYING_CALLS:
                yield _allocation(file, node, f".{called}() copies the sequence", callback, symbol)
        elif node.type == "object_creation_expression":
            created = text(node.child_by_field_name("type"))
            if re.sub(r"<.*", "", created).rsplit(".", 1)[-1] not in VALUE_TYPES:
                yield _allocation(file, node, f"new {created}(...)", callback, symbol)
        elif node.type == "array_creation_expression":
            yield _allocation(file, node, f"new {text(node.child_by_field_name('type'))}", callback, symbol)
        elif node.type == "interpolated_string_expression" or _is_string_concatenation(node):
            yield _allocation(file, node, "building a string", callback, symbol)


def _allocation(file: str, node: Node, what: str, callback: str, symbol: str) -> Finding:
    return Finding("unity.per_frame_allocation", file, first_line(node),
                   f"{what} in {callback} allocates on the heap every frame, and the garbage collector will make the "
                   f"game stutter: allocate once (a field, cleared and reused) or cache the result", symbol)


def _called(function: Node | None) -> tuple[str, str]:
    """``(receiver, method)`` of a call: ``GameObject.Find`` → ``("GameObject", "Find")``."""
    if function is None:
        return "", ""
    if function.type == "member_access_expression":
        return text(function.child_by_field_name("expression")), _plain_name(function.child_by_field_name("name"))
    return "", _plain_name(function)


def _plain_name(node: Node | None) -> str:
    """A name without its type arguments: ``GetComponent<Rigidbody>`` → ``GetComponent``."""
    if node is not None and node.type == "generic_name":
        return text(node.named_children[0])
    return text(node)


def _is_string_concatenation(node: Node) -> bool:
    if node.type != "binary_expression" or text(node.child_by_field_name("operator")) != "+":
        return False
    parent = node.parent
    if parent is not None and parent.type == "binary_expression" and text(parent.child_by_field_name("operator")) == "+":
        return False  # reported once, at the outermost '+'
    return any(n.type in {"string_literal", "interpolated_string_expression"} for n in walk(node))


def _enclosing_class(node: Node) -> str:
    parent = node.parent
    while parent is not None and parent.type not in {"class_declaration", "struct_declaration"}:
        parent = parent.parent
    return text(parent.child_by_field_name("name")) if parent is not None else ""


# --- Unreal ----------------------------------------------------------------------------------


def cpp_findings(source: Source, file: str, symbols: Sequence[Symbol]) -> list[Finding]:
    """Raw UObject pointers without UPROPERTY() in reflected classes of one file."""
    reflected = {s.name for s in symbols if s.kind in {"class", "struct"} and s.detail.get("macro")}
    return [
        Finding("unreal.raw_uobject_pointer", file, s.start_line,
                f"'{s.detail['type']}* {s.name}' in {s.parent} has no UPROPERTY(): the garbage collector does not see "
                f"this reference, so the object can be destroyed and the pointer left dangling; add UPROPERTY() "
                f"(and prefer TObjectPtr<>), or hold a TWeakObjectPtr<> if it must not keep the object alive",
                f"{s.parent}::{s.name}")
        for s in symbols
        if s.kind == "field" and s.parent in reflected and not s.detail.get("macro")
        and (s.detail.get("pointer") or str(s.detail.get("type", "")).startswith("TObjectPtr"))
        and UOBJECT_TYPE.match(str(s.detail.get("type", "")))
    ]


def needless_ticks(symbols: Iterable[Symbol]) -> list[Finding]:
    """Constructors that switch Tick on for a class whose Tick does nothing (or does not exist):
    a project-wide rule, since the constructor and the Tick may be in different files."""
    symbols = list(symbols)
    findings = []
    for constructor in (s for s in symbols if s.kind == "constructor" and s.detail.get("enables_tick")):
        ticks = [s for s in symbols if s.parent == constructor.parent and s.name in TICK_METHODS and s.kind == "method"]
        defined = [s for s in ticks if "only_calls_super" in s.detail]
        if ticks and not defined:
            continue  # declared, defined somewhere this index does not see
        why = (f"its {defined[0].name} only calls Super::{defined[0].name} ({defined[0].file}:{defined[0].start_line})"
               if defined and all(s.detail["only_calls_super"] for s in defined) else
               None if defined else "it has no Tick")
        if why:
            findings.append(Finding(
                "unreal.needless_tick", constructor.file, int(constructor.detail["enables_tick"]),
                f"{constructor.parent} switches Tick on in its constructor but {why}: set bCanEverTick = false, since "
                f"every ticking instance costs a call each frame", f"{constructor.parent}::{constructor.name}"))
    return findings
