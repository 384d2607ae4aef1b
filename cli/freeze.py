"""``lumina freeze`` and ``lumina restore``: the whole state in one checked archive, and back.

The running server takes the archive (``POST /admin/freeze``, see
:mod:`lumina_core.builtins.freeze`), so it is consistent; restore works on a stopped host only,
checks the archive whole before it touches anything, and keeps the data folder it replaces.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

from typing import TYPE_CHECKING

import click
import httpx

if TYPE_CHECKING:  # the archive code is imported when a command runs, keeping `lumina --help` fast
    from lumina_core.builtins.freeze import FreezeManifest
    from lumina_core.settings import Settings

FREEZE_TIMEOUT_S = 900


@click.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def freeze(path: Path | None) -> None:
    """Freeze the running server's whole state into one archive at PATH.

    Every plugin's state (memory, threads, knowledge index and graph, gaps, files), the accounts,
    the event log and the vectors, with a manifest of versions and checksums. The server takes
    it while it keeps serving; PATH defaults to lumina-freeze-<time>.tar.gz here.

    \b
    Example:  lumina freeze backups/lumina-monday.tar.gz
    """
    from lumina_cli.main import error_message, server_headers, settings_or_exit
    from lumina_core.builtins.freeze import ArchiveRefused, read_archive

    settings = settings_or_exit()
    target = path or Path(f"lumina-freeze-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.tar.gz")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with httpx.stream("POST", f"{settings.url}/admin/freeze", headers=server_headers(settings),
                          timeout=FREEZE_TIMEOUT_S) as response:
            if response.is_error:
                response.read()
                raise click.ClickException(f"the server refused to freeze: {error_message(response)}")
            with partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        manifest = read_archive(partial)
    except httpx.TransportError:
        partial.unlink(missing_ok=True)
        raise click.ClickException(
            f"no server answers at {settings.url}: freeze reads the running server (so the copy is consistent); "
            f"start it with lumina serve, or set LUMINA_URL"
        ) from None
    except (ArchiveRefused, click.ClickException) as exc:
        partial.unlink(missing_ok=True)
        raise click.ClickException(getattr(exc, "message", None) or str(exc)) from None
    partial.replace(target)
    click.echo(f"froze {settings.url} into {target}: {summary(manifest)}")


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Only check the archive (checksums, versions); change nothing.")
def restore(path: Path, check: bool) -> None:
    """Replace the data folder with the state frozen in PATH (the server must be stopped).

    The archive is checked whole first (every checksum, the format, the versions of lumina-core
    and of each plugin); a corrupt or mismatched one is refused and nothing changes. The data
    folder it replaces is kept beside it as <folder>.before-restore-<time>.

    \b
    Example:  lumina restore backups/lumina-monday.tar.gz
    """
    from lumina_cli.main import settings_or_exit
    from lumina_core.builtins.freeze import ArchiveRefused, exclusive_lock, read_archive
    from lumina_core.errors import Conflict

    settings = settings_or_exit()
    try:
        manifest = read_archive(path)
        _refuse_versions(manifest, settings)
        if check:
            click.echo(f"{path} is sound and fits this installation: {summary(manifest)}")
            return
        with exclusive_lock(settings.data_dir):
            kept = _swap_in(path, settings.data_dir)
        if settings.qdrant_url:
            _vectors_to_server(settings)
    except (ArchiveRefused, Conflict) as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"restored {settings.data_dir} from {path}: {summary(manifest)}")
    if kept is not None:
        click.echo(f"the previous data folder is kept at {kept}")


def summary(manifest: FreezeManifest) -> str:
    """One line: when, what made it, and what it holds."""
    size = sum(f.size for f in manifest.files) / 1e6
    plugins = ", ".join(f"{n} {p['version']}" for n, p in sorted(manifest.plugins.items())) or "no plugins"
    points = ", ".join(f"{n} {c}" for n, c in sorted(manifest.vectors.get("collections", {}).items())) or "none"
    return (f"taken {manifest.created_at} by lumina-core {manifest.lumina_core}; {len(manifest.files)} files "
            f"({size:.1f} MB); plugins: {plugins}; vector points: {points}")


def _refuse_versions(manifest: FreezeManifest, settings: Settings) -> None:
    from lumina_core.builtins.freeze import ArchiveRefused, refused_versions
    from lumina_core.kernel import Kernel

    installed = {r.name: str(r.manifest.version) for r in Kernel(settings).survey() if r.manifest is not None}
    problems = refused_versions(manifest, installed)
    if problems:
        raise ArchiveRefused("this installation cannot take the archive: " + "; ".join(problems)
                             + ". Install those versions (or newer), then restore")


def _swap_in(archive: Path, data_dir: Path) -> Path | None:
    """Unpack beside the data folder (checking every file again), then swap the folders; the
    old folder's new name, or None when it held nothing."""
    from lumina_core.builtins.freeze import LOCK_FILE, read_archive

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    staging = data_dir.with_name(f".{data_dir.name}.restoring-{stamp}")
    try:
        read_archive(archive, into=staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    kept: Path | None = data_dir.with_name(f"{data_dir.name}.before-restore-{stamp}")
    data_dir.rename(kept)
    staging.rename(data_dir)
    if {p.name for p in kept.iterdir()} <= {LOCK_FILE}:
        shutil.rmtree(kept)
        kept = None
    return kept


def _vectors_to_server(settings: Settings) -> None:
    """With a Qdrant server configured, its collections are replaced by the archive's."""
    from lumina_core.builtins.freeze import VECTORS
    from lumina_core.services.vectors import server_store
    from lumina_core.services.vectors.edge import EdgeVectorStore
    from lumina_core.services.vectors.migrate import migrate

    async def copy() -> None:
        source = EdgeVectorStore(settings.data_dir / VECTORS)
        target = server_store(settings.qdrant_url or "", settings.qdrant_api_key)
        try:
            report = await migrate(source, target, replace=True)
        finally:
            await source.close()
            await target.close()
        click.echo(f"copied {report.total} vector points into the Qdrant server at {settings.qdrant_url}")

    asyncio.run(copy())
