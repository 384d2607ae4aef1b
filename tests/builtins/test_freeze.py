"""``POST /admin/freeze`` (built-in ``core.freeze``): the archive a running host gives, the
``snapshot`` hook that lets a plugin copy its own state, and who may ask."""

from __future__ import annotations

import sqlite3
import tarfile
from pathlib import Path

from lumina_core.builtins.freeze import backup_sqlite, read_archive
from lumina_core.hookspecs import hookimpl
from lumina_core.testing import plugin_object


class Exporter:
    """Keeps its state in memory; the snapshot hook writes it out."""

    def __init__(self, fails: bool = False) -> None:
        self.fails = fails

    @hookimpl
    def startup(self, ctx):
        (ctx.data_dir / "live-only.tmp").write_text("not for the archive")

    @hookimpl
    def snapshot(self, ctx, target):
        if self.fails:
            raise OSError("the export disk is full")
        (target / "export.json").write_text('{"counter": 7}')


def manifest(name: str) -> dict:
    return {"name": name, "version": "0.2.0", "description": "Exports its state.", "api_version": ">=1.0"}


def members(archive: Path) -> list[str]:
    with tarfile.open(archive, "r:gz") as tar:
        return tar.getnames()


async def test_the_archive_holds_the_core_state_and_what_the_hook_wrote(lumina_host, tmp_path: Path) -> None:
    exporter = plugin_object(Exporter(), manifest("exporter"))
    async with lumina_host(plugins=[], objects=[exporter]) as host:
        await host.client.post("/auth/register", json={"username": "ada", "password": "a long password"})
        response = await host.client.post("/admin/freeze")
    assert response.status_code == 200 and response.headers["content-type"] == "application/gzip"
    archive = tmp_path / "frozen.tar.gz"
    archive.write_bytes(response.content)
    manifest_read = read_archive(archive, into=tmp_path / "unpacked")
    assert manifest_read.plugins["exporter"] == {"version": "0.2.0", "state": "started", "taken_by": "snapshot hook"}
    assert response.headers["x-lumina-files"] == str(len(manifest_read.files))
    names = members(archive)
    assert names[:2] == ["manifest.json", "manifest.sha256"]
    assert "data/plugins/exporter/export.json" in names and "data/plugins/exporter/live-only.tmp" not in names
    assert "data/lumina.lock" not in names and not [n for n in names if n.endswith(("-wal", "-shm"))]
    accounts = tmp_path / "unpacked" / "auth" / "accounts.sqlite3"
    assert sqlite3.connect(accounts).execute("SELECT count(*) FROM users").fetchone()[0] == 1


async def test_a_failing_snapshot_hook_fails_the_freeze_naming_the_plugin(lumina_host) -> None:
    broken = plugin_object(Exporter(fails=True), manifest("leaky"))
    async with lumina_host(plugins=[], objects=[broken]) as host:
        response = await host.client.post("/admin/freeze")
        assert host.state("leaky") == "started"  # the plugin keeps serving
    assert response.status_code == 503
    message = response.json()["error"]["message"]
    assert "plugin 'leaky' failed to snapshot its state" in message and "disk is full" in message


async def test_only_an_admin_may_freeze(lumina_host) -> None:
    async with lumina_host(plugins=[], require_auth=True) as host:
        anonymous = await host.client.post("/admin/freeze")
        body = {"username": "ada", "password": "a long password"}
        await host.client.post("/auth/register", json=body)  # the first account is the admin
        await host.client.post("/auth/register", json={**body, "username": "bob"})
        token = (await host.client.post("/auth/login", json={**body, "username": "bob"})).json()["access_token"]
        user = await host.client.post("/admin/freeze", headers={"Authorization": f"Bearer {token}"})
    assert anonymous.status_code == 401 and user.status_code == 403


def test_a_sqlite_backup_is_one_file_with_every_committed_row(tmp_path: Path) -> None:
    live = sqlite3.connect(tmp_path / "live.sqlite3")
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("CREATE TABLE t (n INTEGER)")
    live.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(100)])
    live.commit()
    backup_sqlite(tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3")
    live.close()
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("SELECT count(*) FROM t").fetchone()[0] == 100
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
