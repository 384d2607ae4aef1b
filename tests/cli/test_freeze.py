"""``lumina freeze`` / ``lumina restore``: a running server's whole state round-trips through one
archive, and a corrupt, altered or mismatched archive is refused with nothing changed."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from lumina_cli.main import cli
from lumina_core.builtins.freeze import MANIFEST, MANIFEST_SUM
from lumina_core.testing import LuminaProcess

PLUGINS = "memory,knowledge,crawler"
PASSWORD = "a long password"
ARTICLE = {
    "title": "Aardvark",
    "wikitext": "'''Aardvark''' is a burrowing mammal of Africa. It eats [[ant]]s and [[termite]]s at night.",
    "revision_id": 7,
}


class Running:
    """A real ``lumina serve`` on its own data folder, with an admin signed in."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.process = LuminaProcess.serve(data_dir, log, load_plugins=PLUGINS, require_auth="true")
        self.http = httpx.Client(base_url=self.process.url, timeout=60)

    def sign_in(self, name: str, *, register: bool = False) -> dict[str, str]:
        body = {"username": name, "password": PASSWORD}
        if register:
            assert self.http.post("/auth/register", json=body).status_code == 201
        token = self.http.post("/auth/login", json=body).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def stop(self) -> None:
        self.http.close()
        self.process.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Running]:
    running = Running(tmp_path / "data", tmp_path / "serve.log")
    yield running
    running.process.stop()


def run(*args: str, data_dir: Path, url: str = "http://127.0.0.1:9", token: str = "") -> tuple[int, str]:
    env = {"LUMINA_DATA_DIR": str(data_dir), "LUMINA_URL": url, "LUMINA_TOKEN": token, "LUMINA_LOAD_PLUGINS": PLUGINS}
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.output


def fill(server: Running) -> tuple[dict[str, str], str]:
    """Accounts, memories, a chat turn with its thread, an ingested article; the admin's header."""
    admin = server.sign_in("ada", register=True)
    user = server.sign_in("bob", register=True)
    post = server.http.post
    assert post("/memory/memories", json={"text": "Passport expires in May"}, headers=admin).status_code == 201
    assert post("/memory/memories", json={"text": "Bob's bike is blue"}, headers=user).status_code == 201
    thread = post("/threads/", json={"title": "trip"}, headers=admin).json()
    chat = post(f"/threads/{thread['id']}/chat", json={"message": "We fly on Monday.", "max_tokens": 4},
                headers=admin, timeout=180)  # a memory turn; the embedded model's first reply loads it
    assert chat.status_code == 200, chat.text
    assert post("/crawler/pages", json={"pages": [ARTICLE]}, headers=admin).json()["counts"] == {"added": 1}
    return admin, thread["id"]


@pytest.mark.timeout(400)
def test_a_running_servers_state_round_trips_through_freeze_and_restore(server: Running, tmp_path: Path) -> None:
    admin, thread_id = fill(server)
    archive = tmp_path / "backups" / "lumina.tar.gz"
    token = admin["Authorization"].removeprefix("Bearer ")

    code, output = run("freeze", str(archive), data_dir=tmp_path / "data", url=server.process.url, token=token)
    assert code == 0, output
    assert all(f"{name} 0.1.0" in output for name in ("crawler", "knowledge", "memory")) and archive.is_file()
    assert "vector points: knowledge_passages 1, memory 3" in output

    code, output = run("restore", str(archive), data_dir=tmp_path / "data")
    assert code == 1 and "is running on" in output and "stop every `lumina serve`" in output
    server.stop()

    code, output = run("restore", str(archive), data_dir=tmp_path / "restored")
    assert code == 0, output
    back = Running(tmp_path / "restored", tmp_path / "serve-again.log")
    try:
        admin, user = back.sign_in("ada"), back.sign_in("bob")
        get, post = back.http.get, back.http.post
        assert get("/auth/me", headers=admin).json()["role"] == "admin"
        found = post("/memory/search", json={"query": "When does my passport expire?"}, headers=admin).json()["items"]
        assert found[0]["text"] == "Passport expires in May"
        assert [m["text"] for m in get("/memory/memories", headers=user).json()["items"]] == ["Bob's bike is blue"]
        messages = get(f"/threads/{thread_id}/messages", headers=admin).json()["items"]
        assert messages[0]["content"] == "We fly on Monday."
        assert get("/memory/stats/" + get("/auth/me", headers=admin).json()["id"], headers=admin).json()["turns"] >= 1
        hits = post("/knowledge/search", json={"query": "burrowing mammal that eats termites"}, headers=admin).json()["hits"]
        assert hits and hits[0]["title"] == "Aardvark"
        assert get("/graph/nodes/Aardvark", headers=admin).json()["revision"] == 7
    finally:
        back.stop()
    events = run("events", "query", "SELECT count(*) FROM events WHERE type = 'graph.node_added'",
                 data_dir=tmp_path / "restored")
    assert events[0] == 0 and events[1].split()[-1] != "0"


