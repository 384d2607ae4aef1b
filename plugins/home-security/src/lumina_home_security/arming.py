"""Arming: whether a camera's motion raises an alert right now (armed, disarmed, or a schedule).

A schedule is a list of weekly time windows in the plugin's time zone; a window whose end is
not after its start runs past midnight and belongs to the day it starts on ("fri 22:00-06:00"
covers Friday night into Saturday morning).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Window(BaseModel):
    """One weekly window: on ``days``, from ``start`` to ``end`` (local time)."""

    model_config = ConfigDict(extra="forbid")

    days: list[Day] = Field(default_factory=lambda: list(DAYS), min_length=1)
    start: time
    end: time

    def covers(self, moment: datetime) -> bool:
        """True when the local ``moment`` falls in this window (started today or, past midnight, yesterday)."""
        today, clock = DAYS[moment.weekday()], moment.time().replace(tzinfo=None)
        if self.start < self.end:
            return today in self.days and self.start <= clock < self.end
        yesterday = DAYS[(moment - timedelta(days=1)).weekday()]
        return (today in self.days and clock >= self.start) or (yesterday in self.days and clock < self.end)


class Arming(BaseModel):
    """``armed``, ``disarmed``, or ``schedule`` (armed during any of the windows)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["armed", "disarmed", "schedule"] = "armed"
    schedule: list[Window] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _schedule_has_windows(self) -> Arming:
        if self.mode == "schedule" and not self.schedule:
            raise ValueError("mode 'schedule' needs at least one window, e.g. {\"start\": \"22:00\", \"end\": \"06:00\"}")
        return self

    def armed_at(self, timestamp: float, zone: ZoneInfo) -> bool:
        if self.mode != "schedule":
            return self.mode == "armed"
        moment = datetime.fromtimestamp(timestamp, zone)
        return any(window.covers(moment) for window in self.schedule)
