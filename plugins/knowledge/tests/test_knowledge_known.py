"""wiki_qa's "do we know?" rule: evidence answers when it is close to the question in words or
in meaning, and never when it only shares the question's words."""

from __future__ import annotations

from lumina_knowledge.answer import Evidence, doubt
from lumina_knowledge.retrieval import SearchHit


def evidence(sentence: str, *, coverage: float, closeness: float, passage_closeness: float = 0.0) -> Evidence:
    hit = SearchHit(id="p1", title="Abraham Lincoln", section=(), score=1.0, text=sentence,
                    signals={"dense": passage_closeness})
    return Evidence(sentence, hit, score=1.0, coverage=coverage, closeness=closeness)


def test_a_sentence_close_in_meaning_answers_though_it_shares_few_words():
    # "Which 1861 incident involving a British ship nearly caused a war between the US and Britain?"
    trent = evidence("The Trent Affair of late 1861 threatened war with Great Britain.",
                     coverage=0.32, closeness=0.60, passage_closeness=0.43)
    assert doubt([trent]) is None


def test_a_sentence_far_in_words_and_meaning_does_not():
    far = evidence("Lincoln took personal control of the war effort.", coverage=0.2, closeness=0.3)
    assert "covers 20% of the question and is far from it in meaning" in doubt([far])


def test_a_sentence_with_the_words_but_not_the_meaning_does_not():
    # "Who is the president of Mars?" against a sentence on a human mission to Mars
    mars = evidence("Astronaut: a human mission to Mars.", coverage=0.71, closeness=0.41)
    assert "not its meaning" in doubt([mars])


def test_nothing_found_is_said_so():
    assert doubt([]) == "no passage matches"
