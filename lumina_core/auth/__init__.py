"""Who is asking: the identity every request acts as.

``current_user`` is the FastAPI dependency routes use to learn the caller; every per-user store
keys its data by ``user.id`` from here, never by a ``user_id`` in a request body. The ``users``
service (built-in ``core.auth``) decides: a JWT from ``POST /auth/login``, an API key, or, only
when the server listens on loopback and ``LUMINA_REQUIRE_AUTH`` is unset, the anonymous local
user. ``require_admin`` guards administration routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from fastapi import Depends
from starlette.requests import HTTPConnection

from lumina_core.errors import LuminaError

if TYPE_CHECKING:
    from lumina_core.services import ServiceRegistry

Role = Literal["user", "admin"]
LOCAL_USER_ID = "local"


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: Role = "user"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


LOCAL_USER = User(id=LOCAL_USER_ID, name="local", role="admin")


class Forbidden(LuminaError):
    """The caller is known but may not do this."""

    type = "permission_denied"
    status = 403


async def current_user(request: HTTPConnection) -> User:
    """The caller (of a request or a WebSocket), authenticated once (401 when it cannot be)."""
    return await authenticate_once(request, request.app.state.kernel.services)


async def authenticate_once(request: HTTPConnection, services: ServiceRegistry) -> User:
    """:func:`current_user` for code that already holds the host's services (plugin routes,
    on every request: the lookup through ``app.state`` costs more than the rest).

    The caller is kept in the scope's state dict, which backs ``request.state``: reading it
    directly spares a ``State`` object and a caught AttributeError."""
    state = request.scope.setdefault("state", {})
    user = state.get("user")
    if user is None:
        user, state["auth_method"] = await services.get("users").authenticate(request)
        state["user"] = user
    return user


async def require_admin(user: User = Depends(current_user)) -> User:
    """The caller, when an admin; 403 otherwise."""
    if not user.is_admin:
        raise Forbidden(f"this needs the admin role, and '{user.name}' is a {user.role}: ask an admin")
    return user
