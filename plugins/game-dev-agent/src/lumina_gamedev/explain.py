"""Explain a class: what it is, what it derives from, and which engine callbacks it implements,
in the order the engine calls them, each with when it runs, where it is and what it calls.

Read from the symbols the index stored (no model involved), so every statement cites its line.
An Unreal class is put together from its header (declarations, macros) and its sources
(definitions); the linter's findings on the class come with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lumina_gamedev.engines import ENGINES, Engine
from lumina_gamedev.lint import needless_ticks
from lumina_gamedev.outline import Symbol
from lumina_gamedev.store import Project, ProjectStore

TYPE_KINDS = frozenset({"class", "struct", "interface", "record", "enum"})
UNREAL_PREFIXES = ("A", "U", "F", "I")
MAX_CALLS_SHOWN = 6


def find_class(store: ProjectStore, project: Project, name: str) -> Symbol | None:
    """The class called ``name`` (for Unreal, ``ShooterCharacter`` finds ``AShooterCharacter``)."""
    candidates = [name] + ([p + name for p in UNREAL_PREFIXES] if project.engine == "unreal" else [])
    for candidate in candidates:
        found = [s for s in store.symbols(project.id, name=candidate) if s.kind in TYPE_KINDS]
        if found:
            return min(found, key=lambda s: (s.file.endswith(".cpp"), s.file))
    return None


def explain(store: ProjectStore, project: Project, cls: Symbol) -> dict[str, Any]:
    engine = ENGINES[project.engine]
    qualified = f"{cls.parent}.{cls.name}" if cls.parent and project.engine == "unity" else cls.name
    members = store.symbols(project.id, parents=[qualified])
    lineage = inheritance(store, project, cls)
    callbacks = engine_callbacks(engine, members, cls.name)
    others = [m for m in members if m.name not in {c["name"] for c in callbacks}]
    findings = [f.to_dict() for f in store.findings(project.id) + needless_ticks(store.symbols(project.id))
                if f.symbol.startswith((f"{cls.name}.", f"{cls.name}::"))]
    return {
        **cls.to_dict(),
        "inherits": lineage,
        "callbacks": callbacks,
        "members": [m.to_dict() for m in others],
        "findings": findings,
        "explanation": _prose(cls, lineage, callbacks, others, findings, engine),
    }


def inheritance(store: ProjectStore, project: Project, cls: Symbol) -> list[str]:
    """The chain of base classes, followed through the project's own classes (``Boss`` →
    ``EnemyAI`` → ``MonoBehaviour``)."""
    chain: list[str] = []
    current: Symbol | None = cls
    while current is not None and current.detail.get("bases") and len(chain) < 10:
        base = str(current.detail["bases"][0]).split("<")[0].rsplit(".", 1)[-1]
        if base in chain:
            break
        chain.append(base)
        current = find_class(store, project, base)
    return chain


def engine_callbacks(engine: Engine, members: Sequence[Symbol], class_name: str) -> list[dict[str, Any]]:
    """The members the engine calls, in its order; a declaration and its definition are one."""
    found = []
    for callback, when in engine.callbacks.items():
        name = class_name if callback == "constructor" else callback
        same = [m for m in members if m.name == name and m.kind in {"method", "constructor"}]
        if not same:
            continue
        defined = next((m for m in same if "calls" in m.detail), same[0])
        declared = next((m for m in same if m is not defined), None)
        found.append({
            "name": name, "when": when, "cite": f"{defined.file}:{defined.start_line}",
            "start_line": defined.start_line, "end_line": defined.end_line,
            "declared_at": f"{declared.file}:{declared.start_line}" if declared else None,
            "calls": list(defined.detail.get("calls", [])),
        })
    return found


def _prose(cls: Symbol, lineage: Sequence[str], callbacks: Sequence[dict[str, Any]], others: Sequence[Symbol],
           findings: Sequence[dict[str, Any]], engine: Engine) -> str:
    derives = f", deriving from {' → '.join(lineage)}" if lineage else ""
    parts = [f"{cls.name} is a {cls.kind}{derives} ({cls.file}:{cls.start_line})."]
    if cls.detail.get("doc"):
        parts.append(str(cls.detail["doc"]).rstrip(".") + ".")
    if callbacks:
        parts.append(f"{engine.name.capitalize()} calls:")
        for c in callbacks:
            calls = ", ".join(c["calls"][:MAX_CALLS_SHOWN])
            parts.append(f"{c['name']} {c['when']} ({c['cite']})" + (f", which calls {calls}." if calls else "."))
    else:
        parts.append(f"It implements none of {engine.name.capitalize()}'s callbacks.")
    if others:
        parts.append("It also has: " + ", ".join(dict.fromkeys(m.name for m in others)) + ".")
    if findings:
        parts.append(f"The linter has {len(findings)} finding(s) on it: "
                     + "; ".join(f"{f['rule']} at {f['cite']}" for f in findings) + ".")
    return " ".join(parts)
