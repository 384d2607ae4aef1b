"""Documents: a 100-page PDF's ingestion speed, upload → searchable, and retrieval over the
project's own questions, each beside its baseline.

* **ingest**: a 100-page PDF (fpdf2, about 200 words a page) uploaded through ``POST /files``,
  timed until it is ``ready`` (parsed, cut, searchable by its words) and until its dense vectors
  are all in: pages/s and passages/s, beside reading the same PDF's text layer alone (pypdf).
* **upload → searchable**: a one-page file uploaded, seconds until ``POST /query`` finds it,
  beside a note stored through ``POST /ingest`` (indexed before the answer, no queue).
* **hit@3**: the articles the project's own question sets are about (``tests/data/wiki/
  questions.jsonl`` and ``questions_natural.jsonl``), taken from the enwiki excerpt the tests
  use (cleaned by the crawler's wikitext reader) and written as Markdown files with their
  sections as headings, uploaded into one brain; each question goes through ``POST /query``
  (hybrid, the product) and through the same scope in BM25 alone. A hit is a passage of the
  right document that contains the answer.

    .venv/bin/python -m ops.bench.documents
    .venv/bin/python -m ops.bench.documents --pages 30      # a shorter PDF
    .venv/bin/python -m ops.bench.documents --articles 8    # hit@3 on the questions of 8 articles
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lumina_core.testing import Host, host_settings, running_host
from ops.bench.knowledge import EXCERPT, NATURAL, Question, load_questions

BRAIN = "bench"
#: The articles of the question sets go into a brain of their own, apart from the bench's PDF.
ARTICLES = "articles"
WORDS_PER_PAGE = 200
TIMEOUT_S = 600.0


def pdf_of(pages: int) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    for number in range(1, pages + 1):
        pdf.add_page()
        sentence = f"Page {number} of the survey notes that station {number} measured {number * 7} millimetres of rain. "
        filler = "The observers walked the same route each morning and wrote down what the instruments showed. "
        pdf.multi_cell(0, 5, sentence + filler * (WORDS_PER_PAGE // len(filler.split())))
    return bytes(pdf.output())


def text_layer_seconds(data: bytes) -> float:
    from pypdf import PdfReader

    started = time.perf_counter()
    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text()
    return time.perf_counter() - started


async def until_ready(host: Host, file_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT_S
    while (record := (await host.client.get(f"/files/{file_id}")).json())["state"] not in ("ready", "failed"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"file {file_id} not ready after {TIMEOUT_S:g} s")
        await asyncio.sleep(0.02)
    if record["state"] == "failed":
        raise RuntimeError(f"file {record['name']} failed: {record['reason']}")
    return record


async def upload(host: Host, *files: tuple[str, bytes], brain: str = BRAIN) -> list[dict[str, Any]]:
    response = await host.client.post("/files", data={"brain_id": brain},
                                      files=[("files", (name, data)) for name, data in files])
    response.raise_for_status()
    return response.json()["items"]


async def query(host: Host, question: str, n: int = 3, brain: str = BRAIN) -> list[dict[str, Any]]:
    response = await host.client.post("/query", json={"brain_id": brain, "question": question, "n_results": n})
    response.raise_for_status()
    return response.json()["passages"]


async def embedded(host: Host, brain: str = BRAIN) -> None:
    """Return once every passage of the brain has its dense vector too."""
    scope = await host.kernel.services.get("knowledge").scope(_scope_of(brain))
    deadline = time.monotonic() + TIMEOUT_S
    while (await scope.stats())["pending_dense"]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"dense vectors still pending after {TIMEOUT_S:g} s")
        await asyncio.sleep(0.05)


async def ingest_pdf(host: Host, pages: int) -> dict[str, float]:
    """Seconds until the PDF is ready (searchable by its words), then until its dense vectors are in."""
    data = pdf_of(pages)
    started = time.perf_counter()
    (record,) = await upload(host, ("survey.pdf", data))
    ready = await until_ready(host, record["id"])
    seconds = time.perf_counter() - started
    await embedded(host)
    return {"pages": ready["pages"], "passages": ready["passages"], "seconds": seconds,
            "embedded_seconds": time.perf_counter() - started, "text_layer_seconds": text_layer_seconds(data)}


async def searchable(host: Host) -> dict[str, float]:
    """Seconds from sending a one-page file until a query finds it, and the same for a note."""
    started = time.perf_counter()
    await upload(host, ("ferry.txt", b"The night ferry to Tallinn leaves from pier eleven at 23:40."))
    while not any("pier eleven" in p["text"] for p in await query(host, "Where does the night ferry leave from?")):
        await asyncio.sleep(0.01)
    file_seconds = time.perf_counter() - started
    started = time.perf_counter()
    note = {"brain_id": BRAIN, "content": "The morning bus to Tartu leaves from stop nine at 06:15."}
    (await host.client.post("/ingest", json=note)).raise_for_status()
    assert any("stop nine" in p["text"] for p in await query(host, "Where does the morning bus leave from?"))
    return {"file_s": file_seconds, "note_s": time.perf_counter() - started}


def article_files(titles: set[str]) -> list[tuple[str, bytes]]:
    """The excerpt's articles with these titles, as Markdown files (title, then a heading per section)."""
    from lumina_crawler.dump import DumpReader
    from lumina_crawler.wikitext import parse_page

    files = []
    for page in DumpReader(EXCERPT):
        if page.title in titles and page.redirect_to is None:
            parsed = parse_page(page.title, page.text)
            lines = [f"# {page.title}", ""]
            for section in parsed.sections:
                if section.path:
                    lines += [f"{'#' * (len(section.path) + 1)} {section.path[-1]}", ""]
                lines += [section.text, ""]
            files.append((f"{page.title}.md", "\n".join(lines).encode()))
    return files


