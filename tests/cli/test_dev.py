"""``lumina dev`` as a person runs it: a real process, real files saved, real requests.

A saved plugin file is served by the same process (the answer carries the server's pid); a file
under a ``--restart-on`` folder (as lumina-core's own are) brings up a new process.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from lumina_core.testing import free_port, wait_for_http

LUMINA = str(Path(sys.executable).with_name("lumina"))
FIXTURE_HELLO = Path(__file__).parents[1] / "fixtures" / "plugins" / "fx_hello"
ANSWER_LINE = """return {"message": f"{ctx.config['greeting']}, {name}"}"""


@dataclass
class DevServer:
    url: str
    plugin_code: Path
    restart_folder: Path

    def greet(self) -> dict:
        """The plugin's answer; empty while it is between two versions (a 503 for a few ms)."""
        response = httpx.get(f"{self.url}/hello/greet", timeout=5)
        return response.json() if response.status_code == 200 else {}

    def save(self, answer: str) -> None:
        """Save the plugin with ``answer`` as its greeting, the way an editor does (whole file)."""
        text = (FIXTURE_HELLO / "__init__.py").read_text()
        text = "import os\n" + text.replace(ANSWER_LINE, f'return {{"message": {answer}, "pid": str(os.getpid())}}')
        self.plugin_code.write_text(text)


def eventually(check: Callable[[], bool], *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"not true within {within:g} s"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("dev")
    shutil.copytree(FIXTURE_HELLO, root / "plugins" / "fx_hello")
    (root / "shared-lib").mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")}
    env.update(LUMINA_DATA_DIR=str(root / "data"), LUMINA_PLUGINS_DIR=str(root / "plugins"), LUMINA_LOAD_PLUGINS="hello")
    server = DevServer(f"http://127.0.0.1:{port}", root / "plugins" / "fx_hello" / "__init__.py", root / "shared-lib")
    server.save('"first"')
    process = subprocess.Popen(
        [LUMINA, "dev", "--port", str(port), "--restart-on", str(server.restart_folder)],
        env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=(root / "dev.log").open("w"), start_new_session=True,
    )
    try:
        wait_for_http(f"{server.url}/hello/greet", alive=lambda: process.poll() is None)
        yield server
    finally:
        process.terminate()  # the supervisor stops its server child on SIGTERM
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_saved_plugin_file_is_served_at_once_by_the_same_process(dev: DevServer) -> None:
    before = dev.greet()
    dev.save('"saved " + name')
    eventually(lambda: dev.greet().get("message") == "saved world", within=5)
    assert dev.greet()["pid"] == before["pid"], "reloaded in place, not by a restart"


def test_a_broken_save_keeps_the_previous_version_serving_until_it_is_fixed(dev: DevServer) -> None:
    dev.save('"working"')
    eventually(lambda: dev.greet().get("message") == "working")
    dev.save('"broken" +')  # a syntax error
    eventually(lambda: "reload failed" in (httpx.get(f"{dev.url}/plugins/hello").json()["error"] or ""))
    detail = httpx.get(f"{dev.url}/plugins/hello").json()
    assert detail["state"] == "started" and "SyntaxError" in detail["error"]
    assert dev.greet().get("message") == "working"
    dev.save('"fixed"')
    eventually(lambda: dev.greet().get("message") == "fixed")
    assert httpx.get(f"{dev.url}/plugins/hello").json()["error"] is None


def test_a_change_in_a_restart_folder_restarts_the_whole_server(dev: DevServer) -> None:
    before = dev.greet()["pid"]
    (dev.restart_folder / "helpers.py").write_text("VALUE = 1\n")

    def restarted() -> bool:
        try:
            return dev.greet().get("pid", before) != before
        except httpx.TransportError:  # between the old process and the new one
            return False

    eventually(restarted, within=20)


def test_lumina_plugin_reload_reloads_on_the_running_server_and_names_errors(dev: DevServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")} | {"LUMINA_URL": dev.url}

    def lumina(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([LUMINA, *args], env=env, capture_output=True, text=True, timeout=60, check=False)

    reloaded = lumina("plugin", "reload", "hello")
    assert reloaded.returncode == 0, reloaded.stderr
    assert reloaded.stdout.strip() == f"reloaded 'hello' on the server at {dev.url}: now started"
    dev.save('"broken" +')
    rolled_back = lumina("plugin", "reload", "hello")
    dev.save('"mended"')
    assert rolled_back.returncode == 1
    assert "'hello' is started: reload failed, the previous version keeps serving" in rolled_back.stderr
    unknown = lumina("plugin", "reload", "nope")
    assert unknown.returncode == 1 and "no plugin named 'nope'" in unknown.stderr
    nobody = subprocess.run([LUMINA, "plugin", "reload", "hello"], capture_output=True, text=True, timeout=60, check=False,
                            env=env | {"LUMINA_URL": f"http://127.0.0.1:{free_port()}"})
    assert nobody.returncode == 1 and "no server answers at" in nobody.stderr
