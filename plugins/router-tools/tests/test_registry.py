"""The tool registry: per-user and global tools, secrets never returned, definitions checked
with the field at fault named, one user's tools invisible to another."""

from __future__ import annotations

from typing import Any


async def test_a_registered_tool_is_listed_without_its_secret_headers(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        created = await host.client.post("/router/tools", json=kit.weather_tool(tool_server), headers=alice)
        assert created.status_code == 201, created.text
        listed = (await host.client.get("/router/tools", headers=alice)).json()
        [weather] = [t for t in listed["items"] if t["name"] == "weather"]
        assert weather["kind"] == "http" and weather["secret_headers"] == ["X-Api-Key"]
        assert weather["callback_url"] == tool_server.url("/weather")
        for response in (created, await host.client.get("/router/tools", headers=alice)):
            assert "s3cret-weather-key" not in response.text
        assert listed["next_cursor"] is None


async def test_plugins_offer_tools_through_register_tools_and_their_manifests(router_host: Any, kit: Any) -> None:
    async with router_host(plugins=("memory",)) as host:
        alice = await kit.sign_up(host, "alice")
        listed = {t["name"]: t for t in (await host.client.get("/router/tools", headers=alice)).json()["items"]}
        assert listed["knowledge_search"]["kind"] == "plugin"
        search = listed["memory_search"]
        assert (search["kind"], search["plugin"], search["method"], search["path"]) == (
            "endpoint", "memory", "POST", "/memory/search")
        assert search["input_schema"]["required"] == ["query"]
        assert listed["memory_get"]["input_schema"]["required"] == ["memory_id"]
        assert "documents_query" not in listed  # the documents plugin is not running


async def test_one_users_tools_are_invisible_to_another(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice, bob = await kit.sign_up(host, "alice"), await kit.sign_up(host, "bob")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server), headers=alice)
        bobs = (await host.client.get("/router/tools", headers=bob)).json()["items"]
        assert "weather" not in {t["name"] for t in bobs}
        call = await host.client.post("/router/tools/weather/call", json={"arguments": {"city": "Oslo"}}, headers=bob)
        assert call.status_code == 404
        assert (await host.client.delete("/router/tools/weather", headers=bob)).status_code == 404
        chat = await host.client.post("/router/chat", json={"message": "weather in Oslo", "tools": ["weather"]}, headers=bob)
        assert chat.status_code == 422 and chat.json()["error"]["field"] == "tools[0]"
        assert (await host.client.post("/router/tools/weather/call", json={"arguments": {"city": "Oslo"}},
                                       headers=alice)).json()["status"] == "ok"


async def test_global_tools_are_registered_by_admins_and_seen_by_everyone(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        admin, bob = await kit.sign_up(host, "admin"), await kit.sign_up(host, "bob")
        refused = await host.client.post("/router/tools", json=kit.weather_tool(tool_server, scope="global"), headers=bob)
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "permission_denied"
        made = await host.client.post("/router/tools", json=kit.weather_tool(tool_server, scope="global"), headers=admin)
        assert made.status_code == 201, made.text
        seen = (await host.client.get("/router/tools", headers=bob)).json()["items"]
        assert [t["scope"] for t in seen if t["name"] == "weather"] == ["global"]
        assert (await host.client.delete("/router/tools/weather?scope=global", headers=bob)).status_code == 403
        assert (await host.client.delete("/router/tools/weather?scope=global", headers=admin)).status_code == 204


async def test_tools_survive_a_restart(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        await host.client.post("/router/tools", json=kit.weather_tool(tool_server), headers=alice)
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        names = {t["name"] for t in (await host.client.get("/router/tools", headers=alice)).json()["items"]}
        assert "weather" in names
        assert (await host.client.delete("/router/tools/weather", headers=alice)).status_code == 204
        names = {t["name"] for t in (await host.client.get("/router/tools", headers=alice)).json()["items"]}
        assert "weather" not in names


async def test_bad_definitions_are_refused_with_the_field_at_fault(router_host: Any, kit: Any, tool_server: Any) -> None:
    cases = [
        ({"name": "9lives"}, "name"),
        ({"name": "has space"}, "name"),
        ({"callback_url": "file:///etc/passwd"}, "callback_url"),
        ({"callback_url": "ftp://example.com/x"}, "callback_url"),
        ({"input_schema": {"type": "object", "properties": {"city": {"type": "town"}}}}, "input_schema.properties.city.type"),
        ({"input_schema": {"type": "string"}}, "input_schema.type"),
        ({"headers": {"Bad Header": "x"}}, "headers"),
        ({"description": ""}, "description"),
        ({"run": "import os; os.system('id')"}, "run"),
    ]
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        for change, field in cases:
            response = await host.client.post("/router/tools", json=kit.weather_tool(tool_server, **change), headers=alice)
            assert response.status_code == 422, (change, response.text)
            error = response.json()["error"]
            assert error["type"] == "validation_error" and error["field"] == field, (change, error)


async def test_ad_hoc_tools_are_checked_like_registered_ones(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        bad = kit.weather_tool(tool_server, input_schema={"type": "object", "properties": {"city": {"type": 3}}})
        response = await host.client.post("/router/chat", json={"message": "weather in Rome", "tools": [bad]}, headers=alice)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "tools[0].input_schema.properties.city.type"
