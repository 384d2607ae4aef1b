"""Freeze (``POST /admin/freeze``): every plugin's state and the core's own in one archive.

The running server takes the archive, so each part is consistent while it keeps serving:

1. the vectors, collection by collection through the store's own interface (whichever backend
   runs), into an embedded Qdrant Edge store inside the archive;
2. each plugin that implements the ``snapshot`` hook writes its own folder;
3. everything else under the data folder (accounts, the event log, plugin data, the memory
   journal): SQLite files through SQLite's online backup API, a point-in-time copy taken while
   others write; other files as they are.

Vectors go first and files after, so a journal the index is rebuilt from is never older than
the index. The archive is a gzipped tar: ``manifest.json`` (versions, plugins, every file with
its size and SHA-256), ``manifest.sha256`` (the manifest's own checksum), then ``data/``, laid out
as the data folder. :func:`read_archive` checks all of it; ``lumina restore`` puts it back.

Every Lumina process holds a shared lock on its data folder while it runs, so ``lumina restore``
can refuse while a server or worker still uses the folder.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from fastapi import APIRouter, Depends
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from lumina_core.auth import require_admin
from lumina_core.context import PluginContext
from lumina_core.errors import Conflict, Unavailable, ValidationFailed
from lumina_core.hookspecs import hookimpl
from lumina_core.kernel import Kernel
from lumina_core.plugins.hookcalls import call_impl
from lumina_core.plugins.records import PluginState
from lumina_core.services.vectors import VectorStore
from lumina_core.services.vectors.edge import EdgeVectorStore
from lumina_core.services.vectors.migrate import migrate
from lumina_core.version import API_VERSION, __version__

log = logging.getLogger("lumina.freeze")

FORMAT = "lumina-freeze"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
DATA = "data"
VECTORS = "vectors"
LOCK_FILE = "lumina.lock"
SNAPSHOT_TIMEOUT_S = 600.0
MEDIA_TYPE = "application/gzip"
#: What is never archived: SQLite's side files (the backup already holds their content), the lock.
_TRANSIENT_SUFFIXES = ("-wal", "-shm", "-journal")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_CHUNK = 1 << 20


class ArchiveRefused(ValidationFailed):
    """The archive is corrupt, incomplete or from versions this installation cannot take."""


# --- the built-in -----------------------------------------------------------------------------


@hookimpl
def startup(ctx: PluginContext) -> None:
    """Hold the data folder's shared lock for the life of this process (see ``lumina restore``)."""
    lock = hold_shared_lock(ctx.kernel.settings.data_dir)
    ctx.on_stop(lock.close)


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    kernel = ctx.kernel
    router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])
    one_at_a_time = asyncio.Lock()

    @router.post(
        "/freeze",
        summary="Freeze every plugin's state and the core's own into one archive (admin)",
        response_class=FileResponse,
        responses={200: {"content": {MEDIA_TYPE: {}}, "description": "The archive (gzipped tar)."}},
    )
    async def freeze() -> FileResponse:
        if one_at_a_time.locked():
            raise Conflict("a freeze is already running on this server: wait for it to finish")
        async with one_at_a_time:
            work = Path(tempfile.mkdtemp(prefix="lumina-freeze-"))
            try:
                archive, manifest = await take_freeze(kernel, work)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
        headers = {"X-Lumina-Manifest-Sha256": manifest.checksum, "X-Lumina-Files": str(len(manifest.files))}
        return FileResponse(
            archive, media_type=MEDIA_TYPE, filename=archive.name, headers=headers,
            background=BackgroundTask(shutil.rmtree, work, ignore_errors=True),
        )

    return router


def hold_shared_lock(data_dir: Path) -> IO[bytes]:
    """Open and share-lock ``<data>/lumina.lock``; the lock lasts until the file is closed (or
    the process dies, even by SIGKILL)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_FILE).open("ab")
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


@contextmanager
def exclusive_lock(data_dir: Path) -> Iterator[None]:
    """Hold the data folder alone, or raise :class:`Conflict` when a Lumina process uses it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / LOCK_FILE).open("ab") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(
                f"a Lumina server or worker is running on {data_dir}: stop every `lumina serve` and "
                f"`lumina worker` using it, then restore"
            ) from None
        yield


# --- taking a freeze ------------------------------------------------------------------------


@dataclass
class FrozenFile:
    path: str
    size: int
    sha256: str


@dataclass
class FreezeManifest:
    """What an archive holds and what made it."""

    created_at: str
    lumina_core: str
    api_version: str
    plugins: dict[str, dict[str, str]]
    vectors: dict[str, Any]
    files: list[FrozenFile] = field(default_factory=list)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        document = {**self.__dict__, "files": [f.__dict__ for f in self.files]}
        return json.dumps(document, indent=2, sort_keys=True).encode()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.to_json()).hexdigest()

    @classmethod
    def from_json(cls, raw: bytes) -> FreezeManifest:
        document = json.loads(raw)
        files = [FrozenFile(**f) for f in document.pop("files")]
        return cls(**document, files=files)


