"""Fixtures of the crawler's tests: the local MediaWiki server built from the enwiki excerpt."""

from __future__ import annotations

import copy
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest


def _load_server_module() -> ModuleType:
    """The test server module, loaded by path (tests run with --import-mode=importlib)."""
    name = "lumina_crawler_tests_mediawiki_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("mediawiki_server.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


mediawiki_server = _load_server_module()


@pytest.fixture(scope="session")
def wiki_data():
    """The excerpt, parsed once per run."""
    return mediawiki_server.WikiData()


@pytest.fixture
def wiki_server(wiki_data) -> Iterator:
    """A fresh server (its own copy of the pages, so edits do not leak) on a free port."""
    with mediawiki_server.MediaWikiServer(copy.deepcopy(wiki_data)) as server:
        yield server
