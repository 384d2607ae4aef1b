"""The SSRF-safe webhook client: addresses are checked after DNS resolution, private ones are
refused unless allow-listed, the request goes to the address checked, redirects are not followed."""

from __future__ import annotations

import httpx
import pytest

from lumina_home_security.webhooks import AllowList, WebhookRefused, checked_address, deliver, post_json

NOTHING_ALLOWED = AllowList([])


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8123/api/webhook/x",  # loopback, by address and by name
    "http://10.1.2.3/", "http://192.168.1.10/", "http://172.16.0.1/",  # private networks
    "http://169.254.169.254/latest/meta-data/",  # link-local: the cloud metadata address
    "http://[::1]/", "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/",  # IPv6 loopback, link-local, mapped
    "http://100.64.0.1/", "http://0.0.0.0/", "http://224.0.0.1/",  # shared, unspecified, multicast
])
async def test_addresses_that_are_not_public_are_refused(url: str) -> None:
    with pytest.raises(WebhookRefused, match="where webhooks may not go"):
        await checked_address(url, NOTHING_ALLOWED)


async def test_a_public_address_is_used_as_it_is() -> None:
    assert str(await checked_address("https://93.184.215.14/hook", NOTHING_ALLOWED)) == "93.184.215.14"


async def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(WebhookRefused, match="does not resolve"):
        await checked_address("http://no-such-host.invalid/hook", NOTHING_ALLOWED)


@pytest.mark.parametrize("entry", ["127.0.0.1", "127.0.0.0/8", "localhost"])
async def test_an_operator_may_allow_a_private_host_or_network(entry: str) -> None:
    assert str(await checked_address("http://localhost:9/hook", AllowList([entry]))).startswith(("127.", "::1"))


async def test_the_request_goes_to_the_checked_address_with_the_name_as_host(kit) -> None:
    with kit.servers.WebhookReceiver() as hook:
        async with httpx.AsyncClient() as http:
            answer = await post_json(http, f"http://localhost:{hook.port}/hook", {"camera": "porch"}, AllowList(["localhost"]))
    assert answer.status_code == 204
    assert hook.received == [(f"localhost:{hook.port}", {"camera": "porch"})]


async def test_a_redirect_is_not_followed(kit, caplog) -> None:
    with kit.servers.WebhookReceiver(status=302, location="http://169.254.169.254/latest/meta-data/") as hook:
        async with httpx.AsyncClient(follow_redirects=True) as http:
            assert not await deliver(http, f"http://127.0.0.1:{hook.port}/hook", {"a": 1}, AllowList(["127.0.0.1"]))
    assert len(hook.received) == 1 and "answered 302" in caplog.text


async def test_a_refused_webhook_is_logged_and_not_sent(kit, caplog) -> None:
    with kit.servers.WebhookReceiver() as hook:
        async with httpx.AsyncClient() as http:
            assert not await deliver(http, f"http://127.0.0.1:{hook.port}/hook", {"a": 1}, NOTHING_ALLOWED)
    assert hook.received == [] and "webhook not sent" in caplog.text
