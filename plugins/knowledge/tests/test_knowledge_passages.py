"""Passages and BM25 vectors: the units the index is built from."""

from __future__ import annotations

import math

from lumina_knowledge.bm25 import AVERAGE_TERMS, K1, B, idf, passage_vector
from lumina_knowledge.chunking import MAX_WORDS, pack, passages
from lumina_knowledge.text import sentences, term_index, terms


def sentence(n: int, word: str = "Word") -> str:
    return " ".join([word] * (n - 1)) + " end."


def test_passages_are_150_to_250_words_and_never_cross_a_section():
    text = " ".join(sentence(20) for _ in range(40))  # 800 words
    article = {"id": "a", "title": "T", "sections": [{"path": ["History"], "text": text},
                                                     {"path": ["History", "Later"], "text": sentence(30)}]}
    cut = passages(article)
    sizes = [len(p.text.split()) for p in cut]
    assert all(150 <= s <= MAX_WORDS for s in sizes[:-1]) and sizes[-1] == 30
    assert [p.section for p in cut][-1] == ("History", "Later") and cut[0].section == ("History",)
    assert [p.position for p in cut] == list(range(len(cut)))
    assert len({p.id for p in cut}) == len(cut)


def test_a_short_tail_joins_the_passage_before_it_or_borrows_from_it():
    assert len(pack([sentence(20) for _ in range(11)])) == 1  # 200 + a 20-word tail fit in 250
    borrowed = pack([sentence(45) for _ in range(6)] + [sentence(10)])  # 225 | 55: too big to fold
    assert [len(c.split()) for c in borrowed] == [180, 100]


def test_indexed_text_carries_the_title_and_section_path():
    (passage,) = passages({"id": "a", "title": "Apollo 8", "sections": [{"path": ["Crew", "Backup"], "text": "Text."}]})
    assert passage.indexed_text == "Apollo 8 — Crew > Backup: Text."
    assert passage.text == "Text."


def test_sentences_respect_abbreviations_initials_and_lines():
    text = "Dr. Smith met J. R. R. Tolkien in 1950. They talked.\nCapital: Luanda"
    assert sentences(text) == ["Dr. Smith met J. R. R. Tolkien in 1950.", "They talked.", "Capital: Luanda"]


def test_a_passage_keeps_its_lines_so_an_infobox_field_stays_a_sentence_of_its_own():
    text = "Born: 1879\nDoctoral advisor: Alfred Kleiner\nHe was a physicist. He played the violin.\nLater life."
    (passage,) = passages({"id": "a", "title": "Albert Einstein", "sections": [{"path": [], "text": text}]})
    assert passage.text == text
    assert sentences(passage.text) == ["Born: 1879", "Doctoral advisor: Alfred Kleiner", "He was a physicist.",
                                       "He played the violin.", "Later life."]


def test_terms_are_stemmed_without_stop_words():
    assert terms("Who were the astronauts of the missions?") == ["astronaut", "mission"]


def test_the_sparse_dot_product_is_the_bm25_score():
    text = "aardvark aardvark termite ant"
    vector = passage_vector(text)
    length = 4
    tf = 2
    expected = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / AVERAGE_TERMS))
    assert math.isclose(vector[term_index("aardvark")], expected)
    assert idf(1, 10) > idf(5, 10) > 0
