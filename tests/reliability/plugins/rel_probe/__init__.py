"""The reliability suite's probe: every event it publishes is acknowledged (an id) or refused (503),
and every event and task it handles is noted in a journal, so a test can count what was lost.

Journals, in the plugin's data folder: ``received.jsonl`` (``{"event": id, "n": n}`` per event
handled) and ``tasks.jsonl`` (``{"task": id}`` per ``note`` task run).
"""

import asyncio
import json
import os
from pathlib import Path

from fastapi import Query

from lumina_core.errors import Unavailable
from lumina_core.hookspecs import hookimpl

RECEIVED = "received.jsonl"
TASKS = "tasks.jsonl"


def _note(folder: Path, name: str, entry: dict) -> None:
    with (folder / name).open("a") as journal:
        journal.write(json.dumps({**entry, "pid": os.getpid()}) + "\n")


@hookimpl
def register_routes(ctx):
    router = ctx.router()

    @router.post("/events")
    async def publish(n: int = Query(..., ge=0)) -> dict:
        try:
            event_id = await ctx.events.publish("relprobe.pinged", {"n": n}, source=ctx.name)
        except Exception as exc:  # noqa: BLE001 - the caller learns the event was not taken
            raise Unavailable(f"the event bus refused the event: {exc or type(exc).__name__}") from None
        return {"id": event_id}

    return router


@hookimpl
def register_event_handlers(ctx):
    async def on_ping(event):
        _note(ctx.data_dir, RECEIVED, {"event": event["id"], "n": event["payload"]["n"]})

    return {"relprobe.*": on_ping}


@hookimpl
def register_task_handlers(ctx):
    async def note(task, job):
        await asyncio.sleep(task["note"])
        _note(ctx.data_dir, TASKS, {"task": job.id, "attempt": job.attempt})
        return {"noted": job.id}

    return {"note": note}
