"""The daily summary: the day's motion events told in a few sentences by the language model.

The figures (events per camera, armed or not, the busiest hour) are counted here and given to
the model as facts, so the prose can only retell them; a day without events needs no model.
Summaries are kept, one per owner and day, and written again on request.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lumina_core.storage import SQLiteFile
from lumina_home_security.events import EventLog, MotionEvent, iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS summaries (
    owner TEXT NOT NULL,
    day TEXT NOT NULL,
    text TEXT NOT NULL,
    facts TEXT NOT NULL,
    model TEXT,
    written_at REAL NOT NULL,
    PRIMARY KEY (owner, day)
);
"""
MAX_EVENTS = 5000
SYSTEM = (
    "You write the daily report of a home security system for the people who live there. "
    "Use only the facts given; do not invent events. Three to five plain sentences."
)


@dataclass(frozen=True)
class Summary:
    owner: str
    day: str
    text: str
    facts: str
    model: str | None
    written_at: float

    def public(self) -> dict[str, Any]:
        return {"date": self.day, "text": self.text, "facts": self.facts.splitlines(), "model": self.model,
                "written_at": iso(self.written_at)}


def day_bounds(day: date, zone: ZoneInfo) -> tuple[float, float]:
    start = datetime.combine(day, datetime.min.time(), zone)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


def facts(day: date, events: list[MotionEvent], zone: ZoneInfo) -> list[str]:
    """The day's figures as short lines, the model's only source."""
    if not events:
        return [f"{day.isoformat()}: no motion was detected by any camera."]
    lines = [f"{day.isoformat()}: {len(events)} motion events in total."]
    for name, count in Counter(e.camera_name for e in events).most_common():
        of_camera = [e for e in events if e.camera_name == name]
        armed = sum(e.armed for e in of_camera)
        times = sorted(e.ts for e in of_camera)
        first, last = (datetime.fromtimestamp(t, zone).strftime("%H:%M") for t in (times[0], times[-1]))
        lines.append(f"Camera '{name}': {count} events ({armed} while armed, so alerted), first at {first}, last at {last}.")
    hour, busiest = Counter(datetime.fromtimestamp(e.ts, zone).hour for e in events).most_common(1)[0]
    lines.append(f"Busiest hour: {hour:02d}:00-{hour + 1:02d}:00 with {busiest} events.")
    strongest = max(events, key=lambda e: e.score)
    lines.append(f"Largest motion: camera '{strongest.camera_name}' at "
                 f"{datetime.fromtimestamp(strongest.ts, zone).strftime('%H:%M')}, {strongest.score:.0%} of the picture.")
    return lines


class SummaryBook:
    def __init__(self, path: Path, events: EventLog, llm: Any, zone: ZoneInfo, *, max_tokens: int) -> None:
        self._sql = SQLiteFile(path, SCHEMA)
        self._events, self._llm, self._zone = events, llm, zone
        self._max_tokens = max_tokens

    async def write(self, owner: str, day: date) -> Summary:
        start, end = day_bounds(day, self._zone)
        events, _ = self._events.page(owner, camera=None, since=start, until=end, limit=MAX_EVENTS, offset=0)
        lines = facts(day, events, self._zone)
        text, model = lines[0], None
        if events:
            result = await self._llm.chat(
                [{"role": "system", "content": SYSTEM},
                 {"role": "user", "content": "Facts:\n" + "\n".join(lines) + "\n\nReport:"}],
                max_tokens=self._max_tokens, temperature=0.2,
            )
            text, model = result.text.strip() or "\n".join(lines), result.model
        summary = Summary(owner, day.isoformat(), text, "\n".join(lines), model, time.time())
        self._sql.execute(
            "INSERT INTO summaries VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (owner, day) DO UPDATE SET "
            "text = excluded.text, facts = excluded.facts, model = excluded.model, written_at = excluded.written_at",
            (owner, summary.day, summary.text, summary.facts, model, summary.written_at),
        )
        return summary

    def get(self, owner: str, day: date) -> Summary | None:
        row = self._sql.one("SELECT * FROM summaries WHERE owner = ? AND day = ?", (owner, day.isoformat()))
        return Summary(*row) if row else None

    def close(self) -> None:
        self._sql.close()
