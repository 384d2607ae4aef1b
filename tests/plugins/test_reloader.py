"""Which plugin a saved file belongs to: the mapping ``lumina dev`` uses before each reload."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lumina_core.plugins.reloader import owners_of, reload_changed, watched_folders


@pytest.fixture
def host(lumina_host, plugins_copy: Path):
    return lumina_host(plugins=["hello", "good-context", "later"], plugins_dir=plugins_copy)


def test_a_file_belongs_to_the_plugin_whose_code_folder_holds_it(tmp_path: Path) -> None:
    owners = {tmp_path / "a": "alpha", tmp_path / "a" / "vendored" / "b": "beta"}
    changed = [tmp_path / "a" / "plugin.py", tmp_path / "a" / "vendored" / "b" / "x" / "y.py", tmp_path / "new" / "m.py"]
    touched, unowned = owners_of(changed, owners)
    assert touched == {"alpha", "beta"}
    assert unowned == [tmp_path / "new" / "m.py"]


async def test_the_plugins_code_folders_and_the_plugins_folder_are_watched(host, plugins_copy: Path) -> None:
    async with host as h:
        folders = watched_folders(h.kernel)
    assert plugins_copy.resolve() in folders
    assert (plugins_copy / "fx_hello").resolve() in folders


async def test_a_change_reloads_only_the_plugin_that_owns_the_file(host, plugins_copy: Path) -> None:
    async with host as h:
        untouched_since = h.kernel.get("good-context").since
        reloaded = await reload_changed(h.kernel, [plugins_copy / "fx_hello" / "__init__.py"])
        assert reloaded == ["hello"]
        assert h.kernel.get("good-context").since == untouched_since
        assert h.state("hello") == "started"


async def test_a_plugin_folder_saved_into_the_plugins_folder_starts(host, plugins_copy: Path) -> None:
    async with host as h:
        new_folder = plugins_copy / "later"
        shutil.copytree(plugins_copy / "fx_hello", new_folder)
        manifest = new_folder / "manifest.yml"
        manifest.write_text(manifest.read_text().replace("name: hello", "name: later").replace("/hello/", "/later/"))

        reloaded = await reload_changed(h.kernel, [manifest])

        assert reloaded == ["later"]
        assert h.state("later") == "started"
        assert (await h.client.get("/later/greet")).json() == {"message": "hello, world"}
