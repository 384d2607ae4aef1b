"""Against a real ``lumina serve``: ``lumina files add`` with its progress, then the official
``openai`` client chatting with the brain, its reply's context citing the file's page."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from lumina_core.testing import LuminaProcess

LUMINA = str(Path(sys.executable).with_name("lumina"))
#: A server process and several CLI processes, each loading Lumina: more than the default limit.
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LuminaProcess]:
    folder = tmp_path_factory.mktemp("served")
    process = LuminaProcess.serve(folder / "data", folder / "server.log", load_plugins="knowledge,documents",
                                  require_auth=True)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def account(server: LuminaProcess) -> dict[str, Any]:
    """A signed-up user with an access token and an API key of their own."""
    body = {"username": "reader", "password": "a long enough password"}
    httpx.post(f"{server.url}/auth/register", json=body).raise_for_status()
    token = httpx.post(f"{server.url}/auth/login", json=body).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    key = httpx.post(f"{server.url}/auth/api-keys", json={"name": "tests"}, headers=headers).json()["key"]
    return {"token": token, "headers": headers, "key": key}


def cli(server: LuminaProcess, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")},
           "LUMINA_URL": server.url, "LUMINA_TOKEN": token}
    return subprocess.run([LUMINA, "files", *args], env=env, capture_output=True, text=True, timeout=300)


def test_files_add_uploads_waits_until_ready_and_says_what_it_indexed(server, account, kit, tmp_path):
    pdf, note, clip = tmp_path / "heron.pdf", tmp_path / "garden.md", tmp_path / "clip.mp4"
    pdf.write_bytes(kit.make_pdf(kit.manual_pages))
    note.write_text(kit.garden_note)
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    done = cli(server, account["token"], "add", str(pdf), str(note), str(clip))
    assert done.returncode == 1, done.stderr  # one file was refused
    assert "heron.pdf: ready, 3 pages" in done.stdout and "garden.md: ready" in done.stdout
    assert "clip.mp4: refused" in done.stderr and "not supported" in done.stderr
    assert "indexing" in done.stderr  # the progress bar's label
    again = cli(server, account["token"], "add", str(note), "--json")
    assert again.returncode == 0 and '"state": "ready"' in again.stdout and "already in brain" in again.stderr
    listed = cli(server, account["token"], "list")
    assert listed.returncode == 0 and "ready" in listed.stdout and "heron.pdf" in listed.stdout


def test_files_add_says_when_no_server_answers(kit, tmp_path):
    note = tmp_path / "n.txt"
    note.write_text("hi")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LUMINA_")}, "LUMINA_URL": "http://127.0.0.1:9"}
    done = subprocess.run([LUMINA, "files", "add", str(note)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "no server answers at http://127.0.0.1:9" in done.stderr


def test_the_openai_client_chats_with_the_brain_and_the_context_cites_the_page(server, account, kit):
    headers = account["headers"]
    uploaded = httpx.post(f"{server.url}/files", headers=headers,
                          files=[("files", ("heron-openai.pdf", kit.make_pdf([*kit.manual_pages, "Index."])))])
    uploaded.raise_for_status()
    file_id = uploaded.json()["items"][0]["id"]
    deadline = time.monotonic() + 120
    while (record := httpx.get(f"{server.url}/files/{file_id}", headers=headers).json())["state"] not in ("ready", "failed"):
        assert time.monotonic() < deadline, record
        time.sleep(0.1)
    assert record["state"] == "ready"
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key=account["key"], max_retries=0) as client:
        model = client.models.list().data[0].id
        reply = client.chat.completions.create(
            model=model, temperature=0, max_tokens=24,
            messages=[{"role": "user", "content": "How often must the Heron espresso machine be descaled?"}])
    assert reply.choices[0].message.content
    cites = [c["cite_id"] for c in reply.model_extra["lumina"]["context"] if c["source"] == "documents"]
    assert cites, reply.model_extra["lumina"]
    cite = httpx.get(f"{server.url}/documents/passages/{cites[0]}", headers=headers).json()
    assert cite["source"]["page"] == 1 and cite["source"]["name"] in ("heron.pdf", "heron-openai.pdf")
    assert "descaled every forty days" in cite["text"]
