"""Fixtures of the crawler's tests: the local MediaWiki server built from the enwiki excerpt."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from ops import mediawiki_server


@pytest.fixture(scope="session")
def wiki_data():
    """The excerpt, parsed once per run."""
    return mediawiki_server.WikiData()


@pytest.fixture
def wiki_server(wiki_data) -> Iterator:
    """A fresh server (its own copy of the pages, so edits do not leak) on a free port."""
    with mediawiki_server.MediaWikiServer(copy.deepcopy(wiki_data)) as server:
        yield server
