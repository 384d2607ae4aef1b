"""``lumina gamedev lint PATH`` and ``lumina gamedev scaffold PATH KIND NAME``: the linter and the
scaffolder on a project folder, in this process (no server needed, nothing indexed)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from lumina_core.errors import LuminaError
from lumina_gamedev import engines, scaffold
from lumina_gamedev.lint import needless_ticks
from lumina_gamedev.outline import Finding
from lumina_gamedev.splitter import outline_file


@click.group("gamedev")
def gamedev_group() -> None:
    """Unity and Unreal projects: lint them, scaffold classes (the server indexes and answers)."""


def lint_folder(root: Path) -> list[Finding]:
    """Every finding of the project at ``root``, in file and line order."""
    engine = engines.detect(root)
    findings: list[Finding] = []
    symbols = []
    for path in engine.files(root):
        outline = outline_file(path.relative_to(root).as_posix(), path.read_text(encoding="utf-8", errors="replace"))
        findings.extend(outline.findings)
        symbols.extend(outline.symbols)
    return sorted(findings + needless_ticks(symbols), key=lambda f: (f.file, f.line, f.rule))


@gamedev_group.command("lint")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def lint_command(path: Path, as_json: bool) -> None:
    """Report common Unity / Unreal pitfalls with file:line; exits 1 when there are any.

    \b
    Example:  lumina gamedev lint ~/Projects/SkyHopper
    """
    try:
        findings = lint_folder(path.resolve())
    except LuminaError as exc:
        raise click.ClickException(exc.message) from None
    for finding in findings:
        click.echo(json.dumps(finding.to_dict()) if as_json else f"{finding.file}:{finding.line}: {finding.rule}: {finding.message}")
    if findings:
        raise SystemExit(1)


@gamedev_group.command("scaffold")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("kind", type=click.Choice(scaffold.UNITY_KINDS + scaffold.UNREAL_KINDS))
@click.argument("name")
@click.option("--folder", help="Relative to the project (default: the engine's usual place).")
@click.option("--namespace", help="Unity: the C# namespace.")
@click.option("--module", help="Unreal: the module (default: the .uproject's first).")
@click.option("--tick", is_flag=True, help="Unreal: switch Tick on and override it.")
@click.option("--write", is_flag=True, help="Write the files (without it, print them).")
def scaffold_command(path: Path, kind: scaffold.Kind, name: str, folder: str | None, namespace: str | None,
                     module: str | None, tick: bool, write: bool) -> None:
    """Preview, or with --write create, a new class; never overwrites a file.

    \b
    Example:  lumina gamedev scaffold ~/Projects/SkyHopper monobehaviour CoinSpinner --write
    """
    root = path.resolve()
    try:
        files = scaffold.plan(root, engines.detect(root).name, scaffold.Request(kind, name, folder, namespace, module, tick))
        if write:
            scaffold.write(root, files)
    except LuminaError as exc:
        raise click.ClickException(exc.message) from None
    for planned in files:
        if write:
            click.echo(f"wrote {planned.path}")
        else:
            click.echo(f"--- {planned.path}{' (exists)' if planned.exists else ''}\n{planned.content}")
