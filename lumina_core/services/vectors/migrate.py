"""Copy every collection from one vector store to another (embedded ⇄ server), page by page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lumina_core.errors import Conflict
from lumina_core.services.vectors.model import Point
from lumina_core.services.vectors.store import VectorStore

PAGE = 256


@dataclass
class MigrationReport:
    copied: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.copied.values())


async def migrate(
    source: VectorStore,
    target: VectorStore,
    *,
    replace: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> MigrationReport:
    """Copy specs, points, vectors and payloads; ids are kept so references stay valid.

    A target collection that already holds points is refused unless ``replace``, which drops it
    first: a migration never merges two stores silently.
    """
    report = MigrationReport()
    for spec in await source.collections():
        existing = {s.name for s in await target.collections()}
        if spec.name in existing:
            if not replace and await target.count(spec.name):
                raise Conflict(
                    f"the target already has points in '{spec.name}': run with --replace to overwrite it"
                )
            await target.drop_collection(spec.name)
        await target.create_collection(spec)
        report.copied[spec.name] = await _copy_points(source, target, spec.name, progress)
    return report


async def _copy_points(
    source: VectorStore, target: VectorStore, name: str, progress: Callable[[str, int], None] | None
) -> int:
    copied, offset = 0, None
    while True:
        records, offset = await source.scroll(name, limit=PAGE, offset=offset, with_vectors=True)
        await target.upsert(name, [Point(r.id, r.vectors, r.payload) for r in records])
        copied += len(records)
        if progress is not None:
            progress(name, copied)
        if offset is None:
            return copied
