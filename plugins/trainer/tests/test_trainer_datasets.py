"""Datasets imported or read from disk are checked line by line; a bad line is named by its number."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lumina_trainer.datasets import BadDatasetLine, read_file

GOOD = {"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]}


async def test_an_upload_with_a_bad_line_is_refused_with_its_line_number(trainer_host: Any, kit: Any) -> None:
    body = kit.jsonl([("One?", "1.")]) + "\n" + '{"messages": [{"role": "user", "content": "no answer"}]}\n'
    async with trainer_host() as host:
        response = await host.client.post("/trainer/datasets/import", content=body)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["field"] == "line 3" and "the upload, line 3" in error["message"] and "at least two" in error["message"]
        assert (await host.client.get("/trainer/datasets")).json()["items"] == []


async def test_a_good_upload_becomes_a_version_with_its_counts(trainer_host: Any, kit: Any) -> None:
    async with trainer_host() as host:
        response = await host.client.post("/trainer/datasets/import", content=kit.jsonl([("One?", "1."), ("Two?", "2."), ("one?", "1.")]))
        assert response.status_code == 201
        assert response.json()["counts"] == {"imported": 2} and response.json()["version"] == 1


@pytest.mark.parametrize(("line", "problem"), [
    ("not json", "not JSON"),
    (json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "robot", "content": "a"}]}), "messages[1] needs a role"),
    (json.dumps({"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}]}), "the last message must be the assistant"),
])
def test_a_file_edited_by_hand_names_the_line_that_breaks_it(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "v1.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n" + line + "\n")
    with pytest.raises(BadDatasetLine) as caught:
        read_file(path)
    assert caught.value.line == 3 and f"v1.jsonl, line 3: {problem}" in caught.value.message
