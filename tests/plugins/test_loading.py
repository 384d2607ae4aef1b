"""Loading and isolation: a broken plugin is marked with a reason, and everything else serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from lumina_core.contract import ChatRequest, Message
from lumina_core.errors import PermissionDenied
from lumina_core.kernel import StartupFailed
from lumina_core.testing import HostFactory

pytestmark = pytest.mark.asyncio


@pytest.fixture
def host(lumina_host: HostFactory, fixture_plugins: Path):
    def start(*plugins: str, **settings):
        return lumina_host(plugins=plugins, plugins_dir=fixture_plugins, startup_timeout=0.5, **settings)

    return start


async def listed(client) -> dict[str, dict]:
    response = await client.get("/plugins", params={"limit": 500})
    assert response.status_code == 200
    return {p["name"]: p for p in response.json()["items"]}


async def test_a_good_plugin_starts_and_its_route_answers(host) -> None:
    async with host("hello") as h:
        assert (await listed(h.client))["hello"]["state"] == "started"
        response = await h.client.get("/hello/greet", params={"name": "Ada"})
        assert response.json() == {"message": "hello, Ada"}


@pytest.mark.parametrize(
    ("plugin", "state", "reason"),
    [
        ("import-error", "failed", "import failed: RuntimeError: cannot import me"),
        ("setup-error", "failed", "startup failed: ConnectionError: database at db.local:5432 refused"),
        ("hangs", "failed", "hook startup of plugin 'hangs' did not finish within 0.5 s"),
        ("hangs-sync", "failed", "hook startup of plugin 'hangs-sync' did not finish within 0.5 s"),
        ("cycle-a", "incompatible", "dependency cycle: cycle-a -> cycle-b -> cycle-a"),
        ("future-api", "incompatible", "needs host API >=2.0, but this host provides API 1.0"),
        ("missing-dep", "incompatible", "depends on 'nonexistent', which is not installed"),
        ("no-permission", "invalid", "implements chat_context but its manifest lacks permission 'chat:context'"),
        ("unknown-hook", "invalid", "implements 'startpu', which is not a Lumina hook"),
        ("undeclared", "failed", "DELETE /undeclared/everything, which its manifest does not declare"),
    ],
)
async def test_a_broken_plugin_gets_a_state_and_reason_while_the_rest_serve(host, plugin, state, reason) -> None:
    async with host("hello", plugin, "cycle-b") as h:
        plugins = await listed(h.client)
        assert plugins[plugin]["state"] == state
        assert reason in plugins[plugin]["error"]
        assert (await h.client.get("/hello/greet")).status_code == 200


async def test_an_invalid_manifest_lists_every_problem(host) -> None:
    async with host("hello") as h:
        detail = (await h.client.get("/plugins/fx_invalid_manifest")).json()
        assert detail["state"] == "invalid"
        assert any("endpoints[0].method: 'FETCH' is not one of" in p for p in detail["problems"])
        assert any("version: 'not-a-version' is not a valid version" in p for p in detail["problems"])


async def test_a_failed_plugins_routes_answer_503_with_the_reason(host) -> None:
    async with host("setup-error") as h:
        response = await h.client.get("/setup-error/x")
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["type"] == "unavailable"
        assert "refused the connection" in error["message"]
        assert "POST /plugins/setup-error/reload" in error["message"]


async def test_a_route_that_raises_answers_503_and_the_plugin_keeps_serving(host) -> None:
    async with host("hello") as h:
        response = await h.client.get("/hello/boom")
        assert response.status_code == 503
        assert "plugin 'hello' failed while handling GET /hello/boom (ValueError: the plugin's own bug)" in response.json()["error"]["message"]
        assert (await h.client.get("/hello/greet")).status_code == 200
        detail = (await h.client.get("/plugins/hello")).json()
        assert detail["state"] == "started"
        assert detail["hook_errors"] == 1
        assert "ValueError" in detail["error"]


async def test_a_shared_hook_that_raises_loses_only_its_own_contribution(host) -> None:
    async with host("bad-hook", "good-context") as h:
        request = ChatRequest(messages=(Message("user", "hi"),), user_id="u1")
        outcomes = await h.kernel.call_each("chat_context", request=request)
        assert [o.plugin for o in outcomes] == ["good-context"]
        assert outcomes[0].value[0].text == "asked: hi"
        detail = (await h.client.get("/plugins/bad-hook")).json()
        assert detail["state"] == "started" and detail["hook_errors"] == 1
        assert "chat_context raised KeyError" in detail["error"]


async def test_asking_for_a_capability_without_its_permission_names_both(host) -> None:
    async with host("hello") as h:
        response = await h.client.get("/hello/llm")
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["type"] == "permission_denied"
        assert error["message"].startswith("plugin 'hello' needs permission 'llm:generate' to use llm")


async def test_plugins_start_after_their_dependencies(host) -> None:
    async with host("dependent", "hello") as h:
        assert h.state("dependent") == "started"
        assert h.kernel.get("dependent").since >= h.kernel.get("hello").since


async def test_plugin_settings_are_checked_against_the_manifest_schema(host) -> None:
    async with host("hello", plugin_config={"hello": {"greeting": 42}}) as h:
        detail = (await h.client.get("/plugins/hello")).json()
        assert detail["state"] == "failed"
        assert "LUMINA_PLUGIN_CONFIG__HELLO__GREETING: 42 is not of type 'string'" in detail["error"]


async def test_a_setting_given_as_text_is_read_as_the_value_its_schema_wants(lumina_host) -> None:
    # LUMINA_PLUGIN_CONFIG__CRAWLER__RATE_LIMIT=50 arrives as the text "50"
    config = {"crawler": {"rate_limit": "50", "recrawl_days": "0.5", "wiki_api": "http://127.0.0.1:1/w/api.php"}}
    async with lumina_host(plugins=["knowledge", "crawler"], plugin_config=config) as h:
        assert h.state("crawler") == "started", h.kernel.get("crawler").error
        assert h.kernel.get("crawler").context.config == {**config["crawler"], "rate_limit": 50, "recrawl_days": 0.5}


async def test_a_hyphenated_plugin_takes_its_settings_from_the_environment(lumina_host, monkeypatch) -> None:
    # the name router-tools cannot be written in a variable's name: ROUTER_TOOLS stands for it
    monkeypatch.setenv("LUMINA_PLUGIN_CONFIG__ROUTER_TOOLS__TIMEOUT_S", "3")
    async with lumina_host(plugins=["router-tools"]) as h:
        assert h.state("router-tools") == "started", h.kernel.get("router-tools").error
        assert h.kernel.get("router-tools").context.config["timeout_s"] == 3


async def test_plugin_settings_reach_the_plugin(host) -> None:
    async with host("hello", plugin_config={"hello": {"greeting": "bonjour"}}) as h:
        assert (await h.client.get("/hello/greet")).json() == {"message": "bonjour, world"}


async def test_an_empty_selection_is_recovery_mode(host) -> None:
    async with host() as h:
        assert {p["state"] for p in (await listed(h.client)).values()} <= {"disabled", "invalid"}
        assert (await h.client.get("/health")).status_code == 200


async def test_strict_mode_refuses_to_start_with_a_broken_plugin(host) -> None:
    with pytest.raises(StartupFailed, match="setup-error: failed: startup failed"):
        async with host("hello", "setup-error", strict=True):
            pass


async def test_publishing_needs_the_permission_and_a_missing_bus_is_only_logged(host, caplog) -> None:
    async with host("hello", "good-context") as h:
        quiet = h.kernel.get("good-context").context
        with pytest.raises(PermissionDenied, match="'good-context' needs permission 'events:publish'"):
            await quiet.publish("hello.said", {})
        allowed = h.kernel.get("hello").context
        h.kernel.services.withdraw("events", owner=h.kernel.services.owner("events"))
        await allowed.publish("hello.said", {"to": "nobody"})
        assert "could not publish hello.said" in caplog.text
