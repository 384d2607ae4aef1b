"""Shared helpers for Lumina's own tests (plugin authors get theirs from lumina_core.testing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURE_PLUGINS = Path(__file__).parent / "fixtures" / "plugins"


@pytest.fixture
def fixture_plugins() -> Path:
    """The committed folder of test plugins (good ones and every kind of broken one)."""
    return FIXTURE_PLUGINS


@pytest.fixture
def plugins_copy(tmp_path: Path) -> Path:
    """A private copy of the test plugins, for tests that edit plugin files."""
    target = tmp_path / "plugins"
    shutil.copytree(FIXTURE_PLUGINS, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target
