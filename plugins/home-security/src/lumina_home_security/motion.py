"""Motion detection for one camera: a background model, confirmed by frame differencing.

Each frame is reduced to a small blurred grey picture (downscaling and blurring average sensor
noise away) and compared with a running-average background whose brightness is first matched
to the frame's: a cloud, a dimmer or the camera's exposure scale every pixel alike, so they
cancel out. A pixel is foreground when it differs by more than the larger of a floor set by the
camera's sensitivity and a multiple of the noise measured in this very frame. Specks are opened
away; a blob counts only when it is at least ``min_area`` of the picture and part of it also
changed since the previous frame, so the ghost of an object that left, or a slow drift the
background has not caught up with yet, does not move and does not count. The background learns
every frame, slowly where there is foreground, so a car parked for good becomes background.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

ANALYSIS_WIDTH = 320
BLUR = (5, 5)
NOISE_MULTIPLE = 4.0
#: Every how many watched pixels one is read for the light's gain and the noise.
SAMPLE_STRIDE = 7
#: Of a blob, the share that must have changed since the previous frame for it to be moving.
MOVING_SHARE = 0.05
SPECK = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
#: Parts of one mover closer than this (at analysis size) are one blob: a low-contrast figure breaks up.
JOIN = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15))

Polygon = Sequence[Sequence[float]]


@dataclass(frozen=True)
class DetectionSettings:
    """How one camera detects: see the module's docstring for what each setting moves."""

    sensitivity: float = 0.5
    min_area: float = 0.005
    masks: tuple[Polygon, ...] = ()
    learning_rate: float = 0.05

    @property
    def threshold_floor(self) -> float:
        """Grey levels (of 255) a pixel must change by at least: 4 at sensitivity 1, 28 at 0."""
        return 4.0 + 24.0 * (1.0 - self.sensitivity)


@dataclass(frozen=True)
class Box:
    """A moving region, in pixels of the original frame."""

    x: int
    y: int
    w: int
    h: int

    def to_dict(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h}


@dataclass(frozen=True)
class Motion:
    """What one frame showed: ``score`` is the share of the watched picture that moved."""

    score: float
    boxes: tuple[Box, ...]

    @property
    def detected(self) -> bool:
        return bool(self.boxes)


NO_MOTION = Motion(0.0, ())


class MotionDetector:
    """The background model of one camera; feed it every frame in order."""

    def __init__(self, settings: DetectionSettings) -> None:
        self.settings = settings
        self._background: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self._watched: np.ndarray | None = None
        self._sample: np.ndarray = np.empty(0, np.intp)
        self._scale = 1.0

    def detect(self, frame: np.ndarray) -> Motion:
        """The motion in ``frame`` (a BGR or grey picture) against what came before."""
        grey = self._prepare(frame)
        if self._background is None or self._background.shape != grey.shape:
            self._start(grey, frame.shape[1], frame.shape[0])
            return NO_MOTION
        background, previous, watched = self._background, self._previous, self._watched
        foreground = self._differs(grey, background, watched)
        foreground = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, SPECK)
        changed = self._differs(grey, previous, watched)
        motion = self._moving_blobs(foreground, changed)
        self._learn(grey, foreground)
        self._previous = grey
        return motion

    def _prepare(self, frame: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        height, width = grey.shape
        if width > ANALYSIS_WIDTH:
            size = (ANALYSIS_WIDTH, max(1, round(height * ANALYSIS_WIDTH / width)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(grey, BLUR, 0).astype(np.float32)

    def _start(self, grey: np.ndarray, width: int, height: int) -> None:
        self._background, self._previous = grey.copy(), grey
        self._scale = width / grey.shape[1]
        self._watched = watched_area(grey.shape, self.settings.masks)
        self._sample = np.flatnonzero(self._watched.ravel())[::SAMPLE_STRIDE]

    def _differs(self, grey: np.ndarray, reference: np.ndarray, watched: np.ndarray) -> np.ndarray:
        """Pixels of ``grey`` unlike ``reference`` once the light is matched, as a 0/255 mask.

        The light's gain and the noise are medians over a sample of the watched pixels: as
        good as all of them for a statistic of the whole picture, and several times cheaper."""
        sample = self._sample
        if sample.size == 0:
            return np.zeros_like(watched)
        gain = float(np.median(grey.ravel()[sample] / np.maximum(reference.ravel()[sample], 1.0)))
        difference = cv2.absdiff(grey, np.minimum(reference * gain, 255.0))  # both saturate alike
        noise = 1.4826 * float(np.median(difference.ravel()[sample]))
        threshold = max(self.settings.threshold_floor, NOISE_MULTIPLE * noise)
        _, mask = cv2.threshold(difference, threshold, 255, cv2.THRESH_BINARY)
        return cv2.bitwise_and(mask.astype(np.uint8), watched)

    def _moving_blobs(self, foreground: np.ndarray, changed: np.ndarray) -> Motion:
        """Blobs of foreground (parts close together joined) large enough and moving."""
        count, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(foreground, JOIN), connectivity=8)
        watched_pixels = max(int(np.count_nonzero(self._watched)), 1)
        smallest = self.settings.min_area * watched_pixels
        boxes, moved = [], 0
        for label in range(1, count):
            x, y, w, h, _ = (int(v) for v in stats[label])
            blob = (labels[y : y + h, x : x + w] == label) & (foreground[y : y + h, x : x + w] > 0)
            area = int(np.count_nonzero(blob))
            if area < smallest or np.count_nonzero(changed[y : y + h, x : x + w][blob]) < MOVING_SHARE * area:
                continue
            boxes.append(self._in_frame(x, y, w, h))
            moved += area
        return Motion(round(moved / watched_pixels, 4), tuple(boxes)) if boxes else NO_MOTION

    def _in_frame(self, x: int, y: int, w: int, h: int) -> Box:
        s = self._scale
        return Box(round(x * s), round(y * s), round(w * s), round(h * s))

    def _learn(self, grey: np.ndarray, foreground: np.ndarray) -> None:
        rate = self.settings.learning_rate
        still = cv2.bitwise_not(foreground)
        cv2.accumulateWeighted(grey, self._background, rate, mask=still)
        cv2.accumulateWeighted(grey, self._background, rate / 10.0, mask=foreground)


def watched_area(shape: tuple[int, int], masks: Sequence[Polygon]) -> np.ndarray:
    """255 where the camera watches, 0 inside the ignore masks (polygons in 0..1 coordinates)."""
    height, width = shape
    watched = np.full(shape, 255, np.uint8)
    for polygon in masks:
        points = np.array([[round(x * (width - 1)), round(y * (height - 1))] for x, y in polygon], np.int32)
        cv2.fillPoly(watched, [points], 0)
    return watched
