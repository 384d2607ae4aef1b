"""Hot-reload benchmark: from a plugin file's save to the new code answering.

    python -m ops.bench.reload [--saves 20] [--restarts 3]

Two servers of the same app on the same machine, each watching the same kind of plugin folder:
- ``lumina dev``: the saved plugin is reloaded in place;
- ``uvicorn --reload --factory lumina_core.api.app:create_app``: the whole process restarts,
  the baseline most Python hosts offer.
Each save writes a new greeting into the plugin; the clock stops when ``GET /hello/greet``
answers with it. Figures are the median and the worst of the saves, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from lumina_core.testing import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "tests" / "fixtures" / "plugins" / "fx_hello"
BIN = Path(sys.executable).parent
ANSWER_LINE = """return {"message": f"{ctx.config['greeting']}, {name}"}"""
POLL_S = 0.002


def plugin_folder(root: Path) -> Path:
    target = root / "plugins" / "fx_hello"
    shutil.copytree(HELLO, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def save(plugin: Path, marker: str) -> None:
    text = (HELLO / "__init__.py").read_text()
    (plugin / "__init__.py").write_text(text.replace(ANSWER_LINE, f'return {{"message": "{marker}"}}'))


def seconds_until_answer(url: str, marker: str, timeout: float = 60.0) -> float:
    """Seconds from now until ``url`` answers with ``marker``."""
    started = time.perf_counter()
    with httpx.Client(timeout=2.0) as client:
        while time.perf_counter() - started < timeout:
            try:
                response = client.get(url)
                if response.status_code == 200 and response.json().get("message") == marker:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(POLL_S)
    raise TimeoutError(f"{url} did not answer {marker!r} within {timeout:g} s")


@contextmanager
def server(command: list[str], root: Path, port: int) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")}
    env.update(LUMINA_DATA_DIR=str(root / "data"), LUMINA_PLUGINS_DIR=str(root / "plugins"), LUMINA_LOAD_PLUGINS="hello")
    process = subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}/hello/greet"
    try:
        wait_for_http(url, timeout=60, alive=lambda: process.poll() is None)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def measure(kind: str, saves: int) -> list[float]:
    with tempfile.TemporaryDirectory(prefix=f"lumina-bench-{kind}-") as folder:
        root = Path(folder)
        plugin = plugin_folder(root)
        port = free_port()
        if kind == "lumina dev":
            command = [str(BIN / "lumina"), "dev", "--port", str(port)]
        else:
            command = [str(BIN / "uvicorn"), "--factory", "lumina_core.api.app:create_app", "--port", str(port),
                       "--reload", "--reload-dir", str(root / "plugins")]
        timings = []
        with server(command, root, port) as url:
            for index in range(saves):
                marker = f"save {index}"
                time.sleep(0.2)  # let the watcher settle, as between two human saves
                save(plugin, marker)
                timings.append(seconds_until_answer(url, marker))
        return timings


def report(results: dict[str, list[float]]) -> None:
    print(f"{'server':<24} {'saves':>5} {'median ms':>10} {'worst ms':>9}")
    for kind, timings in results.items():
        print(f"{kind:<24} {len(timings):>5} {statistics.median(timings) * 1000:>10.0f} {max(timings) * 1000:>9.0f}")
    in_place, restart = (statistics.median(t) for t in results.values())
    print(f"in-place reload is {restart / in_place:.0f}x faster than a full-process restart (median)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=20, help="saves timed with lumina dev")
    parser.add_argument("--restarts", type=int, default=3, help="saves timed with uvicorn --reload")
    arguments = parser.parse_args()
    report({
        "lumina dev (in place)": measure("lumina dev", arguments.saves),
        "uvicorn --reload": measure("uvicorn", arguments.restarts),
    })


if __name__ == "__main__":
    main()
