"""A real ``lumina worker`` killed in the middle of a file: another worker finishes it, nothing lost."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from lumina_core.testing import LuminaProcess, settings_env
from lumina_documents.ingest import PARSED_SHARE
from lumina_documents.library import Library

PAGES = 300


def logbook_pages(count: int) -> list[str]:
    """Pages of about 150 words, each with a fact found on that page only."""
    filler = ("The harbour was quiet and the crew checked the ropes, the sails and the lamps before the tide "
              "turned, as they did every evening of the long season. ") * 5
    return [f"Crate {n} of the logbook holds exactly {n * 3} brass lanterns for ship number {n}. {filler}"
            for n in range(1, count + 1)]


def read_file(data_dir: Path, file_id: str) -> dict[str, Any]:
    library = Library(data_dir / "plugins" / "documents")
    try:
        record = library.get("local", file_id)
    finally:
        library.close()
    assert record is not None, f"file {file_id} is gone"
    return record


async def until(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.timeout(600)
async def test_a_worker_killed_mid_file_loses_nothing(lumina_host, lumina_data_dir, redis_backend, tmp_path, kit):
    data_dir = lumina_data_dir  # the hosts and the workers share it, as a server and workers on one machine
    pdf = kit.make_pdf(logbook_pages(PAGES), title="Logbook")
    common = {"plugins": ["knowledge", "documents"], **redis_backend}
    async with lumina_host(**common, task_workers=0) as host:  # the server takes the upload, runs no task
        (record,) = (await kit.upload(host, {}, ("logbook.pdf", pdf))).json()["items"]
    file_id = record["id"]

    env = settings_env(data_dir, {**redis_backend, "load_plugins": "knowledge,documents", "events_claim_idle": 1.0,
                                  "task_workers": 1})
    doomed = LuminaProcess(["worker"], env, tmp_path / "doomed.log")
    rescuer = None
    try:
        await until(lambda: read_file(data_dir, file_id)["progress"] > PARSED_SHARE)  # a part is in
        doomed.kill()
        half = read_file(data_dir, file_id)
        assert half["state"] == "processing" and half["progress"] < 1, doomed.output()[-2000:]
        rescuer = LuminaProcess(["worker"], env, tmp_path / "rescuer.log")
        await until(lambda: read_file(data_dir, file_id)["state"] in ("ready", "failed"))
    finally:
        doomed.stop()
        if rescuer is not None:
            assert rescuer.stop() == 0, rescuer.output()[-3000:]

    async with lumina_host(**common, task_workers=1) as host:
        done = (await host.client.get(f"/files/{file_id}")).json()
        assert (done["state"], done["pages"]) == ("ready", PAGES), done
        (control,) = (await kit.upload(host, {}, ("logbook.pdf", pdf), brain="control")).json()["items"]
        control = await kit.until_final(host, {}, control["id"], timeout=300)
        assert done["passages"] == control["passages"]  # every passage once, none twice
        # what the killed worker left without dense vectors, this process's backfill completes,
        # after the control upload it yields to
        while any(brain["pending_dense"] for brain in (await host.client.get("/brains")).json()["items"]):
            await asyncio.sleep(0.1)
        for page in (1, PAGES // 2, PAGES):
            (hit, *_) = await kit.query(host, {}, f"How many brass lanterns does crate {page} hold?")
            assert f"holds exactly {page * 3} brass lanterns" in hit["text"] and hit["source"]["page"] == page
        tasks = (await host.client.get(f"/tasks/{record['task_id']}")).json()
        assert tasks["state"] == "succeeded" and tasks["attempts"] == 2
