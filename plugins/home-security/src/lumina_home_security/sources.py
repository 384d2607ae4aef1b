"""Where a camera's frames come from: a snapshot URL polled, an MJPEG stream, an MQTT topic,
or a folder where frames are dropped.

Every source is an async iterator of encoded pictures (JPEG or PNG bytes). A source that cannot
deliver raises :class:`CameraProblem` with a sentence saying what is wrong and how to fix it; the
camera's watch shows it as the camera's error and tries again a little later.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol

import httpx

from lumina_core.errors import Unavailable, ValidationFailed
from lumina_home_security.cameras import Camera
from lumina_home_security.mjpeg import MjpegParser, boundary_of
from lumina_home_security.mqtt import MqttLink
from lumina_home_security.vault import Credentials

SNAPSHOT_TIMEOUT = httpx.Timeout(10.0)
STREAM_TIMEOUT = httpx.Timeout(10.0, read=30.0)
MAX_PICTURE = 16 * 1024 * 1024
PICTURE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
#: A dropped file younger than this may still be being written.
SETTLED_S = 0.2
#: How long an MQTT camera waits for a frame before checking that the broker is still there.
MQTT_PATIENCE_S = 5.0


class CameraProblem(Unavailable):
    """A camera cannot deliver frames; the message says why and what to do."""


class FrameSource(Protocol):
    def frames(self) -> AsyncIterator[bytes]: ...


def frame_source(camera: Camera, *, http: Any, mqtt: MqttLink | None) -> FrameSource:
    spec = camera.spec
    if spec.source == "snapshot":
        return SnapshotSource(http, spec.url, spec.interval_s, camera.credentials)
    if spec.source == "mjpeg":
        return MjpegSource(http, spec.url, camera.credentials)
    if spec.source == "mqtt":
        return MqttSource(mqtt, spec.topic)
    return FolderSource(Path(spec.folder), spec.interval_s)


def http_auth(credentials: Credentials | None) -> httpx.Auth | None:
    if credentials is None:
        return None
    password = credentials.password or ""
    if credentials.scheme == "digest":
        return httpx.DigestAuth(credentials.username, password)
    return httpx.BasicAuth(credentials.username, password)


class SnapshotSource:
    """A still-image URL, fetched every ``interval_s`` seconds."""

    def __init__(self, http: Any, url: str, interval_s: float, credentials: Credentials | None) -> None:
        self._http, self._url, self._interval = http, url, interval_s
        self._auth = http_auth(credentials)

    async def frames(self) -> AsyncIterator[bytes]:
        while True:
            started = time.monotonic()
            yield await self.fetch()
            await asyncio.sleep(max(0.0, self._interval - (time.monotonic() - started)))

    async def fetch(self) -> bytes:
        try:
            async with self._http.stream("GET", self._url, auth=self._auth, timeout=SNAPSHOT_TIMEOUT) as response:
                check_answer(response, self._url)
                picture = bytearray()
                async for chunk in response.aiter_bytes():
                    picture += chunk
                    if len(picture) > MAX_PICTURE:
                        raise CameraProblem(f"{self._url} sent more than {MAX_PICTURE // 2**20} MiB: not a snapshot")
                return bytes(picture)
        except httpx.HTTPError as exc:
            raise unreachable(self._url, exc) from None


class MjpegSource:
    """An MJPEG stream URL: one long answer whose parts are the frames."""

    def __init__(self, http: Any, url: str, credentials: Credentials | None) -> None:
        self._http, self._url = http, url
        self._auth = http_auth(credentials)

    async def frames(self) -> AsyncIterator[bytes]:
        try:
            async with self._http.stream("GET", self._url, auth=self._auth, timeout=STREAM_TIMEOUT) as response:
                check_answer(response, self._url)
                parser = MjpegParser(self._boundary(response))
                async for chunk in response.aiter_bytes():
                    for picture in parser.feed(chunk):
                        yield picture
        except httpx.HTTPError as exc:
            raise unreachable(self._url, exc) from None
        except ValidationFailed as exc:
            raise CameraProblem(f"{self._url}: {exc.message}") from None
        raise CameraProblem(f"the MJPEG stream {self._url} ended (the camera closed it); reconnecting")

    def _boundary(self, response: httpx.Response) -> bytes:
        content_type = response.headers.get("content-type", "")
        try:
            return boundary_of(content_type)
        except ValidationFailed as exc:
            hint = " (for a single picture use source 'snapshot')" if content_type.startswith("image/") else ""
            raise CameraProblem(f"{self._url} is {exc.message}{hint}") from None


class MqttSource:
    """An MQTT topic whose messages are JPEG frames, through the plugin's broker connection."""

    def __init__(self, link: MqttLink | None, topic: str) -> None:
        self._link, self._topic = link, topic

    async def frames(self) -> AsyncIterator[bytes]:
        if self._link is None:
            raise CameraProblem(
                f"camera topic '{self._topic}' needs an MQTT broker, and none is configured: set mqtt_url "
                "in the home-security settings (e.g. mqtt://127.0.0.1:1883)"
            )
        arrived: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1)
        unsubscribe = self._link.subscribe(self._topic, keep_newest(arrived))
        try:
            while True:
                try:
                    yield await asyncio.wait_for(arrived.get(), MQTT_PATIENCE_S)
                except TimeoutError:
                    if self._link.problem:
                        raise CameraProblem(self._link.problem) from None
        finally:
            unsubscribe()


