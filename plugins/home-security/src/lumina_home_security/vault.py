"""Camera credentials at rest: sealed with Fernet (AES and an HMAC) under a key of their own.

The key lives in ``vault.key`` in the plugin's data folder, readable by its owner only, and
separate from the database, so a copied database or backup shows no camera's password.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet, InvalidToken

from lumina_core.errors import ConfigurationError


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str | None
    scheme: Literal["basic", "digest"] = "basic"

    def __repr__(self) -> str:  # never print a password by accident
        return f"Credentials(username={self.username!r}, password=***, scheme={self.scheme!r})"


class Vault:
    def __init__(self, key_file: Path) -> None:
        self._fernet = Fernet(_key(key_file))
        self._key_file = key_file

    def seal(self, credentials: Credentials) -> str:
        return self._fernet.encrypt(json.dumps(asdict(credentials)).encode()).decode()

    def open(self, sealed: str) -> Credentials:
        try:
            return Credentials(**json.loads(self._fernet.decrypt(sealed.encode())))
        except InvalidToken:
            raise ConfigurationError(
                f"stored camera credentials do not open with {self._key_file}: it was replaced; "
                "delete the camera and add it again with its password"
            ) from None


def _key(path: Path) -> bytes:
    """The vault's key, created (owner-only) on first use."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    key = Fernet.generate_key()
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(handle, "wb") as stream:
        stream.write(key)
        stream.flush()
        os.fsync(stream.fileno())
    return key
