"""The ``lumina`` command line, run as a person would run it: real processes, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from lumina_core.testing import free_port, wait_for_http

LUMINA = str(Path(sys.executable).with_name("lumina"))


@pytest.fixture
def env(tmp_path: Path, fixture_plugins: Path) -> dict[str, str]:
    """An environment with the test plugins, a private data folder and no server to talk to."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")}
    return {
        **clean,
        "LUMINA_DATA_DIR": str(tmp_path / "data"),
        "LUMINA_PLUGINS_DIR": str(fixture_plugins),
        "LUMINA_URL": f"http://127.0.0.1:{free_port()}",
    }


def lumina(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LUMINA, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_version_names_the_release_and_the_plugin_api(env) -> None:
    result = lumina("--version", env=env)
    assert result.returncode == 0
    assert result.stdout.strip() == "lumina 0.1.0 (plugin API 1.0)"


@pytest.mark.parametrize("command", [[], ["serve"], ["plugin"], ["plugin", "list"], ["plugin", "check"], ["config", "show"]])
def test_every_command_has_help_with_an_example_or_summary(env, command) -> None:
    result = lumina(*command, "--help", env=env)
    assert result.returncode == 0
    assert "Usage: lumina" in result.stdout


def test_check_prints_one_line_per_problem_and_exits_1(env, fixture_plugins) -> None:
    result = lumina("plugin", "check", str(fixture_plugins / "fx_invalid_manifest"), env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 5
    assert all("fx_invalid_manifest/manifest.yml: " in line for line in lines)
    assert any(line.endswith("endpoints[0].method: 'FETCH' is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS") for line in lines)
    assert "Traceback" not in result.stderr


def test_check_accepts_a_good_plugin_folder(env, fixture_plugins) -> None:
    result = lumina("plugin", "check", str(fixture_plugins / "fx_hello"), env=env)
    assert result.returncode == 0
    assert result.stdout.strip() == "ok: hello 0.1.0 (3 endpoints, 1 permission)"


def test_check_wants_the_entry_point_of_a_packaged_plugin(env, tmp_path, fixture_plugins) -> None:
    package = tmp_path / "lumina-hello"
    (package / "src").mkdir(parents=True)
    (package / "src" / "lumina_hello").symlink_to(fixture_plugins / "fx_hello")
    (package / "pyproject.toml").write_text('[project]\nname = "lumina-hello"\n')
    result = lumina("plugin", "check", str(package), env=env)
    assert result.returncode == 1
    assert "has no entry 'hello'" in result.stderr


def test_list_shows_states_without_importing_plugins(env) -> None:
    result = lumina("plugin", "list", "--json", env=env)
    assert result.returncode == 0
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["hello"]["state"] == "discovered"
    assert plugins["future-api"]["state"] == "incompatible"
    assert plugins["import-error"]["state"] == "discovered"  # its import error shows only when it loads


def test_show_prints_the_manifest_and_rejects_unknown_names(env) -> None:
    shown = lumina("plugin", "show", "hello", env=env)
    assert json.loads(shown.stdout)["manifest"]["endpoints"][0]["path"] == "/hello/greet"
    unknown = lumina("plugin", "show", "nope", env=env)
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("Error: no plugin named 'nope'")


def test_disable_without_a_server_applies_at_the_next_start(env) -> None:
    result = lumina("plugin", "disable", "hello", env=env)
    assert result.returncode == 0
    assert "applies at the next start" in result.stdout
    listed = {p["name"]: p["state"] for p in json.loads(lumina("plugin", "list", "--json", env=env).stdout)}
    assert listed["hello"] == "disabled"
    assert lumina("plugin", "enable", "hello", env=env).returncode == 0


def test_a_bad_setting_is_named_with_the_expected_form(env) -> None:
    result = lumina("serve", env={**env, "LUMINA_PORT": "eighty"})
    assert result.returncode == 1
    assert "LUMINA_PORT: Input should be a valid integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_strict_exits_1_naming_the_broken_plugin(env) -> None:
    result = lumina("serve", "--strict", "--port", str(free_port()), env={**env, "LUMINA_LOAD_PLUGINS": "hello,setup-error"})
    assert result.returncode == 1
    assert "setup-error: failed: startup failed: ConnectionError" in result.stderr
    assert "Traceback (most recent call last)" not in result.stderr.split("strict mode")[-1]


def test_serve_answers_and_the_cli_switches_plugins_on_the_running_server(env) -> None:
    port = free_port()
    env = {**env, "LUMINA_LOAD_PLUGINS": "hello", "LUMINA_URL": f"http://127.0.0.1:{port}"}
    server = subprocess.Popen([LUMINA, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        response = wait_for_http(f"http://127.0.0.1:{port}/hello/greet", alive=lambda: server.poll() is None)
        assert response.json() == {"message": "hello, world"}
        switched = lumina("plugin", "disable", "hello", env=env)
        assert switched.stdout.strip() == f"disabled 'hello' on the server at http://127.0.0.1:{port}: now disabled"
        assert httpx.get(f"http://127.0.0.1:{port}/hello/greet").status_code == 404
        lumina("plugin", "enable", "hello", env=env)
        assert httpx.get(f"http://127.0.0.1:{port}/hello/greet").status_code == 200
    finally:
        server.terminate()
        _, log = server.communicate(timeout=20)
    assert "stopped 1 plugins" in log  # a graceful stop (uvicorn then re-raises SIGTERM, by design)



def test_the_cli_signs_in_with_lumina_token_when_the_server_wants_it(env) -> None:
    port = free_port()
    env = {**env, "LUMINA_LOAD_PLUGINS": "hello", "LUMINA_URL": f"http://127.0.0.1:{port}", "LUMINA_REQUIRE_AUTH": "1"}
    server = subprocess.Popen([LUMINA, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", alive=lambda: server.poll() is None)
        refused = lumina("plugin", "disable", "hello", env=env)
        assert refused.returncode == 1
        assert refused.stderr.startswith("Error: ") and "Traceback" not in refused.stderr

        credentials = {"username": "ada", "password": "correct horse battery staple"}
        httpx.post(f"http://127.0.0.1:{port}/auth/register", json=credentials).raise_for_status()
        token = httpx.post(f"http://127.0.0.1:{port}/auth/login", json=credentials).json()["access_token"]
        signed_in = lumina("plugin", "disable", "hello", env={**env, "LUMINA_TOKEN": token})
        assert signed_in.returncode == 0, signed_in.stderr
        assert signed_in.stdout.strip().endswith("now disabled")
    finally:
        server.terminate()
        server.communicate(timeout=20)
