"""``lumina plugin init``: from a name to an installed plugin that is listed, checks, serves and tests.

The generated package is installed into a throw-away venv in a temporary folder (the project's
own venv is never touched). That venv sees the project's packages read-only through a ``.pth``
file, exactly as a developer's venv sees an installed lumina-core.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from lumina_core.plugins.manifest import load_manifest
from lumina_core.testing import free_port, wait_for_http

LUMINA = str(Path(sys.executable).with_name("lumina"))
NAME = "date-note"


@dataclass(frozen=True)
class Sandbox:
    root: Path
    python: Path
    env: dict[str, str]

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), *args], env=self.env, cwd=cwd or self.root, capture_output=True, text=True, timeout=timeout, check=False
        )

    def lumina(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "lumina_cli", *args)


def clean_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")}
    return {**env, "LUMINA_DATA_DIR": str(data_dir), "LUMINA_URL": f"http://127.0.0.1:{free_port()}"}


def make_venv(folder: Path) -> Path:
    """A fresh venv whose site-packages chains to the project venv's (for lumina-core and pip)."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    own_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    project_site = sysconfig.get_paths()["purelib"]
    (Path(own_site) / "lumina-project.pth").write_text(f"import site; site.addsitedir({project_site!r})\n")
    return python


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    root = tmp_path_factory.mktemp("plugin-init")
    python = make_venv(root / "venv")
    return Sandbox(root=root, python=python, env=clean_env(root / "data"))


@pytest.fixture(scope="module")
def installed(sandbox: Sandbox) -> Path:
    """``lumina plugin init`` then ``pip install -e``, as the README of the new plugin says."""
    created = sandbox.lumina("plugin", "init", NAME, "--dir", "plugins")
    assert created.returncode == 0, created.stderr
    folder = sandbox.root / "plugins" / NAME
    installing = sandbox.run("-m", "pip", "install", "--quiet", "--no-deps", "-e", str(folder))
    assert installing.returncode == 0, installing.stderr
    return folder


def test_init_writes_a_package_shaped_like_the_built_in_plugins(installed: Path) -> None:
    files = sorted(str(p.relative_to(installed)) for p in installed.rglob("*") if p.is_file() and "egg-info" not in str(p))
    assert files == [
        "README.md",
        "pyproject.toml",
        "src/lumina_date_note/__init__.py",
        "src/lumina_date_note/manifest.yml",
        "src/lumina_date_note/plugin.py",
        "tests/test_plugin.py",
    ]
    manifest = load_manifest(installed / "src" / "lumina_date_note" / "manifest.yml")
    assert [(e.method, e.path) for e in manifest.endpoints] == [("GET", "/date-note/status")]
    assert manifest.permissions == {"chat:context"}
    assert [(p.endpoint, p.kind) for p in manifest.panels] == [("/date-note/status", "stat")]
    assert 'date-note = "lumina_date_note.plugin"' in (installed / "pyproject.toml").read_text()


def test_the_installed_plugin_is_listed(sandbox: Sandbox, installed: Path) -> None:
    listing = sandbox.lumina("plugin", "list")
    assert listing.returncode == 0, listing.stderr
    row = next(line for line in listing.stdout.splitlines() if line.startswith(NAME + " "))
    assert row.split()[1:3] == ["0.1.0", "discovered"]


def test_the_project_venv_is_not_touched(installed: Path) -> None:
    listing = subprocess.run([LUMINA, "plugin", "list", "--json"], capture_output=True, text=True, timeout=60, check=False,
                             env=clean_env(installed.parent / "data-project"))
    assert NAME not in {plugin["name"] for plugin in json.loads(listing.stdout)}


def test_check_passes(sandbox: Sandbox, installed: Path) -> None:
    check = sandbox.lumina("plugin", "check", str(installed))
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "ok: date-note 0.1.0 (1 endpoint, 1 permission)"


def test_its_route_answers_on_a_served_host(sandbox: Sandbox, installed: Path) -> None:
    port = free_port()
    env = {**sandbox.env, "LUMINA_LOAD_PLUGINS": NAME, "LUMINA_PORT": str(port)}
    server = subprocess.Popen([str(sandbox.python), "-m", "lumina_cli", "serve"], env=env, cwd=sandbox.root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        answer = wait_for_http(f"http://127.0.0.1:{port}/date-note/status", alive=lambda: server.poll() is None)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"prompts": 0}
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_lumina_dev_serves_its_saved_code_at_once(sandbox: Sandbox, installed: Path) -> None:
    port = free_port()
    env = {**sandbox.env, "LUMINA_LOAD_PLUGINS": NAME, "LUMINA_PORT": str(port)}
    server = subprocess.Popen([str(sandbox.python), "-m", "lumina_cli", "dev"], env=env, cwd=sandbox.root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    status = f"http://127.0.0.1:{port}/date-note/status"
    code = installed / "src" / "lumina_date_note" / "plugin.py"
    original = code.read_text()
    try:
        assert wait_for_http(status, alive=lambda: server.poll() is None).json() == {"prompts": 0}
        code.write_text(original.replace('return {"prompts": _prompts["count"]}', 'return {"prompts": -1}'))
        deadline = time.monotonic() + 10
        while httpx.get(status, timeout=5).json() != {"prompts": -1}:
            assert time.monotonic() < deadline, "the saved code was not served within 10 s"
            time.sleep(0.05)
    finally:
        code.write_text(original)
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_its_own_tests_pass(sandbox: Sandbox, installed: Path) -> None:
    result = sandbox.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=installed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


@pytest.mark.parametrize("name", ["Weather", "my plugin", "x", "ends-with-", "9lives", "wéather"])
def test_a_bad_name_says_which_characters_are_allowed(tmp_path: Path, name: str) -> None:
    result = subprocess.run([LUMINA, "plugin", "init", name, "--dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=60, check=False, env=clean_env(tmp_path / "data"))
    assert result.returncode == 1
    assert "use lower-case letters a-z, digits 0-9, '-' and '_'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / name).exists()


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    existing = tmp_path / "weather"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine")
    result = subprocess.run([LUMINA, "plugin", "init", "weather", "--dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=60, check=False, env=clean_env(tmp_path / "data"))
    assert result.returncode == 1
    assert f"{existing} already exists" in result.stderr and "nothing was written" in result.stderr
    assert [p.name for p in existing.iterdir()] == ["notes.txt"]
