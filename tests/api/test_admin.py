"""The admin API switches plugins on and off at run time; routes and /openapi.json follow."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lumina_core.testing import HostFactory

pytestmark = pytest.mark.asyncio


@pytest.fixture
def host(lumina_host: HostFactory, fixture_plugins: Path):
    def start(*plugins: str, **settings):
        return lumina_host(plugins=plugins, plugins_dir=fixture_plugins, **settings)

    return start


async def openapi_paths(client) -> set[str]:
    return set((await client.get("/openapi.json")).json()["paths"])


async def test_disable_unmounts_at_once_and_enable_mounts_again(host) -> None:
    async with host("hello") as h:
        assert "/hello/greet" in await openapi_paths(h.client)

        disabled = await h.client.post("/plugins/hello/disable")
        assert disabled.json()["state"] == "disabled"
        assert (await h.client.get("/hello/greet")).status_code == 404
        assert "/hello/greet" not in await openapi_paths(h.client)

        enabled = await h.client.post("/plugins/hello/enable")
        assert enabled.json()["state"] == "started"
        assert (await h.client.get("/hello/greet")).status_code == 200
        assert "/hello/greet" in await openapi_paths(h.client)


async def test_disabling_a_dependency_stops_its_dependents_and_enabling_restarts_them(host) -> None:
    async with host("hello", "dependent") as h:
        await h.client.post("/plugins/hello/disable")
        detail = (await h.client.get("/plugins/dependent")).json()
        assert detail["state"] == "incompatible"
        assert detail["error"] == "depends on 'hello', which is disabled"
        assert (await h.client.get("/dependent/ping")).status_code == 404

        await h.client.post("/plugins/hello/enable")
        assert h.state("dependent") == "started"
        assert (await h.client.get("/dependent/ping")).json() == {"pong": True}


async def test_disable_is_remembered_across_restarts(host) -> None:
    async with host("hello") as h:
        await h.client.post("/plugins/hello/disable")
    async with host("hello") as h:
        detail = (await h.client.get("/plugins/hello")).json()
        assert detail["state"] == "disabled" and detail["error"] == "disabled by the operator"
        await h.client.post("/plugins/hello/enable")
    async with host("hello") as h:
        assert h.state("hello") == "started"


async def test_reload_keeps_the_plugin_serving(host) -> None:
    async with host("hello") as h:
        reloaded = await h.client.post("/plugins/hello/reload")
        assert reloaded.status_code == 200 and reloaded.json()["state"] == "started"
        assert (await h.client.get("/hello/greet")).status_code == 200


async def test_other_plugins_serve_without_error_while_one_is_switched(host) -> None:
    async with host("hello", "good-context", "dependent") as h:
        statuses: list[int] = []
        switching = True

        async def keep_asking() -> None:
            while switching:
                statuses.append((await h.client.get("/plugins/good-context")).status_code)
                await asyncio.sleep(0)

        asker = asyncio.create_task(keep_asking())
        for _ in range(5):
            await h.client.post("/plugins/hello/disable")
            await h.client.post("/plugins/hello/enable")
            await h.client.post("/plugins/hello/reload")
        switching = False
        await asker
        assert statuses and set(statuses) == {200}


async def test_unknown_plugins_are_a_404_with_the_installed_names(host) -> None:
    async with host("hello") as h:
        for method, path in [("GET", "/plugins/nope"), ("POST", "/plugins/nope/enable"), ("POST", "/plugins/nope/reload")]:
            response = await h.client.request(method, path)
            assert response.status_code == 404
            assert response.json()["error"]["type"] == "not_found"
            assert "no plugin named 'nope' (installed: " in response.json()["error"]["message"]


async def test_a_core_module_cannot_be_switched_off(host) -> None:
    async with host() as h:
        response = await h.client.post("/plugins/core.admin/disable")
        assert response.status_code == 409
        assert "part of lumina-core" in response.json()["error"]["message"]


async def test_builtins_are_listed_only_on_request(host) -> None:
    async with host("hello") as h:
        names = {p["name"] for p in (await h.client.get("/plugins")).json()["items"]}
        assert "core.admin" not in names
        everything = (await h.client.get("/plugins", params={"builtins": "true", "limit": 500})).json()["items"]
        assert any(p["name"] == "core.admin" and p["builtin"] for p in everything)


async def test_the_plugin_list_is_paged(host) -> None:
    async with host("hello") as h:
        first = (await h.client.get("/plugins", params={"limit": 2})).json()
        assert len(first["items"]) == 2 and first["next_cursor"] == "2"
        second = (await h.client.get("/plugins", params={"limit": 2, "cursor": first["next_cursor"]})).json()
        assert {p["name"] for p in first["items"]}.isdisjoint(p["name"] for p in second["items"])
        bad = await h.client.get("/plugins", params={"cursor": "abc"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "cursor"