async def retrieval(host: Host, questions: Sequence[Question]) -> dict[str, float]:
    files = article_files({q.title for q in questions})
    for record in await upload(host, *files, brain=ARTICLES):
        await until_ready(host, record["id"])
    await embedded(host, ARTICLES)
    scope = await host.kernel.services.get("knowledge").scope(_scope_of(ARTICLES))
    hits = {"hybrid": 0, "bm25": 0}
    for question in questions:
        product = [{"title": p["source"]["title"], "text": p["text"]} for p in await query(host, question.question, brain=ARTICLES)]
        baseline = await scope.search(question.question, 3, mode="bm25")
        hits["hybrid"] += any(question.is_hit(h) for h in product)
        hits["bm25"] += any(question.is_hit(h) for h in baseline)
    return {"documents": len(files), "questions": len(questions),
            **{mode: count / len(questions) for mode, count in hits.items()}}


def _scope_of(brain: str) -> str:
    from lumina_core.auth import LOCAL_USER_ID
    from lumina_documents.library import scope_name

    return scope_name(LOCAL_USER_ID, brain)


def questions_about(articles: int | None) -> list[Question]:
    """The main and natural sets' questions about their first ``articles`` articles (all: None)."""
    questions = [*load_questions(), *load_questions(NATURAL)]
    titles = list(dict.fromkeys(q.title for q in questions))[:articles]
    return [q for q in questions if q.title in titles]


async def main(pages: int, articles: int | None) -> None:
    """Each figure is printed as soon as it is measured."""
    with tempfile.TemporaryDirectory(prefix="lumina-bench-documents-") as folder:
        settings = host_settings(Path(folder), plugins=["knowledge", "documents"])
        async with running_host(settings) as host:
            await host.kernel.services.get("embedder").embed(["warm the embedder up"])
            report_ingest(await ingest_pdf(host, pages))
            report_searchable(await searchable(host))
            report_retrieval(await retrieval(host, questions_about(articles)))


def report_ingest(ingested: dict[str, float]) -> None:
    seconds, embedded_s, passages = ingested["seconds"], ingested["embedded_seconds"], ingested["passages"]
    print(f"ingest: a {ingested['pages']:.0f}-page PDF → {passages:.0f} passages, ready (searchable) in "
          f"{seconds:.1f} s: {ingested['pages'] / seconds:.1f} pages/s, {passages / seconds:.1f} passages/s; "
          f"dense vectors all in after {embedded_s:.1f} s ({passages / embedded_s:.1f} passages/s); "
          f"the text layer alone (pypdf) reads {ingested['pages'] / ingested['text_layer_seconds']:.0f} pages/s, "
          f"{ingested['text_layer_seconds'] / seconds:.2f} of the time to ready", flush=True)


def report_searchable(fresh: dict[str, float]) -> None:
    print(f"upload → searchable: {fresh['file_s']:.2f} s for a file through the queue, "
          f"{fresh['note_s']:.2f} s for a note through POST /ingest ({fresh['file_s'] / fresh['note_s']:.1f}×)",
          flush=True)


def report_retrieval(found: dict[str, float]) -> None:
    print(f"hit@3 over {found['documents']:.0f} documents, {found['questions']:.0f} questions (main + natural): "
          f"hybrid {found['hybrid']:.2f}, bm25 alone {found['bm25']:.2f} "
          f"({found['hybrid'] / max(found['bm25'], 1e-9):.2f}× bm25)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=100, help="Pages of the PDF (default 100).")
    parser.add_argument("--articles", type=int, default=None,
                        help="Only the questions about the first N articles (default: all 53), to bound the time "
                             "embedding them takes on a slow machine.")
    options = parser.parse_args()
    asyncio.run(main(options.pages, options.articles))
