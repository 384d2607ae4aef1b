"""Cameras: what each one is (its source, detection and arming settings), who owns it, and
where they are kept.

A camera comes from the plugin's configuration (``cameras:``) or from ``POST /security/cameras``.
Its credentials never stay in its description: they are sealed into the vault on the way in
(a password inside the URL too) and only the camera's frame source opens them again.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from lumina_core.errors import ValidationFailed
from lumina_core.storage import SQLiteFile
from lumina_home_security.arming import Arming
from lumina_home_security.vault import Credentials, Vault

CAMERA_ID = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Source = Literal["snapshot", "mjpeg", "mqtt", "folder"]
Point = tuple[float, float]

SCHEMA = """
CREATE TABLE IF NOT EXISTS cameras (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    spec TEXT NOT NULL,
    credentials TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS arming (camera_id TEXT PRIMARY KEY, arming TEXT NOT NULL);
"""


def first_problem(error: ValidationError) -> tuple[str, str]:
    """Where the first problem of a validation error is (dotted, "" for the whole) and what it is."""
    problem = error.errors()[0]
    return ".".join(str(p) for p in problem["loc"]), problem["msg"].removeprefix("Value error, ")


def http_url(url: str) -> str:
    """``url`` when it is http(s) with a host; a ValueError saying what is expected otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{url}' is not an http(s) URL with a host, e.g. http://192.168.1.20/snapshot.jpg")
    return url


class Detection(BaseModel):
    """How a camera decides that something moved (see :mod:`lumina_home_security.motion`)."""

    model_config = ConfigDict(extra="forbid")

    sensitivity: float = Field(0.5, ge=0, le=1, description="0 (only strong changes) to 1 (the faintest).")
    min_area: float = Field(0.005, gt=0, le=1, description="Smallest moving region, as a share of the picture.")
    masks: list[list[Point]] = Field(
        default_factory=list, max_length=20,
        description="Regions to ignore: polygons of (x, y) points in 0..1 picture coordinates.",
    )
    min_frames: int = Field(2, ge=1, le=50, description="Frames in a row with motion before an event starts.")
    cooldown_s: float = Field(10.0, ge=0, le=3600, description="Quiet seconds that end a motion event.")
    max_fps: float = Field(5.0, gt=0, le=60, description="Frames analysed per second at most (the newest are kept).")

    @field_validator("masks")
    @classmethod
    def _polygons(cls, masks: list[list[Point]]) -> list[list[Point]]:
        for polygon in masks:
            if len(polygon) < 3:
                raise ValueError("a mask is a polygon of at least 3 points")
            if any(not (0 <= x <= 1 and 0 <= y <= 1) for x, y in polygon):
                raise ValueError("mask points are picture coordinates between 0 and 1")
        return masks


class CameraSpec(BaseModel):
    """A camera as a client describes it; ``username``/``password`` are write-only."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, pattern=CAMERA_ID, description="Lower-case id; made from the name when absent.")
    name: str = Field(min_length=1, max_length=100)
    source: Source
    url: str | None = Field(None, max_length=2000, description="snapshot: an image URL; mjpeg: a stream URL.")
    topic: str | None = Field(None, min_length=1, max_length=500, description="mqtt: a topic carrying JPEG frames.")
    folder: str | None = Field(None, min_length=1, max_length=1000, description="folder: where frames are dropped.")
    interval_s: float = Field(1.0, ge=0.05, le=3600, description="snapshot: seconds between polls; folder: between scans.")
    username: str | None = Field(None, max_length=200)
    password: SecretStr | None = Field(None, max_length=500)
    auth: Literal["basic", "digest"] = "basic"
    detection: Detection = Field(default_factory=Detection)
    arming: Arming = Field(default_factory=Arming)
    webhooks: list[str] = Field(default_factory=list, max_length=10, description="URLs told of every alert.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        return None if url is None else http_url(url)

    @field_validator("webhooks")
    @classmethod
    def _webhook_urls(cls, urls: list[str]) -> list[str]:
        return [http_url(url) for url in urls]

    @model_validator(mode="after")
    def _source_is_complete(self) -> CameraSpec:
        needed = {"snapshot": "url", "mjpeg": "url", "mqtt": "topic", "folder": "folder"}[self.source]
        if getattr(self, needed) is None:
            raise ValueError(f"a '{self.source}' camera needs '{needed}'")
        if self.source == "mqtt" and any(c in self.topic for c in "+#"):
            raise ValueError("an mqtt camera's topic names one topic: no '+' or '#' wildcards")
        return self

    def split_credentials(self) -> tuple[CameraSpec, Credentials | None]:
        """This description without secrets (a password in the URL included), and the secrets."""
        username, password = self.username, self.password.get_secret_value() if self.password else None
        url = self.url
        if url is not None:
            parts = urlsplit(url)
            if parts.username is not None:
                username = username or unquote(parts.username)
                password = password or (unquote(parts.password) if parts.password else None)
                host = parts.hostname + (f":{parts.port}" if parts.port else "")
                url = urlunsplit(parts._replace(netloc=host))
        public = self.model_copy(update={"url": url, "username": None, "password": None})
        secret = Credentials(username, password, self.auth) if username else None
        return public, secret


class CameraChange(BaseModel):
    """A change of a camera (``PATCH``): the fields given replace the camera's own."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    url: str | None = Field(None, max_length=2000)
    topic: str | None = Field(None, min_length=1, max_length=500)
    folder: str | None = Field(None, min_length=1, max_length=1000)
    interval_s: float | None = Field(None, ge=0.05, le=3600)
    username: str | None = Field(None, max_length=200)
    password: SecretStr | None = Field(None, max_length=500)
    auth: Literal["basic", "digest"] | None = None
    detection: Detection | None = None
    webhooks: list[str] | None = Field(None, max_length=10)

    def applied_to(self, camera: Camera) -> Camera:
        """The camera with this change, checked as a whole; credentials kept unless new ones are given."""
        changes = self.model_dump(exclude_unset=True, exclude={"password"})
        if self.password is not None:
            changes["password"] = self.password
        try:
            spec = CameraSpec.model_validate({**camera.spec.model_dump(exclude={"username", "password"}), **changes})
        except ValidationError as exc:
            field, message = first_problem(exc)
            raise ValidationFailed(message, field=field or None) from None
        public, credentials = spec.split_credentials()
        if credentials is None and camera.credentials is not None and "username" not in changes:
            credentials = camera.credentials
        return replace(camera, spec=public, credentials=credentials)


@dataclass(frozen=True)
class Camera:
    """A camera the plugin watches: its id, owner, where it came from and its description."""

    id: str
    owner: str
    spec: CameraSpec
    origin: Literal["api", "config"]
    credentials: Credentials | None = None
    created_at: float = 0.0

    @property
    def name(self) -> str:
        return self.spec.name

    def public(self) -> dict[str, Any]:
        """What the API shows: everything but the secrets (only whether there are some)."""
        spec = self.spec.model_dump(mode="json", exclude={"id", "username", "password"})
        return {"id": self.id, **spec, "origin": self.origin, "has_credentials": self.credentials is not None}


def new_id(name: str, taken: Iterable[str]) -> str:
    """A readable id from the name ("Front door" -> front-door), made unique when taken."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50] or "camera"
    taken = set(taken)
    if base not in taken:
        return base
    return f"{base}-{secrets.token_hex(2)}"


class CameraBook:
    """Cameras added through the API (SQLite), and arming changes of every camera."""

    def __init__(self, path: Path, vault: Vault) -> None:
        self._sql = SQLiteFile(path, SCHEMA)
        self._vault = vault

    def add(self, camera: Camera) -> None:
        sealed = self._vault.seal(camera.credentials) if camera.credentials else None
        self._sql.execute(
            "INSERT INTO cameras (id, owner, spec, credentials, created_at) VALUES (?, ?, ?, ?, ?)",
            (camera.id, camera.owner, camera.spec.model_dump_json(), sealed, camera.created_at or time.time()),
        )

    def replace(self, camera: Camera) -> None:
        sealed = self._vault.seal(camera.credentials) if camera.credentials else None
        self._sql.execute("UPDATE cameras SET spec = ?, credentials = ? WHERE id = ?",
                          (camera.spec.model_dump_json(), sealed, camera.id))

    def remove(self, camera_id: str) -> None:
        with self._sql.transaction() as db:
            db.execute("DELETE FROM cameras WHERE id = ?", (camera_id,))
            db.execute("DELETE FROM arming WHERE camera_id = ?", (camera_id,))

    def saved(self) -> list[Camera]:
        rows = self._sql.all("SELECT id, owner, spec, credentials, created_at FROM cameras ORDER BY created_at")
        return [
            Camera(id_, owner, CameraSpec.model_validate_json(spec), "api",
                   self._vault.open(sealed) if sealed else None, created)
            for id_, owner, spec, sealed, created in rows
        ]

    def set_arming(self, camera_id: str, arming: Arming) -> None:
        self._sql.execute(
            "INSERT INTO arming (camera_id, arming) VALUES (?, ?) "
            "ON CONFLICT (camera_id) DO UPDATE SET arming = excluded.arming",
            (camera_id, arming.model_dump_json()),
        )

    def arming_changes(self) -> dict[str, Arming]:
        rows = self._sql.all("SELECT camera_id, arming FROM arming")
        return {camera_id: Arming.model_validate(json.loads(raw)) for camera_id, raw in rows}

    def close(self) -> None:
        self._sql.close()
