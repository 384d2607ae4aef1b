"""``lumina memory rebuild``: re-create the memory index from the journal."""

from __future__ import annotations

import asyncio
import sys

import click

from lumina_core.errors import LuminaError


@click.group("memory")
def memory() -> None:
    """Manage the memory plugin's index and journal."""


@memory.command("rebuild")
def rebuild() -> None:
    """Drop the memory index and rebuild it from the journal (<data>/graphs/chat).

    Use it after a crash, a vector-store change (QDRANT_URL) or an embedding-model change.
    Stop `lumina serve` first: the embedded store is opened by one process at a time.

    \b
    Example:  lumina memory rebuild
    """
    try:
        replayed = asyncio.run(_rebuild())
    except LuminaError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"rebuilt the memory index from {replayed} journal entries")


async def _rebuild() -> int:
    from lumina_core.services.embeddings import build_embedder
    from lumina_core.services.vectors import open_vector_store
    from lumina_core.settings import load_settings
    from lumina_memory.database import Database
    from lumina_memory.journal import Journal
    from lumina_memory.memories import MemoryStore
    from lumina_memory.plugin import journal_folder

    settings = load_settings()
    plugin_data = settings.data_dir / "plugins" / "memory"
    plugin_data.mkdir(parents=True, exist_ok=True)
    vectors, embedder = open_vector_store(settings), build_embedder(settings)
    db = Database(plugin_data / "memory.sqlite3")
    show = sys.stderr.isatty()
    try:
        store = MemoryStore(vectors, embedder, Journal(journal_folder(plugin_data)), db)
        return await store.rebuild(progress=lambda n: show and click.echo(f"\r{n} entries", err=True, nl=False))
    finally:
        db.close()
        await vectors.close()
        await embedder.aclose()
