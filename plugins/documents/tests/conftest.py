"""A real host with the documents and knowledge plugins, real files of every format, and users."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from lumina_core.testing import Host, HostFactory, sign_up

DocumentsHost = Callable[..., AbstractAsyncContextManager[Host]]

#: A small manual, one fact per page, so a cite can be checked against the page it names.
MANUAL_PAGES = (
    "The Heron espresso machine must be descaled every forty days. Use the blue descaling tablets "
    "that come with the machine, never vinegar, because vinegar damages the copper boiler.",
    "The water tank of the Heron holds one point eight litres. Fill it with filtered water only; "
    "hard tap water blocks the steam wand within a few weeks.",
    "The Heron's warranty lasts three years from the date of purchase. Keep the receipt: the service "
    "centre in Utrecht asks for it before any repair.",
)
GARDEN_NOTE = """# Garden journal

## Spring

The quince tree was pruned on the twelfth of March. It flowers late and needs a sheltered wall.

## Summer

The tomatoes were watered at dawn; the courgettes gave forty kilos this year.
"""


def make_pdf(pages: Sequence[str], title: str = "Heron manual") -> bytes:
    """A real PDF with a text layer, one page per string (fpdf2)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def make_scan_pdf() -> bytes:
    """A PDF whose page has only a drawing: no text layer, as a scan."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60)
    return bytes(pdf.output())


def make_docx(heading: str, paragraphs: Sequence[str], table: Sequence[Sequence[str]] = ()) -> bytes:
    """A real Word document (python-docx): a title, a heading, paragraphs and a table."""
    import docx

    document = docx.Document()
    document.add_heading("Team handbook", level=0)
    document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table):
            for cell, value in zip(row.cells, values):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def documents_host(lumina_host: HostFactory) -> DocumentsHost:
    """``async with documents_host(**settings) as host``: documents + knowledge, sign-in required."""

    @asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[Host]:
        async with lumina_host(plugins=["knowledge", "documents"], **{"require_auth": True, **settings}) as host:
            assert host.state("documents") == "started", host.kernel.get("documents").error
            yield host

    return start


async def upload(host: Host, headers: dict[str, str], *files: tuple[str, bytes], brain: str = "default") -> Any:
    return await host.client.post("/files", headers=headers, data={"brain_id": brain},
                                  files=[("files", (name, data)) for name, data in files])


async def until_final(host: Host, headers: dict[str, str], file_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """The file's record once it is ready or failed."""
    deadline = time.monotonic() + timeout
    while True:
        record = (await host.client.get(f"/files/{file_id}", headers=headers)).json()
        if record["state"] in ("ready", "failed"):
            return record
        assert time.monotonic() < deadline, f"file {file_id} still {record['state']} after {timeout:g} s"
        await asyncio.sleep(0.05)


async def query(host: Host, headers: dict[str, str], question: str, brain: str = "default", n: int = 3) -> list[dict]:
    response = await host.client.post("/query", headers=headers,
                                      json={"brain_id": brain, "question": question, "n_results": n})
    assert response.status_code == 200, response.text
    return response.json()["passages"]


class Kit:
    """The helpers above, handed to tests as a fixture (test folders are not importable)."""

    make_pdf = staticmethod(make_pdf)
    make_scan_pdf = staticmethod(make_scan_pdf)
    make_docx = staticmethod(make_docx)
    sign_up = staticmethod(sign_up)
    upload = staticmethod(upload)
    until_final = staticmethod(until_final)
    query = staticmethod(query)
    manual_pages = MANUAL_PAGES
    garden_note = GARDEN_NOTE


@pytest.fixture
def kit() -> Kit:
    return Kit()
