"""The route registry: plugins mount only what they declare, under prefixes no one else holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from lumina_core.testing import HostFactory

pytestmark = pytest.mark.asyncio


@pytest.fixture
def host(lumina_host: HostFactory, fixture_plugins: Path):
    def start(*plugins: str):
        return lumina_host(plugins=plugins, plugins_dir=fixture_plugins)

    return start


async def test_a_second_plugin_on_the_same_prefix_is_refused_and_the_first_keeps_it(host) -> None:
    async with host("hello", "collide") as h:
        collide = (await h.client.get("/plugins/collide")).json()
        hello = (await h.client.get("/plugins/hello")).json()
        winner, loser = (hello, collide) if hello["state"] == "started" else (collide, hello)
        assert loser["state"] == "failed"
        assert f"wants prefix /hello, which plugin '{winner['name']}' already serves" in loser["error"]
        assert (await h.client.get("/hello/greet")).status_code == 200


async def test_a_plugin_cannot_take_a_prefix_the_host_serves(host) -> None:
    async with host("reserved") as h:
        detail = (await h.client.get("/plugins/reserved")).json()
        assert detail["state"] == "failed"
        assert "wants prefix /plugins, which the host's 'core.admin' already serves" in detail["error"]
        assert (await h.client.get("/plugins")).status_code == 200


async def test_errors_use_one_envelope(host) -> None:
    async with host("hello") as h:
        missing = await h.client.get("/no/such/path")
        assert missing.status_code == 404
        assert missing.json() == {"error": {"type": "not_found", "message": "nothing is served at GET /no/such/path"}}
        wrong_method = await h.client.delete("/hello/greet")
        assert wrong_method.status_code == 405
        assert wrong_method.json()["error"]["message"] == "DELETE is not allowed on /hello/greet"


async def test_every_response_carries_a_request_id(host) -> None:
    async with host() as h:
        given = await h.client.get("/health", headers={"X-Request-ID": "abc-123"})
        assert given.headers["x-request-id"] == "abc-123"
        made = await h.client.get("/health")
        assert len(made.headers["x-request-id"]) == 32


async def test_routes_must_come_from_ctx_router(host) -> None:
    async with host("plain-router") as h:
        detail = (await h.client.get("/plugins/plain-router")).json()
        assert detail["state"] == "failed"
        assert "from a router not made by ctx.router()" in detail["error"]


async def test_plugin_routes_authenticate_their_callers(lumina_host, fixture_plugins) -> None:
    async with lumina_host(plugins=["hello"], plugins_dir=fixture_plugins, require_auth=True) as h:
        anonymous = await h.client.get("/hello/greet")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        assert anonymous.json()["error"]["type"] == "unauthenticated"