@pytest.fixture
def sound_archive(tmp_path: Path) -> Path:
    """A small archive made by a real server (no plugins), for the refusals below."""
    data = tmp_path / "source"
    process = LuminaProcess.serve(data, tmp_path / "source.log")
    try:
        code, output = run("freeze", str(tmp_path / "sound.tar.gz"), data_dir=data, url=process.url)
        assert code == 0, output
    finally:
        process.stop()
    return tmp_path / "sound.tar.gz"


def rewritten(archive: Path, target: Path, *, manifest: dict | None = None, extra: tuple[str, bytes] | None = None,
              change: str | None = None) -> Path:
    """A copy of ``archive`` with its manifest replaced (and re-summed), a file added or changed."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as out:
        for member in source:
            data = source.extractfile(member).read()
            if member.name == MANIFEST and manifest is not None:
                data = json.dumps(manifest).encode()
            if member.name == MANIFEST_SUM and manifest is not None:
                data = f"{hashlib.sha256(json.dumps(manifest).encode()).hexdigest()}  {MANIFEST}\n".encode()
            if member.name == change:
                data = data[:-1] + bytes([data[-1] ^ 1])
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
        if extra is not None:
            info = tarfile.TarInfo(extra[0])
            info.size = len(extra[1])
            out.addfile(info, io.BytesIO(extra[1]))
    return target


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.loads(tar.extractfile(MANIFEST).read())


def test_a_corrupt_altered_or_newer_archive_is_refused_and_nothing_changes(sound_archive: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep.txt").write_text("untouched")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(sound_archive.read_bytes()[: sound_archive.stat().st_size // 2])
    newer = {**manifest_of(sound_archive), "lumina_core": "9.0.0"}
    newer_plugin = {**manifest_of(sound_archive), "plugins": {"memory": {"version": "9.1.0", "state": "started",
                                                                          "taken_by": "host"}}}
    refusals = {
        truncated: "is not a readable freeze archive",
        rewritten(sound_archive, tmp_path / "flipped.tar.gz", change="data/events.sqlite3"): "does not match its checksum",
        rewritten(sound_archive, tmp_path / "extra.tar.gz", extra=("data/evil.sh", b"rm -rf /")): "which its manifest does not list",
        rewritten(sound_archive, tmp_path / "newer.tar.gz", manifest=newer): "newer than the installed 0.1.0",
        rewritten(sound_archive, tmp_path / "plugin.tar.gz", manifest=newer_plugin): "plugin 'memory' was 9.1.0 when frozen",
    }
    for archive, reason in refusals.items():
        code, output = run("restore", str(archive), data_dir=target)
        assert code == 1 and reason in output, (archive.name, output)
        assert [p.name for p in target.iterdir() if p.name != "lumina.lock"] == ["keep.txt"]
    code, output = run("restore", "--check", str(sound_archive), data_dir=target)
    assert code == 0 and "is sound and fits this installation" in output


def test_restore_over_a_folder_keeps_the_old_one_beside_it(sound_archive: Path, tmp_path: Path) -> None:
    code, output = run("restore", str(sound_archive), data_dir=tmp_path / "source")
    assert code == 0, output
    [kept] = tmp_path.glob("source.before-restore-*")
    assert f"kept at {kept}" in output and (kept / "events.sqlite3").is_file()
    assert (tmp_path / "source" / "events.sqlite3").is_file()


def test_freeze_without_a_server_says_how_to_start_one(tmp_path: Path) -> None:
    code, output = run("freeze", str(tmp_path / "x.tar.gz"), data_dir=tmp_path)
    assert code == 1 and "no server answers at http://127.0.0.1:9" in output and "lumina serve" in output
    assert not list(tmp_path.glob("*.tar.gz")) and not list(tmp_path.glob(".*partial"))
