"""Home-security benchmark: how many frames a camera's watch analyses per second, and how well
it finds motion, side by side with a naive pixel-difference detector.

    .venv/bin/python -m ops.bench.security [--frames 150] [--cameras 1 2 4]

* Speed: the work a watch does for every frame at 640×480 (JPEG decode, then motion
  detection), for 1, 2 and 4 cameras at once on a pool of two threads (this machine's 2 cores;
  OpenCV releases the GIL), as frames per second per camera. The goal is 15.
* Through the host: real MJPEG cameras served on 127.0.0.1 at 30 frames/s, watched by a
  running host with the plugin (``max_fps`` 30), frames analysed per second per camera over
  ``--seconds``: what the watches keep up with, event loop, threads and HTTP included.
* Quality: precision and recall, frame by frame, on the test clips (the real photo of
  ``plugins/home-security/tests/data`` with a figure walking through it, and the same photo at
  dusk, under a lamp switched on, a hunting exposure and heavy sensor noise, where nothing
  moves), and how many of the clips without motion raised at least one false alarm.
* Baseline: grey-level difference with the previous frame above 25 in more than 0.5 % of the
  pixels (the same minimum area as the detector's default), run on the same frames.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np

from lumina_core.testing import host_settings, running_host
from lumina_home_security.motion import DetectionSettings, MotionDetector
from lumina_home_security.watch import decode

ROOT = Path(__file__).resolve().parents[2]
CLIPS_FILE = ROOT / "plugins" / "home-security" / "tests" / "clips.py"
SERVERS_FILE = ROOT / "plugins" / "home-security" / "tests" / "camera_servers.py"
THREADS = 2
NAIVE_THRESHOLD, NAIVE_SHARE = 25, 0.005


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class NaiveDetector:
    """The baseline: changed pixels against the previous frame, no light or noise handling."""

    def __init__(self) -> None:
        self._previous: np.ndarray | None = None

    def detect(self, picture: np.ndarray) -> bool:
        grey = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
        previous, self._previous = self._previous, grey
        if previous is None:
            return False
        return np.count_nonzero(cv2.absdiff(grey, previous) > NAIVE_THRESHOLD) > NAIVE_SHARE * grey.size


def ours() -> Callable[[np.ndarray], bool]:
    detector = MotionDetector(DetectionSettings())
    return lambda picture: detector.detect(picture).detected


def naive() -> Callable[[np.ndarray], bool]:
    return NaiveDetector().detect


DETECTORS = {"home-security": ours, "naive pixel diff": naive}


Detector = Callable[[], Callable[[np.ndarray], bool]]


def camera_fps(make: Detector, jpegs: Sequence[bytes], cameras: int) -> tuple[float, float]:
    """Frames per second per camera when ``cameras`` watches share the pool (decode + detect),
    and the CPU milliseconds one frame costs (what a shared machine cannot inflate)."""
    def watch(_: int) -> float:
        detect = make()
        started = time.perf_counter()
        for jpeg in jpegs:
            detect(decode(jpeg))
        return len(jpegs) / (time.perf_counter() - started)

    cpu_started = time.process_time()
    with ThreadPoolExecutor(THREADS) as pool:
        rates = list(pool.map(watch, range(cameras)))
    cpu_ms = (time.process_time() - cpu_started) * 1000 / (len(jpegs) * cameras)
    return float(np.mean(rates)), cpu_ms


async def host_fps(jpegs: Sequence[bytes], cameras: int, seconds: float) -> float:
    """Frames analysed per second per camera by a running host watching ``cameras`` MJPEG streams."""
    servers = load("home_security_camera_servers", SERVERS_FILE)
    with ExitStack() as running:
        streams = [running.enter_context(servers.MjpegCamera(jpegs, fps=30)) for _ in range(cameras)]
        settings = host_settings(Path(tempfile.mkdtemp()), ["home-security"])
        async with running_host(settings) as host:
            for index, stream in enumerate(streams):
                body = {"id": f"cam{index}", "name": f"Camera {index}", "source": "mjpeg", "url": f"{stream.url}/v",
                        "detection": {"max_fps": 30}, "arming": {"mode": "disarmed"}}
                assert (await host.client.post("/security/cameras", json=body)).status_code == 201
            await asyncio.sleep(2.0)  # connected, background models started
            before = await _frames(host, cameras)
            await asyncio.sleep(seconds)
            after = await _frames(host, cameras)
    return float(np.mean([(a - b) / seconds for a, b in zip(after, before, strict=True)]))


async def _frames(host, cameras: int) -> list[int]:
    return [(await host.client.get(f"/security/cameras/cam{i}")).json()["status"]["frames"] for i in range(cameras)]


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    false_alarm_clips: int = 0

    @property
    def precision(self) -> float:
        return self.tp / max(self.tp + self.fp, 1)

    @property
    def recall(self) -> float:
        return self.tp / max(self.tp + self.fn, 1)


def quality(make: Detector, clips: dict[str, list]) -> Score:
    score = Score()
    for frames in clips.values():
        detect = make()
        found = [detect(frame.picture()) for frame in frames]
        truth = [frame.moving for frame in frames]
        score.tp += sum(f and t for f, t in zip(found, truth, strict=True))
        score.fp += sum(f and not t for f, t in zip(found, truth, strict=True))
        score.fn += sum(t and not f for f, t in zip(found, truth, strict=True))
        score.false_alarm_clips += not any(truth) and any(found)
    return score


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150, help="frames per camera in the speed runs")
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long the host-level run counts frames")
    options = parser.parse_args()
    cv2.setNumThreads(1)  # one core per camera thread, as the watches run
    clips_module = load("home_security_clips", CLIPS_FILE)
    clips = {name: clips_module.named(name) for name in clips_module.CLIPS}
    walk = [frame.jpeg for frame in clips["walk"]]
    jpegs = (walk * (options.frames // len(walk) + 1))[: options.frames]
    print(f"speed: 640x480 JPEG frames, decode + detect, {THREADS} threads, {options.frames} frames per camera")
    print(f"{'cameras':>8} | {'home-security f/s per camera':>28} | {'naive f/s per camera':>20} | ratio"
          f" | CPU ms per frame (home-security, naive)")
    for cameras in options.cameras:
        (mine, mine_ms), (base, base_ms) = (camera_fps(DETECTORS[name], jpegs, cameras) for name in DETECTORS)
        print(f"{cameras:>8} | {mine:>28.1f} | {base:>20.1f} | {mine / base:.2f} | {mine_ms:.1f}, {base_ms:.1f}")
    print(f"\nthrough the host: MJPEG cameras at 30 f/s, {options.seconds:g} s counted")
    for cameras in (1, max(options.cameras)):
        rate = asyncio.run(host_fps(walk, cameras, options.seconds))
        print(f"{cameras:>8} camera(s) | {rate:>6.1f} f/s analysed per camera")
    still = sum(not any(f.moving for f in frames) for frames in clips.values())
    moving = sum(f.moving for frames in clips.values() for f in frames)
    total = sum(len(frames) for frames in clips.values())
    print(f"\nquality: {len(clips)} clips, {total} frames ({moving} with motion), {still} clips without motion")
    print(f"{'detector':>18} | precision | recall | false alarms (clips without motion)")
    for name, make in DETECTORS.items():
        score = quality(make, clips)
        print(f"{name:>18} | {score.precision:>9.3f} | {score.recall:>6.3f} | {score.false_alarm_clips} of {still}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
