"""Accounts and API keys, kept in ``<data>/auth/accounts.sqlite3``.

Passwords are hashed with Argon2 (pwdlib's recommended scheme). API keys are long random
secrets, so a SHA-256 of the secret is enough to store them safely and is cheap to check on
every request; only the key's id and hash are kept, the key itself is shown once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pwdlib import PasswordHash

from lumina_core.auth import Role, User
from lumina_core.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from lumina_core.storage import SQLiteFile

KEY_PREFIX = "lum_"
_KEY_ID_LENGTH = 12
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$")
MIN_PASSWORD = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS api_keys_by_user ON api_keys(user_id);
"""


@dataclass(frozen=True)
class ApiKey:
    id: str
    user_id: str
    name: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created_at": self.created_at}


class AccountStore:
    """Users with hashed passwords, and their API keys; safe to share between threads."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._sql = SQLiteFile(folder / "accounts.sqlite3", _SCHEMA)
        self._hasher = PasswordHash.recommended()

    def close(self) -> None:
        self._sql.close()

    # --- accounts ----------------------------------------------------------------------------

    async def register(self, name: str, password: str) -> User:
        """Create an account; the first one ever created gets the admin role."""
        _check_username(name)
        if len(password) < MIN_PASSWORD:
            raise ValidationFailed(f"the password needs at least {MIN_PASSWORD} characters", field="password")
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        user_id = str(uuid.uuid4())
        try:
            with self._sql.transaction() as db:
                role: Role = "user" if db.execute("SELECT 1 FROM users LIMIT 1").fetchone() else "admin"
                db.execute(
                    "INSERT INTO users (id, name, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?)",
                    (user_id, name, password_hash, role, _now()),
                )
        except sqlite3.IntegrityError:
            raise Conflict(f"the username '{name}' is taken: choose another", field="username") from None
        return User(id=user_id, name=name, role=role)

    async def verify_password(self, name: str, password: str) -> User:
        """The user whose name and password these are; the same 401 for a wrong name or password."""
        row = self._sql.one("SELECT id, name, role, password_hash FROM users WHERE name = ?", (name,))
        stored = row[3] if row else None
        valid = await asyncio.to_thread(self._hasher.verify, password, stored) if stored else False
        if row is None or not valid:
            raise Unauthenticated("wrong username or password")
        return User(id=row[0], name=row[1], role=row[2])

    def user(self, user_id: str) -> User | None:
        row = self._sql.one("SELECT id, name, role FROM users WHERE id = ?", (user_id,))
        return User(id=row[0], name=row[1], role=row[2]) if row else None

    # --- API keys ----------------------------------------------------------------------------

    def create_key(self, user: User, name: str) -> tuple[ApiKey, str]:
        """A new key for ``user``: the record, and the key itself (shown to the user once)."""
        if self.user(user.id) is None:
            raise NotFound(f"no account with id '{user.id}'")
        key_id, secret = secrets.token_hex(_KEY_ID_LENGTH // 2), secrets.token_urlsafe(32)
        key = ApiKey(id=key_id, user_id=user.id, name=name, created_at=_now())
        self._sql.execute(
            "INSERT INTO api_keys (id, user_id, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            (key.id, key.user_id, key.name, _digest(secret), key.created_at),
        )
        return key, f"{KEY_PREFIX}{key_id}_{secret}"

    def keys(self, user_id: str) -> list[ApiKey]:
        rows = self._sql.all(
            "SELECT id, user_id, name, created_at FROM api_keys WHERE user_id = ? ORDER BY created_at", (user_id,)
        )
        return [ApiKey(*row) for row in rows]

    def revoke_key(self, user_id: str, key_id: str) -> None:
        """Delete one of the user's keys; another user's key is "not found", so ids do not leak."""
        deleted = self._sql.execute("DELETE FROM api_keys WHERE id = ? AND user_id = ?", (key_id, user_id))
        if not deleted:
            raise NotFound(f"you have no API key with id '{key_id}' (see GET /auth/api-keys)")

    def user_for_key(self, key: str) -> User | None:
        """The owner of a valid, unrevoked key, or None."""
        key_id, secret = key[len(KEY_PREFIX) : len(KEY_PREFIX) + _KEY_ID_LENGTH], key[len(KEY_PREFIX) + _KEY_ID_LENGTH + 1 :]
        row = self._sql.one("SELECT user_id, secret_hash FROM api_keys WHERE id = ?", (key_id,))
        if row is None or not hmac.compare_digest(row[1], _digest(secret)):
            return None
        return self.user(row[0])


def is_api_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX) and len(token) > len(KEY_PREFIX) + _KEY_ID_LENGTH + 1


def _check_username(name: str) -> None:
    if not _USERNAME.match(name):
        raise ValidationFailed(
            "a username has 3 to 64 characters: letters, digits and . _ @ -, starting with a letter or digit",
            field="username",
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
