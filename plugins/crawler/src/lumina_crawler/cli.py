"""``lumina knowledge ingest PATH``: stream a MediaWiki XML export into the knowledge base.

The pages go through a server's ``POST /crawler/pages`` in batches: the running server at
``LUMINA_URL`` when one answers with the crawler started (so its searches see the pages at once
and only one process writes the stores), else a host started inside this command for the
duration of the ingest. Either way the same code cleans, links and indexes every page.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import click
import httpx

from lumina_crawler.dump import DumpPage, DumpReader

BATCH = 50
INGEST_TIMEOUT = httpx.Timeout(600.0, connect=5.0)


@click.group("knowledge")
def knowledge_group() -> None:
    """Fill and inspect the knowledge base (articles, passages, graph)."""


@click.command("ingest")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--limit", type=int, default=None, help="Stop after this many pages.")
@click.option("--batch", type=click.IntRange(1, 500), default=BATCH, show_default=True, help="Pages per request.")
@click.option("--local", is_flag=True, help="Do not look for a running server; ingest in this process.")
def ingest_command(path: Path, limit: int | None, batch: int, local: bool) -> None:
    """Stream a MediaWiki XML export (.xml or .xml.bz2) into the knowledge base.

    \b
    Example:  lumina knowledge ingest enwiki-latest-pages-articles1.xml.bz2
    """
    import asyncio

    counts, elapsed, where = asyncio.run(_ingest(path, limit, batch, local))
    pages = sum(counts.values())
    detail = ", ".join(f"{n} {status}" for status, n in counts.most_common())
    click.echo(f"ingested {pages} pages in {elapsed:.1f} s ({pages / max(elapsed, 1e-9):.1f} pages/s) "
               f"through {where}: {detail or 'nothing'}")


async def _ingest(path: Path, limit: int | None, batch: int, local: bool) -> tuple[Counter[str], float, str]:
    reader = DumpReader(path)
    counts: Counter[str] = Counter()
    started = time.monotonic()
    async with _server(local) as (client, where):
        with click.progressbar(length=reader.size, label="ingesting", file=sys.stderr, show_eta=True,
                               show_percent=True, item_show_func=lambda shown: shown) as bar:
            done_bytes = 0
            for pages in batches(reader, batch, limit):
                response = await client.post("/crawler/pages", json={"pages": [page_payload(p) for p in pages]})
                if response.status_code != 200:
                    raise click.ClickException(f"{where} refused a batch: HTTP {response.status_code}: {response.text[:300]}")
                counts.update(response.json()["counts"])
                pages_done = sum(counts.values())
                rate = pages_done / max(time.monotonic() - started, 1e-9)
                bar.update(reader.bytes_read - done_bytes, current_item=f"{pages_done} pages, {rate:.1f} pages/s")
                done_bytes = reader.bytes_read
    return counts, time.monotonic() - started, where


def batches(reader: DumpReader, size: int, limit: int | None) -> Iterator[list[DumpPage]]:
    batch: list[DumpPage] = []
    for index, page in enumerate(reader):
        if limit is not None and index >= limit:
            break
        batch.append(page)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def page_payload(page: DumpPage) -> dict[str, object]:
    return {
        "title": page.title,
        "wikitext": page.text,
        "revision_id": page.revision_id,
        "timestamp": page.timestamp,
        "namespace": page.namespace,
        "redirect_to": page.redirect_to,
    }


@asynccontextmanager
async def _server(local: bool) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client to the running server when it has the crawler started, else to an in-process host."""
    from lumina_cli.main import settings_or_exit

    settings = settings_or_exit()
    if not local and await _crawler_running(settings.url):
        async with httpx.AsyncClient(base_url=settings.url, timeout=INGEST_TIMEOUT) as client:
            yield client, settings.url
        return
    from lumina_core.api.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        state = app.state.kernel.records.get("crawler")
        if state is None or str(state.state) != "started":
            problem = state.error if state is not None else "it is not installed"
            raise click.ClickException(f"the crawler plugin cannot start here: {problem}")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://lumina.local", timeout=INGEST_TIMEOUT) as client:
            yield client, f"this process (data in {settings.data_dir})"


async def _crawler_running(url: str) -> bool:
    """True when a server answers at ``url`` with the crawler's own routes mounted."""
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2.0) as client:
            response = await client.get("/graph/stats")
    except httpx.HTTPError:
        return False
    return response.status_code == 200
