"""Outbound calls refuse private, loopback, link-local and metadata addresses, after DNS and on
every redirect, unless allow-listed; only http and https leave."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lumina_router_tools.netguard import AllowList, DestinationRefused, Guard, guarded_client


def resolver(table: dict[str, list[str]]) -> Any:
    """A resolver injected in place of the system's: names of the tests resolve as the table says."""

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"{host} is not in the test's table")
        return table[host]

    return resolve


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[fd00::1]/", "http://0.0.0.0/",
    "http://[::ffff:127.0.0.1]/", "http://100.64.0.1/",
])
async def test_non_public_addresses_are_refused_by_default(url: str) -> None:
    with pytest.raises(DestinationRefused, match="LUMINA_TOOLS_ALLOW"):
        await Guard().checked_address(httpx.URL(url))


async def test_a_name_is_checked_by_what_it_resolves_to() -> None:
    guard = Guard(resolver=resolver({"innocent.example": ["93.184.215.14", "10.0.0.8"], "public.example": ["93.184.215.14"]}))
    with pytest.raises(DestinationRefused, match="10.0.0.8"):
        await guard.checked_address(httpx.URL("http://innocent.example/"))
    assert await guard.checked_address(httpx.URL("https://public.example/")) == "93.184.215.14"


async def test_localhost_is_refused_through_the_system_resolver() -> None:
    with pytest.raises(DestinationRefused, match="loopback"):
        await Guard().checked_address(httpx.URL("http://localhost:8000/"))


async def test_only_http_and_https_leave() -> None:
    for url in ("file:///etc/passwd", "gopher://example.com/", "ftp://example.com/"):
        with pytest.raises(DestinationRefused, match="http"):
            await Guard().checked_address(httpx.URL(url))


async def test_the_allow_list_takes_addresses_networks_and_names() -> None:
    allow = AllowList.from_text("127.0.0.1, 10.20.0.0/16, intranet.example")
    guard = Guard(allow, resolver({"intranet.example": ["10.99.0.1"], "other.example": ["10.99.0.1"]}))
    assert await guard.checked_address(httpx.URL("http://127.0.0.1:9/")) == "127.0.0.1"
    assert await guard.checked_address(httpx.URL("http://10.20.3.4/")) == "10.20.3.4"
    assert await guard.checked_address(httpx.URL("http://intranet.example/")) == "10.99.0.1"
    with pytest.raises(DestinationRefused):
        await guard.checked_address(httpx.URL("http://other.example/"))
    with pytest.raises(DestinationRefused):
        await guard.checked_address(httpx.URL("http://127.0.0.2/"))


async def test_the_connection_goes_to_the_checked_address(tool_server: Any) -> None:
    """A name resolving to an allowed address is called at that address, with its own Host."""
    guard = Guard(AllowList.from_text("127.0.0.1"), resolver({"tools.example": ["127.0.0.1"]}))
    async with guarded_client(guard) as client:
        response = await client.get(tool_server.url("/echo", host="tools.example"))
    assert response.status_code == 200
    assert tool_server.received[-1]["headers"]["Host"] == f"tools.example:{tool_server.port}"


async def test_every_redirect_is_checked(tool_server: Any) -> None:
    guard = Guard(AllowList.from_text("127.0.0.1"))
    async with guarded_client(guard, follow_redirects=True) as client:
        for path, refused in (("/to-private", "10.0.0.7"), ("/to-metadata", "169.254.169.254")):
            with pytest.raises(DestinationRefused, match=refused):
                await client.get(tool_server.url(path))


@pytest.mark.timeout(600)
async def test_registering_or_calling_a_private_destination_is_refused(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host(allow="") as host:
        alice = await kit.sign_up(host, "alice")
        for url in (tool_server.url("/weather"), "http://10.0.0.5/x", "http://169.254.169.254/latest/meta-data/",
                    tool_server.url("/weather", host="localhost")):
            response = await host.client.post("/router/tools", json=kit.weather_tool(tool_server, callback_url=url),
                                              headers=alice)
            assert response.status_code == 403, (url, response.text)
            assert "LUMINA_TOOLS_ALLOW" in response.json()["error"]["message"]
        ad_hoc = kit.weather_tool(tool_server)
        answer = await host.client.post("/router/tools/weather/call", json={}, headers=alice)
        assert answer.status_code == 404
        reply = await host.client.post("/router/chat", json={"message": "What is the weather forecast in Paris?",
                                                             "tools": [ad_hoc], "tool_choice": "weather"},
                                     headers=alice)
        assert reply.status_code == 200, reply.text
        invoked = reply.json()["tools_invoked"]
        assert [(t["name"], t["status"]) for t in invoked] == [("weather", "refused")]
        assert tool_server.received == []


async def test_a_redirect_to_a_private_address_fails_only_that_call(router_host: Any, kit: Any, tool_server: Any) -> None:
    async with router_host() as host:
        alice = await kit.sign_up(host, "alice")
        tool = kit.weather_tool(tool_server, name="sneaky", callback_url=tool_server.url("/to-metadata"))
        assert (await host.client.post("/router/tools", json=tool, headers=alice)).status_code == 201
        call = (await host.client.post("/router/tools/sneaky/call", json={"arguments": {"city": "Oslo"}},
                                       headers=alice)).json()
        assert call["status"] == "refused" and "169.254.169.254" in call["error"]
