"""``lumina plugin init``: a new plugin package in the same shape as the ones Lumina ships.

The files come from ``templates/plugin/`` (``string.Template`` placeholders, ``.tmpl`` suffix so
no tool mistakes them for code; the ``PACKAGE`` folder takes the import name). The target folder
is created exclusively, so an existing folder is never written into.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from string import Template

from lumina_core.version import API_VERSION, __version__

TEMPLATE_DIR = Path(__file__).parent / "templates" / "plugin"
TEMPLATE_SUFFIX = ".tmpl"
PACKAGE_PLACEHOLDER = "PACKAGE"

#: The manifest's name rule, narrowed so the default prefix ``/<name>`` is valid too.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,38}[a-z0-9]$")
NAME_RULE = (
    "lower-case letters a-z, digits 0-9, '-' and '_'; it starts with a letter, "
    "ends with a letter or a digit, and is 2 to 40 characters long"
)


class InvalidPluginName(ValueError):
    """The name cannot name a plugin; the message says which characters are allowed."""


class TargetExists(FileExistsError):
    """The folder to create is already there; nothing was written."""


@dataclass(frozen=True)
class PluginNames:
    """Every name derived from the plugin's: what the templates are filled with."""

    name: str
    package: str
    distribution: str
    title: str
    folder: str
    api_version: str
    core_version: str


def check_name(name: str) -> None:
    """Raise :class:`InvalidPluginName` unless ``name`` can name a plugin."""
    if NAME_PATTERN.match(name):
        return
    wrong = sorted({c for c in name if not re.match(r"[a-z0-9_-]", c)})
    found = f" (not allowed: {', '.join(repr(c) for c in wrong)})" if wrong else ""
    raise InvalidPluginName(f"'{name}' cannot name a plugin{found}: use {NAME_RULE}")


def plugin_names(name: str, folder: Path) -> PluginNames:
    check_name(name)
    major = int(API_VERSION.split(".")[0])
    return PluginNames(
        name=name,
        package="lumina_" + name.replace("-", "_"),
        distribution="lumina-" + name.replace("_", "-"),
        title=name.replace("-", " ").replace("_", " ").title(),
        folder=str(folder),
        api_version=f">={API_VERSION},<{major + 1}",
        core_version=__version__,
    )


def create_plugin(name: str, parent: Path) -> list[Path]:
    """Write the package ``parent/name``; return the files written, relative to it."""
    target = parent / name
    names = plugin_names(name, target)
    parent.mkdir(parents=True, exist_ok=True)
    try:
        target.mkdir()
    except FileExistsError:
        raise TargetExists(f"{target} already exists: choose another name or --dir (nothing was written)") from None
    written = []
    for template in sorted(TEMPLATE_DIR.rglob(f"*{TEMPLATE_SUFFIX}")):
        relative = _rendered_path(template.relative_to(TEMPLATE_DIR), names.package)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(render(template, names), "utf-8")
        written.append(relative)
    return written


def render(template: Path, names: PluginNames) -> str:
    """One template filled in (the plugin guide shows the rendered manifest as its example)."""
    return Template(template.read_text("utf-8")).substitute(asdict(names))


def _rendered_path(template: Path, package: str) -> Path:
    parts = [package if part == PACKAGE_PLACEHOLDER else part for part in template.parts]
    parts[-1] = parts[-1].removesuffix(TEMPLATE_SUFFIX)
    return Path(*parts)
