"""Webhooks through a client that cannot be turned against the local network (SSRF-safe).

A webhook URL comes from a user, so before anything is sent its host is resolved and every
address it resolves to must be public: loopback, private, link-local (the cloud metadata
address 169.254.169.254 among them), shared, reserved and multicast addresses are refused
unless the operator allow-listed the host or its network (``webhook_allow``). The request then
goes to the address that was checked (the name only in ``Host`` and TLS's SNI), so a second
DNS answer cannot swap in another one, and redirects are not followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from lumina_core.errors import ValidationFailed

log = logging.getLogger("lumina.plugin.home-security.webhooks")

TIMEOUT = httpx.Timeout(5.0)
TRIES = 3
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookRefused(ValidationFailed):
    """A webhook URL points where Lumina may not send."""


class AllowList:
    """Hosts and networks a webhook may reach although they are not public."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._hosts: set[str] = set()
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in entries:
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._hosts.add(entry.lower().rstrip("."))

    def has_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self._hosts

    def has_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self._networks)


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise WebhookRefused(f"the webhook host '{host}' does not resolve: {exc.strerror}", field="webhooks") from None
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


async def checked_address(url: str, allow: AllowList) -> IPAddress:
    """The address to send ``url`` to, once every address of its host is known to be allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(f"'{url}' is not an http(s) URL", field="webhooks")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await resolve(parts.hostname, port)
    if not allow.has_host(parts.hostname):
        refused = [a for a in addresses if not is_public(a) and not allow.has_address(a)]
        if refused:
            raise WebhookRefused(
                f"the webhook host '{parts.hostname}' resolves to {refused[0]}, a private, loopback or link-local "
                "address, where webhooks may not go; an operator can allow it with webhook_allow",
                field="webhooks",
            )
    return addresses[0]


async def post_json(http: Any, url: str, payload: Mapping[str, Any], allow: AllowList) -> httpx.Response:
    """POST ``payload`` to ``url`` at its checked address; refuses what :func:`checked_address` refuses."""
    address = await checked_address(url, allow)
    parts = urlsplit(url)
    literal = f"[{address}]" if address.version == 6 else str(address)
    pinned = urlunsplit(parts._replace(netloc=f"{literal}:{parts.port}" if parts.port else literal))
    host_header = parts.hostname + (f":{parts.port}" if parts.port else "")
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return await http.post(
        pinned, json=dict(payload), headers={"Host": host_header}, timeout=TIMEOUT,
        follow_redirects=False, extensions=extensions,
    )


async def deliver(http: Any, url: str, payload: Mapping[str, Any], allow: AllowList) -> bool:
    """Send one alert, trying again after a failure; True once the receiver took it (2xx)."""
    for attempt in range(TRIES):
        try:
            response = await post_json(http, url, payload, allow)
        except WebhookRefused as exc:
            log.warning("webhook not sent: %s", exc.message)
            return False
        except httpx.HTTPError as exc:
            log.warning("webhook %s failed (try %d of %d): %s", url, attempt + 1, TRIES, exc or type(exc).__name__)
        else:
            if response.is_success:
                return True
            log.warning("webhook %s answered %d (try %d of %d)", url, response.status_code, attempt + 1, TRIES)
            if response.is_redirect or response.status_code < 500:
                return False
        await asyncio.sleep(0.5 * 2**attempt)
    return False
