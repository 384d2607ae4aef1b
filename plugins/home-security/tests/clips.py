"""The test clips: a real photo (``data/scene.jpg``) seen by a camera, with something moving
through it, or only the light and the sensor changing.

Each clip is a list of :class:`Frame`: the picture a 640×480 camera would send (sensor noise,
JPEG compression) and whether something moved in it. The mover is a person-sized figure,
feathered and shaded, composited into the scene, walking across; the light changes (dusk, a
lamp switched on) and the noise apply to the whole picture, mover included, as a real camera
sees them. Everything is seeded, so a clip is the same on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

SCENE = Path(__file__).parent / "data" / "scene.jpg"
WIDTH, HEIGHT = 640, 480


@dataclass(frozen=True)
class Frame:
    jpeg: bytes
    moving: bool

    def picture(self) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(self.jpeg, np.uint8), cv2.IMREAD_COLOR)


@cache
def scene() -> np.ndarray:
    picture = cv2.imread(str(SCENE), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape == (HEIGHT, WIDTH, 3), f"{SCENE} must be a 640x480 photo"
    return picture.astype(np.float32)


@cache
def figure() -> tuple[np.ndarray, np.ndarray]:
    """A walking person's silhouette (alpha, feathered edges) and its shaded, textured colour."""
    alpha = np.zeros((200, 80), np.float32)
    cv2.circle(alpha, (40, 22), 17, 1.0, -1)                         # head
    cv2.ellipse(alpha, (40, 85), (27, 48), 0, 0, 360, 1.0, -1)       # body
    cv2.rectangle(alpha, (22, 120), (36, 198), 1.0, -1)              # legs
    cv2.rectangle(alpha, (44, 120), (58, 198), 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (5, 5), 0)
    rng = np.random.default_rng(3)
    texture = cv2.GaussianBlur(rng.normal(0, 18, alpha.shape).astype(np.float32), (9, 9), 0)
    shade = np.linspace(1.15, 0.75, alpha.shape[1], dtype=np.float32)[None, :]  # lit from the left
    colour = np.stack([(base + texture) * shade for base in (70.0, 45.0, 40.0)], axis=-1)  # a dark jacket (BGR)
    return alpha, colour


def composite(picture: np.ndarray, x: int, y: int) -> np.ndarray:
    """``picture`` with the figure standing with its top-left corner at (x, y), clipped to the frame."""
    alpha, colour = figure()
    h, w = alpha.shape
    top, left, bottom, right = max(y, 0), max(x, 0), min(y + h, HEIGHT), min(x + w, WIDTH)
    if top >= bottom or left >= right:
        return picture
    out = picture.copy()
    a = alpha[top - y : bottom - y, left - x : right - x, None]
    c = colour[top - y : bottom - y, left - x : right - x]
    out[top:bottom, left:right] = out[top:bottom, left:right] * (1 - a) + c * a
    return out


def camera(picture: np.ndarray, *, gain: float, noise: float, quality: int, rng: np.random.Generator) -> bytes:
    """What the camera sends: the light's gain, sensor noise, JPEG compression."""
    sensed = picture * gain + noise * rng.standard_normal(picture.shape, dtype=np.float32)
    ok, encoded = cv2.imencode(".jpg", np.clip(sensed, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return encoded.tobytes()


def clip(
    frames: int, *, walk: range | None = None, gain: Callable[[int], float] = lambda i: 1.0,
    noise: float = 2.5, quality: int = 85, seed: int = 0,
) -> list[Frame]:
    """``frames`` frames; during ``walk`` (frame indexes) the figure crosses the picture."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(frames):
        picture, moving = scene(), False
        if walk is not None and i in walk:
            step = (i - walk.start) / max(len(walk) - 1, 1)
            picture = composite(picture, round(-30 + step * (WIDTH - 60)), 200 + round(8 * np.sin(i)))
            moving = True
        out.append(Frame(camera(picture, gain=gain(i), noise=noise, quality=quality, rng=rng), moving))
    return out


def ramp(start: float, end: float, over: range) -> Callable[[int], float]:
    """A gain going from ``start`` to ``end`` during ``over``, constant before and after."""
    def gain(i: int) -> float:
        share = min(max((i - over.start) / max(len(over), 1), 0.0), 1.0)
        return start + (end - start) * share
    return gain


#: The clips the tests and the benchmark share: name -> frames (and what must be found in them).
CLIPS: dict[str, Callable[[], list[Frame]]] = {
    "walk": lambda: clip(60, walk=range(15, 45), seed=1),
    "walk_at_dusk": lambda: clip(60, walk=range(20, 50), gain=ramp(1.0, 0.6, range(0, 60)), noise=4.0, seed=2),
    "dusk": lambda: clip(80, gain=ramp(1.0, 0.5, range(0, 80)), seed=3),
    "lamp_switched_on": lambda: clip(40, gain=ramp(0.7, 1.2, range(18, 21)), seed=4),
    "sensor_noise": lambda: clip(60, noise=12.0, quality=75, seed=5),
    "walk_in_noise": lambda: clip(60, walk=range(15, 45), noise=10.0, quality=75, seed=6),
    "exposure_hunting": lambda: clip(60, gain=lambda i: 1.0 + 0.2 * np.sin(i / 1.2), seed=7),
}


@cache
def named(name: str) -> list[Frame]:
    """One of :data:`CLIPS`, made once per process."""
    return CLIPS[name]()
