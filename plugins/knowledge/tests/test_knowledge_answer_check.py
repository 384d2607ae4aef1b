"""The wiki_qa check: a phrased answer may only say what its evidence sentence says."""

from __future__ import annotations

from lumina_knowledge.answer import Evidence, focus, supported
from lumina_knowledge.retrieval import SearchHit

SENTENCE = "The Apollo 8 astronauts returned to Earth on December 27, 1968, when their spacecraft splashed down."
HIT = SearchHit(id="p1", title="Apollo 8", section=(), score=1.0, text=SENTENCE)
FOUND = [Evidence(SENTENCE, HIT, 1.0, 1.0)]
QUESTION = "When did the Apollo 8 astronauts splash down?"


def test_a_phrase_stating_the_evidence_is_accepted():
    assert supported(QUESTION, "They splashed down on December 27, 1968.", FOUND)


def test_a_phrase_that_only_repeats_the_question_is_refused():
    assert not supported(QUESTION, "The Apollo 8 astronauts splashed down.", FOUND)


def test_a_phrase_with_words_the_evidence_lacks_is_refused():
    assert not supported(QUESTION, "They splashed down in the Atlantic on December 27, 1968.", FOUND)


def test_a_phrase_without_the_asked_date_is_refused_when_the_evidence_has_one():
    assert not supported(QUESTION, "They returned to Earth when their spacecraft splashed down.", FOUND)


def test_focus_keeps_short_sentences_and_windows_long_ones_on_the_question():
    assert focus(SENTENCE, QUESTION) == SENTENCE
    long = " ".join(["filler"] * 40) + " the astronauts splashed down in the ocean " + " ".join(["filler"] * 40)
    window = focus(long, QUESTION)
    assert len(window.split()) == 32 and "astronauts splashed down" in window
