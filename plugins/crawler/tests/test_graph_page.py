"""The live graph page in a real browser: headless Chromium loads ``/graph/page`` from a real
server, a page is ingested, and its node appears without a reload; search narrows the graph."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from lumina_core.testing import LuminaProcess, free_port, wait_for_http

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
ARTICLE = {
    "title": "Aardvark",
    "wikitext": "'''Aardvark''' is a burrowing mammal of Africa. It eats [[Ant]]s and [[termite]]s at night.",
    "revision_id": 1,
}
OTHER = {"title": "Mandelbrot set", "wikitext": "The '''Mandelbrot set''' is a [[fractal]].", "revision_id": 1}


class Browser:
    """One Chromium tab driven over the DevTools protocol."""

    def __init__(self, profile: Path) -> None:
        executable = shutil.which("chromium") or shutil.which("chromium-browser")
        if executable is None:
            pytest.fail("these tests need Debian's chromium: apt-get install -y chromium")
        port = free_port()
        self.process = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--remote-debugging-port={port}", f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_http(f"http://127.0.0.1:{port}/json/version", timeout=30, alive=lambda: self.process.poll() is None)
        [tab] = [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list").json() if t["type"] == "page"]
        self._open = ExitStack()
        self.socket = self._open.enter_context(connect(tab["webSocketDebuggerUrl"], max_size=None, open_timeout=10))
        self._ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == call_id:
                assert "error" not in message, message
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"not true within {timeout:g} s: {expression}")

    def close(self) -> None:
        self._open.close()
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LuminaProcess]:
    process = LuminaProcess.serve(tmp_path / "data", tmp_path / "serve.log", load_plugins="knowledge,crawler")
    yield process
    process.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    tab = Browser(tmp_path / "chromium-profile")
    yield tab
    tab.close()


def node_titles(browser: Browser) -> list[str]:
    return browser.evaluate("[...document.querySelectorAll('.node')].map(n => n.dataset.title).sort()")


def test_a_node_appears_live_when_a_page_is_ingested(server: LuminaProcess, browser: Browser) -> None:
    httpx.post(f"{server.url}/crawler/pages", json={"pages": [OTHER]}, timeout=60).raise_for_status()
    browser.send("Page.enable")
    browser.send("Page.navigate", url=f"{server.url}/graph/page")
    browser.wait_for("document.getElementById('live')?.dataset.state === 'open'")
    assert node_titles(browser) == ["Fractal", "Mandelbrot set"]

    httpx.post(f"{server.url}/crawler/pages", json={"pages": [ARTICLE]}, timeout=60).raise_for_status()
    browser.wait_for("document.querySelector('.node[data-title=\"Aardvark\"]') !== null")
    browser.wait_for("document.querySelector('.node[data-title=\"Ant\"]') !== null")  # its links follow
    browser.wait_for("document.getElementById('counts').textContent === '5 shown of 5 nodes · 3 links'")
    assert node_titles(browser) == ["Aardvark", "Ant", "Fractal", "Mandelbrot set", "Termite"]


def test_search_narrows_the_graph_to_matching_titles(server: LuminaProcess, browser: Browser) -> None:
    httpx.post(f"{server.url}/crawler/pages", json={"pages": [OTHER, ARTICLE]}, timeout=60).raise_for_status()
    browser.send("Page.navigate", url=f"{server.url}/graph/page")
    browser.wait_for("document.querySelectorAll('.node').length === 5")
    browser.evaluate("""(() => { const box = document.getElementById('search');
        box.value = 'AARD'; box.dispatchEvent(new Event('input')); })()""")
    browser.wait_for("document.querySelectorAll('.node').length === 1")
    assert node_titles(browser) == ["Aardvark"]
    assert browser.evaluate("document.querySelector('.node').classList.contains('match')")


def test_the_overview_matches_titles_literally_and_bounds_its_size(server: LuminaProcess) -> None:
    httpx.post(f"{server.url}/crawler/pages", json={"pages": [OTHER, ARTICLE]}, timeout=60).raise_for_status()
    literal = httpx.get(f"{server.url}/graph/overview", params={"q": "%"}).json()
    assert literal["nodes"] == [] and literal["total"] == 5
    everything = httpx.get(f"{server.url}/graph/overview").json()
    assert [n["title"] for n in everything["nodes"]][:2] == ["Aardvark", "Mandelbrot set"]  # fetched, newest first
    assert {(link["relation"]) for link in everything["links"]} == {"links_to"}
    too_many = httpx.get(f"{server.url}/graph/overview", params={"limit": 5000})
    assert too_many.status_code == 422 and too_many.json()["error"]["field"] == "query.limit"