async def take_freeze(kernel: Kernel, work: Path) -> tuple[Path, FreezeManifest]:
    """Freeze the running host into ``work/<name>.tar.gz``; the staging copy is removed after."""
    settings = kernel.settings
    staging = work / "staging"
    copy = staging / DATA
    started = time.perf_counter()
    vectors = await _freeze_vectors(kernel.services.get("vectors"), copy / VECTORS)
    snapshotted = await _call_snapshot_hooks(kernel, copy / "plugins")
    skipped = {PurePosixPath(VECTORS), PurePosixPath(LOCK_FILE), *(PurePosixPath("plugins", n) for n in snapshotted)}
    await asyncio.to_thread(copy_folder, settings.data_dir, copy, skipped)
    manifest = FreezeManifest(
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        lumina_core=__version__,
        api_version=API_VERSION,
        plugins=_plugin_versions(kernel, snapshotted),
        vectors=vectors,
    )
    archive = work / f"lumina-freeze-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.tar.gz"
    await asyncio.to_thread(write_archive, staging, manifest, archive)
    shutil.rmtree(staging, ignore_errors=True)
    log.info("froze %d files into %s in %.1f s", len(manifest.files), archive.name, time.perf_counter() - started)
    return archive, manifest


async def _freeze_vectors(store: VectorStore, target: Path) -> dict[str, Any]:
    """Copy every collection into an embedded store at ``target``; its description for the manifest."""
    copy = EdgeVectorStore(target)
    try:
        report = await migrate(store, copy)
    finally:
        await copy.close()
    return {"from": store.backend, "collections": report.copied}


async def _call_snapshot_hooks(kernel: Kernel, plugins_folder: Path) -> list[str]:
    """Let each started plugin that implements ``snapshot`` write its folder; their names."""
    started = {name for name, record in kernel.records.items() if record.state is PluginState.STARTED}
    done: list[str] = []
    for impl in kernel.pm.hook.snapshot.get_hookimpls():
        name = impl.plugin_name
        record = kernel.records.get(name)
        if name not in started or record is None or record.builtin:
            continue
        target = plugins_folder / name
        target.mkdir(parents=True, exist_ok=True)
        try:
            await call_impl(impl, "snapshot", {"ctx": record.context, "target": target},
                            timeout=SNAPSHOT_TIMEOUT_S, listeners=tuple(kernel.call_listeners))
        except Exception as exc:  # noqa: BLE001 - the freeze fails, naming the plugin
            raise Unavailable(f"plugin '{name}' failed to snapshot its state ({type(exc).__name__}: {exc}); "
                              f"no archive was written") from exc
        done.append(name)
    return done


def _plugin_versions(kernel: Kernel, snapshotted: list[str]) -> dict[str, dict[str, str]]:
    return {
        record.name: {"version": str(record.manifest.version), "state": str(record.state),
                      "taken_by": "snapshot hook" if record.name in snapshotted else "host"}
        for record in kernel.public_records()
        if record.manifest is not None
    }


def copy_folder(source: Path, target: Path, skipped: set[PurePosixPath]) -> None:
    """Copy ``source`` into ``target`` but the ``skipped`` paths: SQLite files by online backup,
    other files as they are. A file that disappears while the copy runs is not an error."""
    for folder, subfolders, files in os.walk(source):
        relative = PurePosixPath(Path(folder).relative_to(source).as_posix())
        subfolders[:] = [d for d in subfolders if (relative / d) not in skipped]
        for name in files:
            if (relative / name) in skipped or name.endswith(_TRANSIENT_SUFFIXES):
                continue
            destination = target / relative / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                _copy_file(Path(folder) / name, destination)
            except FileNotFoundError:
                continue


def _copy_file(source: Path, destination: Path) -> None:
    with source.open("rb") as handle:
        is_sqlite = handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    if is_sqlite:
        backup_sqlite(source, destination)
    else:
        shutil.copy2(source, destination)


def backup_sqlite(source: Path, destination: Path) -> None:
    """A point-in-time copy of a live SQLite database, as one self-contained file."""
    live = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(destination)
    try:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # the archive holds single files, no WAL beside
    finally:
        copy.close()
        live.close()


