"""Access tokens: JWTs signed with HS256 that expire, issued by ``POST /auth/login``.

The signing key is ``LUMINA_AUTH_SECRET`` or, when unset, a random key generated once into
``<data>/auth/jwt-secret`` (readable by the owner only), so tokens survive restarts.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from lumina_core.auth import User
from lumina_core.errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = "lumina"


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: datetime

    @property
    def expires_in(self) -> int:
        return max(0, int((self.expires_at - datetime.now(UTC)).total_seconds()))


class TokenIssuer:
    def __init__(self, secret: str, lifetime: timedelta) -> None:
        self._secret = secret
        self._lifetime = lifetime

    def issue(self, user: User, *, lifetime: timedelta | None = None) -> AccessToken:
        now = datetime.now(UTC)
        expires = now + (lifetime if lifetime is not None else self._lifetime)
        claims = {"sub": user.id, "name": user.name, "iat": now, "exp": expires, "iss": ISSUER}
        return AccessToken(jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires)

    def subject(self, token: str) -> str:
        """The user id a valid token names; 401 with the reason otherwise."""
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the access token has expired: log in again (POST /auth/login)") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the access token is not valid ({exc}): log in again (POST /auth/login)") from None
        return str(claims["sub"])


def signing_secret(configured: str | None, folder: Path) -> str:
    """The configured secret, or the one kept in ``folder`` (created on first use)."""
    if configured:
        return configured
    path = folder / "jwt-secret"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made earlier, or just now by another worker
    else:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
