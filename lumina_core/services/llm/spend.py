"""What paid models cost: a ledger of priced generations per UTC day (``LLM_PRICES``).

Local models (the embedded one, Ollama) cost nothing and are not recorded. A model given a price
(US dollars per million prompt and completion tokens) is recorded after every reply, in a SQLite
file of the data folder that every process on it shares, so a daily budget (the planner's "LLM
spend per day") holds across ``lumina worker`` processes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import Counter

from lumina_core.contract import Usage
from lumina_core.storage import SQLiteFile

SPEND_USD = Counter("lumina_llm_spend_usd_total", "US dollars spent on priced (paid) models.", ["model"])
SCHEMA = """
CREATE TABLE IF NOT EXISTS spend (
    day TEXT NOT NULL,
    model TEXT NOT NULL,
    calls INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    usd REAL NOT NULL,
    PRIMARY KEY (day, model)
);
"""


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    prompt: float
    completion: float

    def of(self, usage: Usage) -> float:
        return (usage.prompt_tokens * self.prompt + usage.completion_tokens * self.completion) / 1_000_000


@dataclass(frozen=True)
class Spend:
    usd: float = 0.0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


def utc_day(at: float | None = None) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() if at is None else at))


class SpendLedger:
    """Priced generations by day and model; without prices it records nothing and opens no file."""

    def __init__(self, path: Path, prices: Mapping[str, Price]) -> None:
        self.prices = dict(prices)
        self._path = path
        self._db: SQLiteFile | None = None

    def record(self, model: str, usage: Usage) -> float:
        """Add one reply's cost; returns it (0 for a model without a price)."""
        price = self.prices.get(model)
        if price is None:
            return 0.0
        usd = price.of(usage)
        self._file().execute(
            "INSERT INTO spend VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (day, model) DO UPDATE SET "
            "calls = calls + 1, prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
            "completion_tokens = completion_tokens + excluded.completion_tokens, usd = usd + excluded.usd",
            (utc_day(), model, usage.prompt_tokens, usage.completion_tokens, usd),
        )
        SPEND_USD.labels(model).inc(usd)
        return usd

    def day(self, day: str | None = None) -> Spend:
        """Every priced model's spend on ``day`` (UTC, ``YYYY-MM-DD``; today by default)."""
        if not self.prices:
            return Spend()
        row = self._file().one(
            "SELECT COALESCE(SUM(usd), 0), COALESCE(SUM(calls), 0), COALESCE(SUM(prompt_tokens), 0), "
            "COALESCE(SUM(completion_tokens), 0) FROM spend WHERE day = ?", (day or utc_day(),))
        return Spend(float(row[0]), int(row[1]), int(row[2]), int(row[3]))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _file(self) -> SQLiteFile:
        if self._db is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._db = SQLiteFile(self._path, SCHEMA)
        return self._db
