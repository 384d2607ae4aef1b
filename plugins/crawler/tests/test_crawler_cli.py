"""``lumina knowledge ingest``: a dump streamed through a running server, or in-process."""

from __future__ import annotations

import bz2
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from lumina_core.testing import free_port, wait_for_http

LUMINA = str(Path(sys.executable).with_name("lumina"))
EXCERPT = Path(__file__).resolve().parents[3] / "tests" / "data" / "wiki" / "enwiki-excerpt-2016.xml.bz2"
PAGES = ("Adobe", "Actrius", "AbacuS", "Aa River")


@pytest.fixture(scope="module")
def small_dump(tmp_path_factory) -> Path:
    """Four real pages of the excerpt (two articles, a redirect, a disambiguation page)."""
    xml = bz2.decompress(EXCERPT.read_bytes()).decode()
    head = xml[: xml.index("<page>")]
    pages = [p for p in re.findall(r"<page>.*?</page>", xml, flags=re.DOTALL)
             if re.search(r"<title>(.*?)</title>", p).group(1) in PAGES]
    path = tmp_path_factory.mktemp("dump") / "small.xml.bz2"
    path.write_bytes(bz2.compress((head + "\n".join(pages) + "\n</mediawiki>\n").encode()))
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")}
    return {**clean, "LUMINA_DATA_DIR": str(tmp_path / "data"), "LUMINA_LOAD_PLUGINS": "knowledge,crawler",
            "LUMINA_URL": f"http://127.0.0.1:{free_port()}"}


def ingest(path: Path, env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LUMINA, "knowledge", "ingest", str(path), *options], env=env, capture_output=True, check=False,
                          text=True, timeout=240)


def test_without_a_server_the_dump_is_ingested_in_process_with_a_summary(small_dump, env):
    result = ingest(small_dump, env)
    assert result.returncode == 0, result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("ingested 4 pages in ") and "through this process" in summary
    assert "2 added" in summary and "1 redirect" in summary and "1 disambiguation" in summary
    again = ingest(small_dump, env)
    assert "2 unchanged" in again.stdout


def test_with_a_server_running_the_pages_go_through_it_and_are_searchable_at_once(small_dump, env):
    port = free_port()
    env = {**env, "LUMINA_URL": f"http://127.0.0.1:{port}"}
    server = subprocess.Popen([LUMINA, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/graph/stats", alive=lambda: server.poll() is None, timeout=60)
        result = ingest(small_dump, env)
        assert result.returncode == 0, result.stderr
        assert f"through http://127.0.0.1:{port}" in result.stdout
        hits = httpx.post(f"http://127.0.0.1:{port}/knowledge/search",
                          json={"query": "Who directed the film Actrius?", "k": 1}, timeout=30).json()["hits"]
        assert hits[0]["title"] == "Actrius" and "Ventura Pons" in hits[0]["text"]
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_a_missing_file_is_a_usage_error(env, tmp_path):
    result = ingest(tmp_path / "nope.xml.bz2", env)
    assert result.returncode == 2 and "does not exist" in result.stderr
