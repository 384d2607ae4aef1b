"""``lumina vectors``: see what the vector store holds, and move it between backends."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from lumina_core.errors import LuminaError

T = TypeVar("T")


@click.group("vectors")
def vectors() -> None:
    """Inspect the vector store and migrate it between Qdrant Edge and a Qdrant server."""


@vectors.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(as_json: bool) -> None:
    """Show the configured backend and each collection with its point count.

    \b
    Example:  lumina vectors info --json
    """
    from lumina_cli.main import settings_or_exit
    from lumina_core.services.vectors import open_vector_store

    async def survey() -> dict[str, Any]:
        store = open_vector_store(settings_or_exit())
        try:
            found = [{**s.to_dict(), "points": await store.count(s.name)} for s in await store.collections()]
            return {**store.describe(), "collections": found}
        finally:
            await store.close()

    report: dict[str, Any] = _run(survey())
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"backend: {report['backend']}")
    for collection in report["collections"]:
        click.echo(f"  {collection['name']}: {collection['points']} points")


@vectors.command("migrate")
@click.option("--to", "direction", type=click.Choice(["server", "edge"]), required=True,
              help="server: copy the embedded store to the Qdrant server; edge: the reverse.")
@click.option("--url", help="Qdrant server URL (default: QDRANT_URL).")
@click.option("--replace", is_flag=True, help="Overwrite collections that already hold points in the target.")
def migrate(direction: str, url: str | None, replace: bool) -> None:
    """Copy every collection, point and payload between the embedded store and a Qdrant server.

    Stop `lumina serve` first, so no write is missed; then set (or unset) QDRANT_URL.

    \b
    Example:  lumina vectors migrate --to server --url http://qdrant:6333
    """
    from lumina_cli.main import settings_or_exit
    from lumina_core.services.vectors import edge_store, server_store
    from lumina_core.services.vectors.migrate import migrate as copy_all

    settings = settings_or_exit()
    url = url or settings.qdrant_url
    if not url:
        raise click.ClickException("no Qdrant server given: pass --url or set QDRANT_URL")
    embedded, server = edge_store(settings), server_store(url, settings.qdrant_api_key)
    source, target = (embedded, server) if direction == "server" else (server, embedded)
    show = sys.stderr.isatty()

    async def run() -> int:
        try:
            report = await copy_all(source, target, replace=replace,
                                    progress=lambda name, n: show and click.echo(f"\r{name}: {n}", err=True, nl=False))
            return report.total
        finally:
            await source.close()
            await target.close()

    total = _run(run())
    click.echo(f"copied {total} points from {source.describe()} to {target.describe()}")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except LuminaError as exc:
        raise click.ClickException(exc.message) from None
