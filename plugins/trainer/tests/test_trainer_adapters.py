"""Adapter versions: only promoted ones are served, and a rollback returns to the one before."""

from __future__ import annotations

from pathlib import Path

import pytest
from lumina_trainer.adapters import PROMOTED, REJECTED, AdapterBook, parse_version
from lumina_trainer.database import Database

from lumina_core.errors import Conflict


@pytest.fixture
def book(tmp_path: Path) -> AdapterBook:
    return AdapterBook(Database(tmp_path / "trainer.sqlite3"))


def test_a_rejected_version_cannot_be_activated(book: AdapterBook, tmp_path: Path) -> None:
    version = book.add("run", "dataset", REJECTED, {"base": {"loss": 1.0}, "adapter": {"loss": 2.0}}, tmp_path / "a.gguf")
    with pytest.raises(Conflict) as caught:
        book.activate(version, "admin")
    assert "rejected" in caught.value.message and book.active() is None
    assert book.get(version)["figures"]["adapter"] == {"loss": 2.0}


def test_rollback_returns_to_the_version_active_before(book: AdapterBook, tmp_path: Path) -> None:
    first = book.add("run-1", "dataset", PROMOTED, {}, tmp_path / "1.gguf")
    second = book.add("run-2", "dataset", PROMOTED, {}, tmp_path / "2.gguf")
    assert book.activate(first, "admin") == (None, first)
    assert book.activate(second, "admin") == (first, second)
    assert book.rollback("admin") == (second, first) and book.active_path() == tmp_path / "1.gguf"
    assert book.activate(None, "admin") == (first, None) and book.active_path() is None


def test_there_is_nothing_to_roll_back_to_at_first(book: AdapterBook) -> None:
    with pytest.raises(Conflict):
        book.rollback("admin")


def test_versions_are_named_by_number_or_base() -> None:
    assert parse_version("3") == parse_version("v3") == 3 and parse_version("base") is None
