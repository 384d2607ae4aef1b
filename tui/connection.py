"""How the dashboard knows the server is there: a heartbeat with exponential backoff and jitter.

The state is what the header shows ("connected", "disconnected, retrying in 4 s"); views read
``connected`` to skip polling while the server is away and refresh at once when it is back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class Link(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    UNAUTHENTICATED = "unauthenticated"


@dataclass
class Backoff:
    """Delays that double after each failure up to ``maximum``, with jitter against storms."""

    initial: float = 1.0
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2
    attempt: int = 0

    def next_delay(self) -> float:
        """The wait before the next try; counts one more failed attempt."""
        base = min(self.maximum, self.initial * self.factor**self.attempt)
        self.attempt += 1
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)

    def reset(self) -> None:
        self.attempt = 0


@dataclass(frozen=True)
class Status:
    """What the header says about the link to the server."""

    link: Link
    url: str
    retry_in_s: int = 0
    attempt: int = 0
    version: str = ""

    def describe(self) -> str:
        if self.link is Link.CONNECTED:
            version = f" · lumina {self.version}" if self.version else ""
            return f"● connected to {self.url}{version}"
        if self.link is Link.DISCONNECTED:
            wait = f"retrying in {self.retry_in_s} s" if self.retry_in_s > 0 else "retrying now"
            return f"○ disconnected, {wait} (attempt {self.attempt}) · {self.url}"
        if self.link is Link.UNAUTHENTICATED:
            return f"○ {self.url} wants a token: ctrl+t enters one"
        return f"… connecting to {self.url}"
