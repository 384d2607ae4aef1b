"""Dependency order: which valid plugins can load, in which order, and why the others cannot."""

from __future__ import annotations

import graphlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from packaging.version import Version

from lumina_core.plugins.manifest import CORE_DISTRIBUTION, Manifest


@dataclass
class Resolution:
    order: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def resolve(
    candidates: Mapping[str, Manifest],
    *,
    core_version: str,
    api_version: str,
    unavailable: Mapping[str, str] | None = None,
) -> Resolution:
    """Order ``candidates`` so that dependencies come first; refuse those that cannot load.

    ``unavailable`` maps plugins that exist but will not load (disabled, invalid ...) to a word
    saying why, so a dependent's reason names the real cause.
    """
    unavailable = dict(unavailable or {})
    refused: dict[str, str] = {}
    while True:
        _refuse_unsatisfied(candidates, refused, unavailable, Version(core_version), Version(api_version))
        remaining = {n: m for n, m in candidates.items() if n not in refused}
        sorter = graphlib.TopologicalSorter(
            {n: [r.name for r in m.dependencies if r.name in remaining] for n, m in sorted(remaining.items())}
        )
        try:
            return Resolution(order=_stable_order(sorter), refused=refused)
        except graphlib.CycleError as exc:
            cycle = exc.args[1]
            for name in set(cycle):
                refused[name] = f"dependency cycle: {' -> '.join(cycle)}"


def _refuse_unsatisfied(
    candidates: Mapping[str, Manifest],
    refused: dict[str, str],
    unavailable: Mapping[str, str],
    core_version: Version,
    api_version: Version,
) -> None:
    changed = True
    while changed:
        changed = False
        for name, manifest in candidates.items():
            if name in refused:
                continue
            reason = _problem(manifest, candidates, refused, unavailable, core_version, api_version)
            if reason:
                refused[name] = reason
                changed = True


def _problem(
    manifest: Manifest,
    candidates: Mapping[str, Manifest],
    refused: Mapping[str, str],
    unavailable: Mapping[str, str],
    core_version: Version,
    api_version: Version,
) -> str | None:
    if not manifest.api_version.contains(api_version, prereleases=True):
        return f"needs host API {manifest.api_version}, but this host provides API {api_version}"
    for requirement in manifest.dependencies:
        name, wanted = requirement.name, requirement.specifier
        if name == CORE_DISTRIBUTION:
            if not wanted.contains(core_version, prereleases=True):
                return f"needs {requirement}, but lumina-core {core_version} is installed"
        elif name in refused:
            return f"depends on '{name}', which cannot load ({refused[name]})"
        elif name in unavailable:
            return f"depends on '{name}', which is {unavailable[name]}"
        elif name not in candidates:
            return f"depends on '{name}', which is not installed"
        elif not wanted.contains(candidates[name].version, prereleases=True):
            return f"needs {requirement}, but '{name}' {candidates[name].version} is installed"
    return None


def _stable_order(sorter: graphlib.TopologicalSorter[str]) -> list[str]:
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order
