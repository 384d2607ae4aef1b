"""Outbound calls that cannot be turned against the host's own network (SSRF).

Every request, and every redirect of it, goes through :class:`GuardedTransport`: the host name
is resolved here, every address it resolves to is checked, and the connection is made to the
checked address itself (the name kept for ``Host`` and TLS), so a name cannot resolve once to a
public address for the check and again to a private one for the connection. Only http and https
leave; private, loopback, link-local (cloud metadata at 169.254.169.254), multicast, reserved
and other non-global addresses are refused unless allow-listed (``LUMINA_TOOLS_ALLOW``: IPs,
CIDR networks or host names, comma-separated).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpx

from lumina_core.errors import LuminaError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: ``(host, port) -> addresses``: the system resolver by default; tests inject their own.
Resolver = Callable[[str, int], Awaitable[list[str]]]
ALLOW_ENV = "LUMINA_TOOLS_ALLOW"


class DestinationRefused(LuminaError):
    """An outbound call aimed at an address tools may not reach."""

    type = "permission_denied"
    status = 403


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class AllowList:
    """Destinations allowed although not public: addresses, networks and exact host names."""

    networks: tuple[Network, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        networks: list[Network] = []
        hosts: set[str] = set()
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    @classmethod
    def from_text(cls, text: str | None) -> AllowList:
        return cls.parse((text or "").split(","))

    def allows(self, host: str, address: Address) -> bool:
        return host.lower().rstrip(".") in self.hosts or any(address in n for n in self.networks)


def _address(text: str) -> Address:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class Guard:
    """Decides where a call may go; one per host, shared by HTTP tools and MCP servers."""

    def __init__(self, allow: AllowList = AllowList(), resolver: Resolver = system_resolver) -> None:
        self.allow = allow
        self.resolver = resolver

    async def checked_address(self, url: httpx.URL) -> str:
        """The address to connect to for ``url``: all its addresses checked, the first returned."""
        if url.scheme not in ("http", "https"):
            raise DestinationRefused(f"tools may only call http:// or https:// URLs, not {url.scheme}://")
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            texts = [host] if _is_ip(host) else await self.resolver(host, port)
        except OSError as exc:
            raise DestinationRefused(f"the host '{host}' does not resolve ({exc})") from None
        if not texts:
            raise DestinationRefused(f"the host '{host}' does not resolve")
        for text in texts:
            address = _address(text)
            if not address.is_global and not self.allow.allows(host, address):
                raise DestinationRefused(
                    f"refused to call {host} ({address}): it is a {_kind(address)} address, which tools may "
                    f"not reach; an operator can allow it with {ALLOW_ENV}"
                )
        return texts[0]


def _is_ip(host: str) -> bool:
    try:
        _address(host)
    except ValueError:
        return False
    return True


def _kind(address: Address) -> str:
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local (cloud metadata)"
    if address.is_private:
        return "private"
    if address.is_multicast:
        return "multicast"
    return "non-public"


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that checks (and pins) the destination of every request it sends."""

    def __init__(self, guard: Guard, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._guard = guard
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        address = await self._guard.checked_address(request.url)
        host = request.url.host
        if address != host:
            if request.url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
            request.url = request.url.copy_with(host=address)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def guarded_client(guard: Guard, *, timeout: float = 30.0, **options: object) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose every request and redirect goes through ``guard``."""
    return httpx.AsyncClient(transport=GuardedTransport(guard), timeout=timeout, **options)  # type: ignore[arg-type]
