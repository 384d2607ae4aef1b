"""Who a request acts as: a JWT, an API key, or (only where allowed) the anonymous local user."""

from __future__ import annotations

import functools

import ipaddress
import logging
from typing import ClassVar, Literal

from starlette.requests import Request

from lumina_core.auth import LOCAL_USER, User
from lumina_core.auth.accounts import AccountStore, is_api_key
from lumina_core.auth.tokens import TokenIssuer
from lumina_core.errors import Unauthenticated

log = logging.getLogger("lumina.auth")
Method = Literal["token", "api_key", "anonymous"]


class Unauthorized(Unauthenticated):
    """A 401 that tells the client how to authenticate."""

    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": "Bearer"}


class Authenticator:
    """Turns a request's ``Authorization: Bearer`` header into a :class:`User`."""

    def __init__(self, accounts: AccountStore, tokens: TokenIssuer, *, allow_anonymous: bool) -> None:
        self.accounts = accounts
        self.tokens = tokens
        self.allow_anonymous = allow_anonymous

    def describe_mode(self) -> str:
        if self.allow_anonymous:
            return "anonymous requests from loopback act as the local user (set LUMINA_REQUIRE_AUTH=1 to require sign-in)"
        return "every request must authenticate (Authorization: Bearer <access token or API key>)"

    async def authenticate(self, request: Request) -> tuple[User, Method]:
        header = _authorization(request.scope["headers"])
        if header is None:
            if self.allow_anonymous and _from_loopback(request):
                return LOCAL_USER, "anonymous"
            raise Unauthorized("sign in first: send Authorization: Bearer <access token from POST /auth/login or API key>")
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthorized("the Authorization header must be 'Bearer <access token or API key>'")
        if is_api_key(credential):
            user = self.accounts.user_for_key(credential)
            if user is None:
                raise Unauthorized("the API key is not valid or was revoked: create a new one (POST /auth/api-keys)")
            return user, "api_key"
        try:
            subject = self.tokens.subject(credential)
        except Unauthenticated as exc:
            raise Unauthorized(exc.message) from None
        user = self.accounts.user(subject)
        if user is None:
            raise Unauthorized("the account of this access token no longer exists")
        return user, "token"


@functools.lru_cache(maxsize=4096)
def is_loopback(host: str) -> bool:
    """True when ``host`` (an address to listen on, or a client's) is this machine only.

    Asked on every anonymous request, so answers are remembered per address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _from_loopback(request: Request) -> bool:
    client = request.scope.get("client")
    return client is not None and is_loopback(client[0])


def _authorization(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The Authorization header, read from the raw ASGI headers: this runs on every request."""
    for name, value in headers:
        if name == b"authorization":
            return value.decode("latin-1")
    return None
