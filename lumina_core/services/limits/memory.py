"""Fixed-window counters in this process: the rate limits' store when no Redis is configured."""

from __future__ import annotations

import threading
import time

from limits.aio.storage import Storage


class FixedWindowMemory(Storage):
    """What ``limits``' ``async+memory`` storage does for fixed windows, at a fraction of the cost.

    That storage starts an asyncio task to sweep expired keys on almost every increment, which
    costs a request more than the rest of its rate limiting together. Here a window ends when
    it is next touched, and the table is swept only when it has grown to ``max_keys``.
    """

    STORAGE_SCHEME = ["async+lumina-memory"]

    def __init__(self, uri: str | None = None, *, max_keys: int = 100_000, **options: float | str | bool) -> None:
        self._windows: dict[str, list[float]] = {}  # key → [count, expires_at]
        self._lock = threading.Lock()  # plugins may count from their own threads
        self._max_keys = max_keys
        super().__init__(uri, **options)

    def __len__(self) -> int:
        """Windows held, expired ones included until they are touched or swept."""
        return len(self._windows)

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            window = self._windows.get(key)
            if window is None or window[1] <= now:
                if len(self._windows) >= self._max_keys:
                    self._sweep(now)
                window = self._windows[key] = [0, now + expiry]
            window[0] += amount
            return int(window[0])

    async def get(self, key: str) -> int:
        window = self._live(key)
        return int(window[0]) if window else 0

    async def get_expiry(self, key: str) -> float:
        window = self._live(key)
        return window[1] if window else time.time()

    async def check(self) -> bool:
        return True

    async def reset(self) -> int | None:
        with self._lock:
            count = len(self._windows)
            self._windows.clear()
        return count

    async def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)

    def _live(self, key: str) -> list[float] | None:
        window = self._windows.get(key)
        return window if window is not None and window[1] > time.time() else None

    def _sweep(self, now: float) -> None:
        for key in [k for k, (_, expires_at) in self._windows.items() if expires_at <= now]:
            del self._windows[key]