class FolderSource:
    """A folder where a camera (or an FTP upload) drops pictures; each new file is a frame."""

    def __init__(self, folder: Path, interval_s: float) -> None:
        self._folder, self._interval = folder, interval_s
        self._seen: set[str] | None = None

    async def frames(self) -> AsyncIterator[bytes]:
        while True:
            for path in await asyncio.to_thread(self._new_files):
                try:
                    yield await asyncio.to_thread(path.read_bytes)
                except FileNotFoundError:
                    continue  # taken away before it was read
            await asyncio.sleep(self._interval)

    def _new_files(self) -> list[Path]:
        """Pictures that appeared since the last scan (what was there at the start is not replayed)."""
        try:
            entries = [e for e in os.scandir(self._folder)
                       if Path(e.name).suffix.lower() in PICTURE_SUFFIXES and e.is_file()]
        except (FileNotFoundError, NotADirectoryError):
            raise CameraProblem(
                f"the folder {self._folder} does not exist: create it, or correct the camera's 'folder'") from None
        except PermissionError:
            raise CameraProblem(f"the folder {self._folder} cannot be read by Lumina: give it read permission") from None
        present = {e.name: e for e in entries}
        if self._seen is None:
            self._seen = set(present)
            return []
        settled_before = time.time() - SETTLED_S
        new = [e for name, e in present.items() if name not in self._seen and e.stat().st_mtime < settled_before]
        self._seen = (self._seen & set(present)) | {e.name for e in new}
        return [Path(e.path) for e in sorted(new, key=lambda e: (e.stat().st_mtime_ns, e.name))]


def keep_newest(queue: asyncio.Queue[bytes]) -> Callable[[bytes], None]:
    """A sink putting each item into ``queue`` (of size 1), replacing one not taken yet."""

    def put(item: bytes) -> None:
        if queue.full():
            queue.get_nowait()
        queue.put_nowait(item)

    return put


def check_answer(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status in (401, 403):
        advice = "check the camera's username and password"
    elif status == 404:
        advice = "check the path of the URL"
    else:
        advice = "check the camera"
    raise CameraProblem(f"{url} answered {status} {response.reason_phrase}: {advice}")


def unreachable(url: str, error: httpx.HTTPError) -> CameraProblem:
    reason = str(error) or type(error).__name__
    return CameraProblem(f"cannot read {url}: {reason} (is the camera on, and is the URL right?)")
