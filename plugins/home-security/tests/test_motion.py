"""Motion detection on the test clips: the real photo with a figure walking through it, and the
same photo under changing light and heavy sensor noise, which must never count as motion."""

from __future__ import annotations

import pytest

from lumina_home_security.motion import DetectionSettings, MotionDetector


def detections(frames, settings: DetectionSettings = DetectionSettings()) -> list:
    detector = MotionDetector(settings)
    return [detector.detect(frame.picture()) for frame in frames]


def test_a_figure_walking_across_the_photo_is_seen_in_every_frame_it_moves(kit, walk) -> None:
    found = detections(walk)
    assert [m.detected for m in found] == [frame.moving for frame in walk]


def test_the_box_frames_the_figure(kit, walk) -> None:
    middle = 30  # the figure's left edge is near x = 280, its top near y = 200; it is 80 x 200 pixels
    motion = detections(walk[: middle + 1])[middle]
    (box,) = motion.boxes
    x = round(-30 + (middle - 15) / 29 * (640 - 60))
    assert abs(box.x - x) < 30 and abs(box.y - 200) < 30
    assert 40 <= box.w <= 140 and 150 <= box.h <= 240
    assert 0.01 < motion.score < 0.1


@pytest.mark.parametrize("name", ["dusk", "lamp_switched_on", "exposure_hunting", "sensor_noise"])
def test_light_changes_and_sensor_noise_are_not_motion(kit, name: str) -> None:
    assert not any(m.detected for m in detections(kit.clips.named(name)))


@pytest.mark.parametrize("name", ["walk_at_dusk", "walk_in_noise"])
def test_the_figure_is_still_seen_at_dusk_and_in_noise(kit, name: str) -> None:
    frames = kit.clips.named(name)
    found = [m.detected for m in detections(frames)]
    moving = [f.moving for f in frames]
    assert not any(f and not m for f, m in zip(found, moving, strict=True)), "no motion outside the walk"
    assert sum(f and m for f, m in zip(found, moving, strict=True)) >= 0.9 * sum(moving)


def test_a_masked_region_is_ignored(kit, walk) -> None:
    whole_picture = [[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]]
    left_half = [[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]]
    assert not any(m.detected for m in detections(walk, DetectionSettings(masks=whole_picture)))
    seen = [m.detected for m in detections(walk, DetectionSettings(masks=left_half))]
    assert not any(seen[15:25]) and all(seen[36:44])  # it walks left to right


def test_motion_smaller_than_min_area_is_ignored(kit, walk) -> None:
    assert not any(m.detected for m in detections(walk, DetectionSettings(min_area=0.2)))
