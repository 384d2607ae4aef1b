"""The gap loop scaled out: a server that runs no task, two ``lumina worker`` processes on Redis,
and one vector store they share (a Qdrant server, as ``QDRANT_URL`` gives in production)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lumina_core.testing import LuminaProcess, settings_env
from ops.qdrant_server import QdrantServer

pytestmark = pytest.mark.timeout(600)

QUESTIONS = {"Who created aikido?": "Aikido", "Who directed the film Actrius?": "Actrius"}
NEVER = "0 0 1 1 *"


@pytest.fixture
def qdrant() -> Iterator[QdrantServer]:
    with QdrantServer() as server:
        yield server


def scaled_out(redis_backend: dict[str, Any], qdrant: QdrantServer, wiki_server) -> dict[str, Any]:
    return {**redis_backend, "qdrant_url": qdrant.url, "load_plugins": "knowledge,crawler,planner",
            "events_claim_idle": 2.0, "plugin_config__crawler__wiki_api": wiki_server.api_url,
            "plugin_config__crawler__rate_limit": 5, "plugin_config__crawler__contact": "tests@lumina.invalid",
            "plugin_config__planner__detect": "[]", "plugin_config__planner__plan_cron": NEVER,
            "plugin_config__planner__backoff_minutes": 0}


def until(predicate, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_loop_closes_on_redis_with_two_workers_each_gap_planned_once(
        tmp_path: Path, redis_backend, qdrant, wiki_server) -> None:
    data = tmp_path / "data"
    settings = scaled_out(redis_backend, qdrant, wiki_server)
    server = LuminaProcess.serve(data, tmp_path / "server.log", **settings, task_workers=0)
    workers = [LuminaProcess(["worker"], settings_env(data, {**settings, "task_workers": 1}), tmp_path / f"w{n}.log")
               for n in (1, 2)]
    api = httpx.Client(base_url=server.url, timeout=120)
    try:
        for question in QUESTIONS:
            assert api.post("/masterchat/chat", json={"message": question}).json()["method"] == "unknown"
        planned = api.post("/masterchat/plan").json()["planned"]
        assert sorted(p["titles"][0] for p in planned) == sorted(QUESTIONS.values())

        def all_filled() -> list[dict] | None:
            gaps = api.get("/knowledge/gaps", params={"limit": "50"}).json()["items"]
            return gaps if gaps and all(g["state"] == "filled" for g in gaps) else None

        gaps = until(all_filled, 300, "both gaps filled")
        for question, title in QUESTIONS.items():
            again = api.post("/masterchat/chat", json={"message": question}).json()
            assert again["sources"][0]["title"] == title, again
            gap = next(g for g in gaps if g["topic"] == question)
            assert set(again["cite_ids"]) & set(gap["filled_by"])

        decisions = api.get("/planner/logs", params={"limit": "100"}).json()["items"]
        assert sorted(d["action"] for d in decisions) == ["filled", "filled", "planned", "planned"]
        ran_on = {api.get(f"/tasks/{p['task_id']}").json().get("worker") for p in planned}
        assert ran_on and None not in ran_on, ran_on  # crawled by the workers, not by the server
    finally:
        api.close()
        for worker in workers:
            assert worker.stop() == 0, worker.output()[-3000:]
        server.stop()
