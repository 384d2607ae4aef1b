"""Without the training extra the plugin still starts, says it is degraded and how to fix it,
and its training route answers 503 with the same command instead of failing."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from lumina_trainer.training import INSTALL_COMMAND, TRAIN_MODULES


@pytest.fixture
def without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import torch`` (and the rest of the extra) fails, as on a host that never installed it."""
    for name in TRAIN_MODULES:
        monkeypatch.setitem(sys.modules, name, None)


async def test_health_is_degraded_with_the_install_command(without_the_extra: None, trainer_host: Any) -> None:
    async with trainer_host() as host:
        health = (await host.client.get("/health")).json()
        [check] = [c for c in health["checks"] if c["name"] == "trainer"]
        assert check["status"] == "degraded" and INSTALL_COMMAND in check["detail"]


async def test_a_training_run_answers_503_with_the_command(without_the_extra: None, trainer_host: Any, kit: Any) -> None:
    async with trainer_host() as host:
        dataset = (await host.client.post("/trainer/datasets/import", content=kit.jsonl([("A?", "a."), ("B?", "b.")]))).json()
        response = await host.client.post("/trainer/runs", json={"dataset_id": dataset["id"]})
        assert response.status_code == 503
        assert response.json()["error"]["type"] == "unavailable" and INSTALL_COMMAND in response.json()["error"]["message"]
        assert (await host.client.get("/trainer/datasets")).json()["items"], "datasets work without the extra"

