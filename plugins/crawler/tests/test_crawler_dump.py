"""Streaming a MediaWiki XML export: every page, in order, in flat memory."""

from __future__ import annotations

import bz2
import tracemalloc
from pathlib import Path

from lumina_crawler.dump import DumpReader

EXCERPT = Path(__file__).resolve().parents[3] / "tests" / "data" / "wiki" / "enwiki-excerpt-2016.xml.bz2"


def test_the_excerpt_streams_all_206_pages_with_redirects_marked():
    pages = list(DumpReader(EXCERPT))
    assert len(pages) == 206
    redirects = {p.title: p.redirect_to for p in pages if p.redirect_to}
    assert len(redirects) == 100 and redirects["AynRand"] == "Ayn Rand"
    apollo = next(p for p in pages if p.title == "Apollo 8")
    assert apollo.namespace == 0 and apollo.revision_id > 0 and apollo.timestamp.endswith("Z")
    assert "Frank Borman" in apollo.text


def test_plain_xml_reads_the_same_and_progress_reaches_the_file_size(tmp_path):
    plain = tmp_path / "excerpt.xml"
    plain.write_bytes(bz2.decompress(EXCERPT.read_bytes()))
    reader = DumpReader(plain)
    titles = [p.title for p in reader]
    assert titles == [p.title for p in DumpReader(EXCERPT)]
    assert reader.bytes_read == reader.size


def test_memory_stays_flat_however_many_pages_stream_by(tmp_path):
    """Peak memory while reading 8 copies of the excerpt is about that of reading one."""
    body = bz2.decompress(EXCERPT.read_bytes())
    start, end = body.index(b"<page>"), body.rindex(b"</page>") + len(b"</page>")
    big = tmp_path / "big.xml"
    big.write_bytes(body[:end] + body[start:end] * 7 + body[end:])

    def peak(path: Path) -> tuple[int, int]:
        tracemalloc.start()
        count = sum(1 for _ in DumpReader(path))
        peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return count, peak_bytes

    small_count, small_peak = peak(EXCERPT)
    big_count, big_peak = peak(big)
    assert big_count == 8 * small_count
    assert big_peak < 1.5 * small_peak
