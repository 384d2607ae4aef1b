"""The testing kit (``lumina_core.testing``) as plugin authors use it: hosts, clients, plugin objects."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from lumina_core.hookspecs import hookimpl
from lumina_core.testing import free_port, plugin_object, wait_for_http


class Echo:
    @hookimpl
    def register_routes(self, ctx):
        router = ctx.router()

        @router.get("/said")
        async def said(text: str) -> dict[str, str]:
            return {"said": text, "data_dir": str(ctx.data_dir)}

        return router


ECHO_MANIFEST = {
    "name": "echo",
    "version": "0.1.0",
    "description": "Repeats what it is told.",
    "api_version": ">=1.0",
    "endpoints": [{"path": "/echo/said", "method": "GET"}],
}


async def test_a_plugin_object_is_started_for_the_test_and_answers_over_http(lumina_host, lumina_data_dir: Path) -> None:
    async with lumina_host(plugins=[], objects=[plugin_object(Echo(), ECHO_MANIFEST)]) as host:
        assert host.state("echo") == "started"
        answer = (await host.client.get("/echo/said", params={"text": "hi"})).json()
    assert answer["said"] == "hi"
    assert Path(answer["data_dir"]).is_relative_to(lumina_data_dir), "the plugin writes in the test's data folder"


async def test_a_plugin_object_lives_for_its_host_only(lumina_host) -> None:
    async with lumina_host(plugins=[], objects=[plugin_object(Echo(), ECHO_MANIFEST)]):
        pass
    async with lumina_host(plugins=[]) as host:
        assert "echo" not in host.kernel.records
        assert (await host.client.get("/echo/said", params={"text": "hi"})).status_code == 404


async def test_a_plugin_object_with_a_broken_manifest_is_invalid_with_the_reason(lumina_host) -> None:
    broken = plugin_object(Echo(), {**ECHO_MANIFEST, "version": "one"})
    async with lumina_host(plugins=[], objects=[broken]) as host:
        record = host.kernel.get("echo")
    assert record.state == "invalid"
    assert "version: 'one' is not a valid version" in record.error


async def test_folder_plugins_load_from_the_plugins_dir_fixture(lumina_host, lumina_plugins_dir: Path, fixture_plugins: Path) -> None:
    assert list(lumina_plugins_dir.iterdir()) == []
    shutil.copytree(fixture_plugins / "fx_hello", lumina_plugins_dir / "fx_hello")
    async with lumina_host(plugins=["hello"], plugins_dir=lumina_plugins_dir) as host:
        assert (await host.client.get("/hello/greet")).json() == {"message": "hello, world"}


def test_waiting_for_a_server_that_exited_fails_at_once_saying_so() -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"nothing answered at .* \(the server exited\)"):
        wait_for_http(f"http://127.0.0.1:{free_port()}/health", timeout=30, alive=lambda: False)
    assert time.monotonic() - started < 1
