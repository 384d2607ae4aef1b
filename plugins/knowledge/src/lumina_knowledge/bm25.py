"""BM25 as sparse vectors, so the vector store can run it next to the dense search.

A passage's vector holds, per term, BM25's saturated term frequency
``tf·(k1+1) / (tf + k1·(1 − b + b·len/avgdl))``; a query's vector holds each term's inverse
document frequency, read from the collection's live statistics (:class:`TermStats`). Their dot
product is exactly the passage's BM25 score, whichever store computes it, and the IDF stays
right as articles come and go without re-encoding any passage.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lumina_core.storage import SQLiteFile
from lumina_knowledge.text import term_index, terms

K1 = 1.2
B = 0.75
#: Average passage length in terms (150–250 words, about half of them stop words); fixed so
#: that stored vectors never need re-encoding when the average drifts a little.
AVERAGE_TERMS = 110.0


def passage_vector(text: str) -> dict[int, float]:
    """The BM25 document side of ``text``: {term dimension: saturated tf}."""
    counts = Counter(term_index(t) for t in terms(text))
    length = sum(counts.values())
    norm = K1 * (1 - B + B * length / AVERAGE_TERMS)
    return {index: tf * (K1 + 1) / (tf + norm) for index, tf in counts.items()}


def idf(document_frequency: int, documents: int) -> float:
    """BM25's (Lucene's, never negative) inverse document frequency."""
    return math.log(1 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS df (term INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dense_model (id INTEGER PRIMARY KEY CHECK (id = 0), model TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, fingerprint TEXT NOT NULL,
    passage_ids TEXT NOT NULL, terms TEXT NOT NULL, indexed_at REAL NOT NULL
);
"""


class TermStats:
    """Document frequencies per term, each article's bookkeeping and the embedder of the dense
    vectors, in SQLite."""

    def __init__(self, path: Path) -> None:
        self._sql = SQLiteFile(path, _SCHEMA)

    def close(self) -> None:
        self._sql.close()

    @property
    def documents(self) -> int:
        row = self._sql.one("SELECT value FROM meta WHERE key = 'passages'")
        return row[0] if row else 0

    @property
    def dense_model(self) -> str | None:
        """The embedder whose vectors the index holds (None: nothing recorded yet)."""
        row = self._sql.one("SELECT model FROM dense_model")
        return row[0] if row else None

    def made_dense_with(self, model: str) -> None:
        with self._sql.transaction() as db:
            db.execute("INSERT OR REPLACE INTO dense_model (id, model) VALUES (0, ?)", (model,))

    def query_vector(self, query: str) -> dict[int, float]:
        """The BM25 query side of ``query``: {term dimension: idf}, unknown terms left out."""
        indices = sorted({term_index(t) for t in terms(query)})
        if not indices:
            return {}
        marks = ",".join("?" * len(indices))
        frequencies = dict(self._sql.all(f"SELECT term, n FROM df WHERE term IN ({marks})", indices))
        documents = self.documents
        return {i: idf(frequencies[i], documents) for i in indices if frequencies.get(i)}

    def query_weights(self, query: str) -> dict[int, float]:
        """Like :meth:`query_vector`, but a term no passage holds keeps the highest IDF: it is
        the part of the question the knowledge base knows nothing about (confidence drops)."""
        weights = self.query_vector(query)
        unseen = idf(0, self.documents)
        return {**{term_index(t): unseen for t in terms(query)}, **weights}

    def article(self, article_id: str) -> dict[str, Any] | None:
        row = self._sql.one("SELECT id, title, fingerprint, passage_ids FROM articles WHERE id = ?", (article_id,))
        if row is None:
            return None
        return {"id": row[0], "title": row[1], "fingerprint": row[2], "passage_ids": json.loads(row[3])}

    def articles(self) -> int:
        return self._sql.one("SELECT COUNT(*) FROM articles")[0]

    def add(self, article_id: str, title: str, fingerprint: str, passages: Sequence[tuple[str, Iterable[int]]],
            indexed_at: float) -> None:
        """Count the passages' terms in, replacing what the article counted before."""
        per_article = Counter(index for _, indices in passages for index in set(indices))
        with self._sql.transaction() as db:
            self._forget(db, article_id)
            self._shift(db, per_article, +1, len(passages))
            db.execute(
                "INSERT INTO articles (id, title, fingerprint, passage_ids, terms, indexed_at) VALUES (?, ?, ?, ?, ?, ?)",
                (article_id, title, fingerprint, json.dumps([p for p, _ in passages]),
                 json.dumps(per_article), indexed_at),
            )

    def remove(self, article_id: str) -> list[str]:
        """Count an article out; return the ids of its passages."""
        with self._sql.transaction() as db:
            return self._forget(db, article_id)

    def _forget(self, db: sqlite3.Connection, article_id: str) -> list[str]:
        row = db.execute("SELECT passage_ids, terms FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return []
        passage_ids = json.loads(row[0])
        self._shift(db, {int(k): v for k, v in json.loads(row[1]).items()}, -1, -len(passage_ids))
        db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return passage_ids

    @staticmethod
    def _shift(db: sqlite3.Connection, counts: Mapping[int, int], sign: int, passages: int) -> None:
        db.executemany(
            "INSERT INTO df (term, n) VALUES (?, ?) ON CONFLICT (term) DO UPDATE SET n = n + excluded.n",
            [(term, sign * n) for term, n in counts.items()],
        )
        db.execute("DELETE FROM df WHERE n <= 0")
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('passages', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
            (passages,),
        )