def write_archive(staging: Path, manifest: FreezeManifest, archive: Path) -> None:
    """Checksum every staged file into ``manifest``, then write manifest, its sum and the files."""
    members = sorted(p for p in staging.rglob("*") if p.is_file())
    manifest.files = [FrozenFile(p.relative_to(staging).as_posix(), p.stat().st_size, _sha256(p)) for p in members]
    raw = manifest.to_json()
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        _add_bytes(tar, MANIFEST, raw)
        _add_bytes(tar, MANIFEST_SUM, f"{hashlib.sha256(raw).hexdigest()}  {MANIFEST}\n".encode())
        for path in members:
            tar.add(path, arcname=path.relative_to(staging).as_posix(), recursive=False)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(data))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- reading an archive -------------------------------------------------------------------------


def read_archive(archive: Path, into: Path | None = None) -> FreezeManifest:
    """Check ``archive`` whole (manifest checksum, format, every file's size and SHA-256, nothing
    missing or extra) and, when ``into`` is given, unpack its data folder there.

    Raises :class:`ArchiveRefused` saying what is wrong; ``into`` may then hold a partial copy.
    """
    where = str(archive)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            manifest = _read_manifest(tar, where)
            expected = {f.path: f for f in manifest.files}
            for member in tar:
                if member.name in (MANIFEST, MANIFEST_SUM):
                    continue
                _check_member(member, expected, where, into, tar)
                expected.pop(member.name)
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:  # zlib errors are OSError/EOFError
        raise ArchiveRefused(f"{where} is not a readable freeze archive ({type(exc).__name__}: {exc})") from None
    if expected:
        raise ArchiveRefused(f"{where} is incomplete: {len(expected)} files of its manifest are missing, "
                             f"e.g. {min(expected)}")
    return manifest


def _read_manifest(tar: tarfile.TarFile, where: str) -> FreezeManifest:
    first, second = tar.next(), tar.next()
    if first is None or second is None or (first.name, second.name) != (MANIFEST, MANIFEST_SUM):
        raise ArchiveRefused(f"{where} does not start with {MANIFEST} and {MANIFEST_SUM}: it was not written by "
                             f"`lumina freeze`")
    raw, recorded = _member_bytes(tar, first), _member_bytes(tar, second).split(b" ")[0].decode(errors="replace")
    if hashlib.sha256(raw).hexdigest() != recorded:
        raise ArchiveRefused(f"{where}: {MANIFEST} does not match its checksum in {MANIFEST_SUM}: the archive is corrupt")
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise ArchiveRefused(f"{where}: {MANIFEST} is not JSON ({exc})") from None
    if document.get("format") != FORMAT or document.get("format_version") != FORMAT_VERSION:
        raise ArchiveRefused(
            f"{where} is format {document.get('format')!r} version {document.get('format_version')!r}; this "
            f"lumina-core {__version__} reads {FORMAT!r} version {FORMAT_VERSION}"
        )
    return FreezeManifest.from_json(raw)


def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    stream = tar.extractfile(member)
    return b"" if stream is None else stream.read()


def _check_member(
    member: tarfile.TarInfo, expected: Mapping[str, FrozenFile], where: str, into: Path | None, tar: tarfile.TarFile
) -> None:
    path = PurePosixPath(member.name)
    recorded = expected.get(member.name)
    if recorded is None or not member.isfile() or path.is_absolute() or ".." in path.parts or path.parts[0] != DATA:
        raise ArchiveRefused(f"{where} holds '{member.name}', which its manifest does not list: the archive was altered")
    stream = tar.extractfile(member)
    assert stream is not None
    digest, size = hashlib.sha256(), 0
    out = _open_target(into, path) if into is not None else None
    try:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
    finally:
        if out is not None:
            out.close()
    if size != recorded.size or digest.hexdigest() != recorded.sha256:
        raise ArchiveRefused(f"{where}: '{member.name}' does not match its checksum in the manifest: the archive is corrupt")


def _open_target(into: Path, path: PurePosixPath) -> IO[bytes]:
    target = into.joinpath(*path.parts[1:])
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.open("wb")


def refused_versions(manifest: FreezeManifest, installed: Mapping[str, str]) -> list[str]:
    """Why this installation cannot take the archive's data (empty when it can): data written by
    a newer lumina-core or plugin may not be readable by an older one."""
    from packaging.version import Version

    problems = []
    if Version(manifest.lumina_core) > Version(__version__):
        problems.append(f"it was made by lumina-core {manifest.lumina_core}, newer than the installed {__version__}")
    if manifest.api_version.split(".")[0] != API_VERSION.split(".")[0]:
        problems.append(f"it was made for plugin API {manifest.api_version}, this host speaks {API_VERSION}")
    for name, plugin in sorted(manifest.plugins.items()):
        have = installed.get(name)
        if have is not None and Version(plugin["version"]) > Version(have):
            problems.append(f"plugin '{name}' was {plugin['version']} when frozen, the installed one is {have}")
    return problems
