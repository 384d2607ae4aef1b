"""Cron schedules for periodic jobs (croniter), with a sixth field for seconds when needed."""

from __future__ import annotations

import asyncio
import logging
import time

from croniter import croniter
from prometheus_client import Counter

from lumina_core.contract import PeriodicJob
from lumina_core.errors import ValidationFailed

log = logging.getLogger("lumina.tasks.cron")

RUNS = Counter("lumina_periodic_runs_total", "Periodic job runs, by job and outcome.", ["job", "outcome"])


class CronSchedule:
    """One job's schedule; an invalid expression fails the plugin's start with a clear message."""

    def __init__(self, expression: str, name: str) -> None:
        if not croniter.is_valid(expression):
            raise ValidationFailed(
                f"periodic job '{name}': '{expression}' is not a cron expression "
                f"(five fields, e.g. '*/10 * * * *'; a sixth field gives seconds)"
            )
        self.expression, self.name = expression, name

    def next_after(self, timestamp: float) -> float:
        return float(croniter(self.expression, timestamp).get_next(float))

    async def run(self, job: PeriodicJob, *, timeout_s: float) -> None:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(job.run(), timeout_s)
        except Exception as exc:  # noqa: BLE001 - one failed run is logged; the schedule goes on
            RUNS.labels(self.name, "failed").inc()
            log.warning("periodic job %s failed: %s", self.name, exc or type(exc).__name__)
            return
        RUNS.labels(self.name, "ok").inc()
        log.debug("periodic job %s ran in %.1f ms", self.name, (time.perf_counter() - started) * 1000)
