"""Who is asking: the identity every request acts as.

``current_user`` is the FastAPI dependency routes use to learn the caller; every per-user store
keys its data by ``user.id`` from here, never by a ``user_id`` in a request body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request

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


async def current_user(request: Request) -> User:
    """The caller; until accounts exist, everyone is the local user."""
    return LOCAL_USER
