"""``python -m ops.reliability [--seconds 10] [--only faults,crash,outage,load,fuzz]``: every
scenario in turn, its figures printed as JSON; exits 1 when a promise was broken."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

from lumina_core.testing import forget_redis_keys, private_redis
from ops.reliability.crash import server_sigkill, worker_sigkill
from ops.reliability.faults import run_faults
from ops.reliability.fuzz import run_fuzz
from ops.reliability.load import run_load
from ops.reliability.outage import redis_outage


def _workers(seconds: float) -> dict[str, Any]:
    redis = private_redis()
    try:
        return asyncio.run(worker_sigkill(redis, tasks=int(6 * seconds)))
    finally:
        forget_redis_keys(redis["redis_url"], redis["redis_prefix"])


SCENARIOS: dict[str, Callable[[float], dict[str, Any]]] = {
    "faults": lambda s: asyncio.run(run_faults(seconds=s)),
    "crash": lambda s: {"server": asyncio.run(server_sigkill(kill_after_s=s / 2)), "worker": _workers(s)},
    "outage": lambda s: asyncio.run(redis_outage(outage_s=s / 2)),
    "load": lambda s: run_load(seconds=s),
    "fuzz": lambda s: run_fuzz(examples=int(2 * s)),
}


def broken_promises(figures: dict[str, Any]) -> list[str]:
    """The promises a run's figures show broken (empty when every one held)."""
    broken = []
    if "faults" in figures and figures["faults"]["healthy_routes"]["ok_ratio"] != 1.0:
        broken.append("a broken plugin cost other routes some answers")
    if "crash" in figures and (figures["crash"]["server"]["lost"] or figures["crash"]["worker"]["lost"]):
        broken.append("a SIGKILL lost acknowledged writes or tasks")
    if "outage" in figures and figures["outage"]["acknowledged_events_lost"]:
        broken.append("the Redis outage lost acknowledged events")
    if "load" in figures and any(isinstance(row, dict) and row["errors"] for row in figures["load"].values()):
        broken.append("requests failed under load")
    if "fuzz" in figures and figures["fuzz"]["server_errors_found"]:
        broken.append(f"schemathesis found server errors (see {figures['fuzz']['report']})")
    return broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each timed phase")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    options = parser.parse_args()
    figures: dict[str, Any] = {}
    for name in options.only.split(","):
        print(f"== {name}", file=sys.stderr, flush=True)
        figures[name] = SCENARIOS[name](options.seconds)
        print(json.dumps({name: figures[name]}, indent=2), flush=True)
    broken = broken_promises(figures)
    for promise in broken:
        print(f"BROKEN: {promise}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
