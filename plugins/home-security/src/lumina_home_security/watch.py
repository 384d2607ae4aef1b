"""One camera's watch: frames from its source, motion from its detector, events from the motion.

The watch is a background task. It takes the newest frame whenever it is ready for one (a
stream faster than ``max_fps`` loses frames, never freshness), decodes and analyses it in a
worker thread (the event loop keeps serving), and turns motion into events: an event starts
after ``min_frames`` frames in a row with motion and ends after ``cooldown_s`` quiet seconds.
Anything that goes wrong (an unreachable URL, a frame that is not a picture, a bug) shows as
the camera's ``error`` state with its message, and the watch tries again, backing off; it never
ends on its own and never reaches the host.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import cv2
import numpy as np

from lumina_home_security.cameras import Camera
from lumina_home_security.events import iso
from lumina_home_security.motion import DetectionSettings, Motion, MotionDetector
from lumina_home_security.sources import CameraProblem, FrameSource, keep_newest

log = logging.getLogger("lumina.plugin.home-security.watch")

BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
THUMBNAIL_WIDTH = 320
FPS_SMOOTHING = 0.2
State = Literal["starting", "live", "error"]


@dataclass
class CameraStatus:
    state: State = "starting"
    error: str | None = None
    frames: int = 0
    fps: float = 0.0
    last_frame_at: float | None = None
    last_motion_at: float | None = None

    def public(self) -> dict[str, Any]:
        return {
            "state": self.state, "error": self.error, "frames": self.frames, "fps": round(self.fps, 1),
            "last_frame_at": iso(self.last_frame_at) if self.last_frame_at else None,
            "last_motion_at": iso(self.last_motion_at) if self.last_motion_at else None,
        }


class MotionSink(Protocol):
    async def motion_started(self, watch: CameraWatch, picture: np.ndarray, motion: Motion, ts: float) -> None: ...

    async def motion_ended(self, watch: CameraWatch) -> None: ...


class UnreadableFrame(CameraProblem):
    """A frame that does not decode as a picture."""


class CameraWatch:
    def __init__(self, camera: Camera, source: FrameSource, sink: MotionSink) -> None:
        self.camera, self.status = camera, CameraStatus()
        #: The last frame as the camera sent it (JPEG or PNG), for ``/snapshot``.
        self.latest: bytes | None = None
        self._source, self._sink = source, sink
        detection = camera.spec.detection
        self._detector = MotionDetector(DetectionSettings(
            detection.sensitivity, detection.min_area, tuple(tuple(p) for p in detection.masks)))
        self._streak, self._in_event = 0, False

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                async for encoded in newest(self._source.frames()):
                    if await self._take(encoded):
                        attempt = 0
            except CameraProblem as exc:
                self._failed(exc.message)
            except Exception as exc:  # noqa: BLE001 - a camera's bug must not end its watch, nor the host
                log.exception("camera '%s' failed", self.camera.id)
                self._failed(f"unexpected error: {type(exc).__name__}: {exc}")
            await asyncio.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
            attempt += 1

    async def _take(self, encoded: bytes) -> bool:
        """Analyse one frame, then wait out the camera's frame budget; False when it was unreadable."""
        started = time.monotonic()
        try:
            picture, motion = await asyncio.to_thread(self._analyse, encoded)
        except UnreadableFrame as exc:
            self._failed(exc.message)
            return False
        now = time.time()
        self._saw_frame(encoded, now, started)
        await self._follow(picture, motion, now)
        spacing = 1.0 / self.camera.spec.detection.max_fps
        await asyncio.sleep(max(0.0, spacing - (time.monotonic() - started)))
        return True

    def _analyse(self, encoded: bytes) -> tuple[np.ndarray, Motion]:
        picture = decode(encoded)
        if picture is None:
            raise UnreadableFrame(
                f"camera '{self.camera.id}' sent a frame that is not a readable JPEG or PNG picture "
                f"({len(encoded)} bytes, starting {encoded[:8].hex() or 'empty'}): check that its source sends pictures"
            )
        return picture, self._detector.detect(picture)

    def _saw_frame(self, encoded: bytes, now: float, started: float) -> None:
        status = self.status
        if status.last_frame_at is not None:
            rate = 1.0 / max(now - status.last_frame_at, 1e-3)
            status.fps = rate if status.frames <= 1 else (1 - FPS_SMOOTHING) * status.fps + FPS_SMOOTHING * rate
        status.state, status.error = "live", None
        status.frames += 1
        status.last_frame_at = now
        self.latest = encoded

    async def _follow(self, picture: np.ndarray, motion: Motion, now: float) -> None:
        """Start an event after ``min_frames`` frames of motion, end it after ``cooldown_s`` of quiet."""
        detection = self.camera.spec.detection
        self._streak = self._streak + 1 if motion.detected else 0
        if motion.detected:
            self.status.last_motion_at = now
        if not self._in_event and self._streak >= detection.min_frames:
            self._in_event = True
            await self._sink.motion_started(self, picture, motion, now)
        elif self._in_event and now - (self.status.last_motion_at or now) >= detection.cooldown_s:
            self._in_event = False
            await self._sink.motion_ended(self)

    def _failed(self, message: str) -> None:
        if self.status.error != message:
            log.warning("camera '%s': %s", self.camera.id, message)
        self.status.state, self.status.error = "error", message


def decode(encoded: bytes) -> np.ndarray | None:
    if not encoded:
        return None
    return cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR)


def thumbnail(picture: np.ndarray, motion: Motion) -> bytes:
    """A small JPEG of the frame with each moving region framed in red."""
    scale = min(1.0, THUMBNAIL_WIDTH / picture.shape[1])
    small = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else picture.copy()
    for box in motion.boxes:
        top_left = (round(box.x * scale), round(box.y * scale))
        bottom_right = (round((box.x + box.w) * scale), round((box.y + box.h) * scale))
        cv2.rectangle(small, top_left, bottom_right, (0, 0, 255), 2)
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok, "OpenCV encodes any picture it decoded"
    return encoded.tobytes()


async def newest(frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``frames`` read continuously in the background; each step gives the newest one not yet
    taken, so a consumer slower than the camera skips frames instead of falling behind."""
    slot: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1)
    put = keep_newest(slot)
    finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def pump() -> None:
        try:
            async for frame in frames:
                put(frame)
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            if not finished.done():
                finished.set_exception(exc)
            return
        if not finished.done():
            finished.set_result(None)

    reader = asyncio.get_running_loop().create_task(pump())
    try:
        while True:
            taken = asyncio.ensure_future(slot.get())
            await asyncio.wait({taken, finished}, return_when=asyncio.FIRST_COMPLETED)
            if taken.done():
                yield taken.result()
                continue
            taken.cancel()
            finished.result()  # raises the source's problem
            return
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        if finished.done() and not finished.cancelled():
            finished.exception()  # mark it retrieved
