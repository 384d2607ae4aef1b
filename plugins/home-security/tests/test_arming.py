"""Arming: armed, disarmed, and weekly windows in the plugin's time zone, past midnight too."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from lumina_home_security.arming import Arming

PARIS = ZoneInfo("Europe/Paris")
NIGHTS = Arming(mode="schedule", schedule=[{"days": ["fri"], "start": "22:00", "end": "06:00"}])


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).timestamp()


def test_armed_and_disarmed_do_not_depend_on_the_time() -> None:
    assert Arming(mode="armed").armed_at(at("2026-05-01T12:00"), PARIS)
    assert not Arming(mode="disarmed").armed_at(at("2026-05-01T12:00"), PARIS)


@pytest.mark.parametrize(("moment", "armed"), [
    ("2026-05-01T21:59", False),  # a Friday
    ("2026-05-01T22:00", True),
    ("2026-05-02T05:59", True),   # Saturday morning: still Friday's night
    ("2026-05-02T06:00", False),
    ("2026-05-02T23:00", False),  # Saturday night is not in the schedule
])
def test_a_window_past_midnight_belongs_to_the_day_it_starts(moment: str, armed: bool) -> None:
    assert NIGHTS.armed_at(at(moment), PARIS) is armed


def test_a_schedule_needs_a_window() -> None:
    with pytest.raises(ValidationError, match="at least one window"):
        Arming(mode="schedule")
