"""How hybrid search scores its candidates: scores combined (not ranks), an article prior from
meaning, sentence evidence and asked infobox fields. (The figures these move are in
``docs/knowledge.md``; here each behaviour is pinned on candidates whose signals are set.)"""

from __future__ import annotations

import pytest
from lumina_knowledge.bm25 import TermStats, passage_vector
from lumina_knowledge.rerank import rescore
from lumina_knowledge.retrieval import SearchHit, candidates, lowest_score

from lumina_core.services.vectors import Hit


@pytest.fixture
def stats(tmp_path) -> TermStats:
    """Term statistics of a small corpus, so questions have IDF weights."""
    store = TermStats(tmp_path / "terms.sqlite")
    corpus = ["Alabama capital Montgomery", "capital Tuscaloosa 1826", "Alabama state river",
              "moon orbit crew", "aardvark termites Africa", "the commander of the crew"]
    store.add("corpus", "corpus", "v1", [(str(i), passage_vector(text).keys()) for i, text in enumerate(corpus)], 0.0)
    yield store
    store.close()


#: Both searches returned every passage they match: one a search missed scores 0 there.
FLOORS = {"bm25": 0.0, "dense": 0.0}


def passage(key: str, article: str, text: str = "", **signals: float) -> SearchHit:
    return SearchHit(id=key, title=article, section=(), score=0.0, text=text, article_id=article, signals=signals)


def order(hits: list[SearchHit]) -> list[str]:
    return [hit.id for hit in hits]


def test_both_searches_meet_in_one_candidate_list_with_each_score_as_a_signal():
    lexical = [Hit(id="a", payload={"title": "A"}, score=7.5), Hit(id="b", payload={"title": "B"}, score=3.0)]
    semantic = [Hit(id="b", payload={"title": "B"}, score=0.61), Hit(id="c", payload={"title": "C"}, score=0.4)]
    merged = {hit.id: hit.signals for hit in candidates({"bm25": lexical, "dense": semantic})}
    assert merged == {"a": {"bm25": 7.5}, "b": {"bm25": 3.0, "dense": 0.61}, "c": {"dense": 0.4}}


def test_a_clear_lexical_winner_keeps_first_place_where_rank_fusion_would_tie(stats):
    # Each is first in one list, so reciprocal-rank fusion scores them alike; their scores do not.
    hits = [passage("far-ahead", "A", bm25=12.0, dense=0.50), passage("close-in-meaning", "B", bm25=2.0, dense=0.52)]
    assert order(rescore("moon orbit", hits, stats, FLOORS)) == ["far-ahead", "close-in-meaning"]


def test_a_passage_one_search_missed_ranked_below_its_cut_or_matched_nothing_there(stats):
    ranking = [Hit(id="a", payload={}, score=0.7), Hit(id="b", payload={}, score=0.4)]
    assert lowest_score(ranking, limit=2) == 0.4 and lowest_score(ranking, limit=30) == 0.0
    hits = [passage("both", "A", bm25=5.0, dense=0.6), passage("lexical-only", "B", bm25=5.0)]
    scored = {hit.id: hit.signals for hit in rescore("moon orbit", hits, stats, {"bm25": 0.0, "dense": 0.4})}
    assert scored["lexical-only"]["semantic"] == 0.4


def test_the_article_closest_in_meaning_lends_its_passages_a_prior(stats):
    # The same own scores; but another passage of article A is much closer to the question in
    # meaning, so A is the likelier subject and its passage goes first.
    hits = [passage("b-passage", "B", bm25=5.0, dense=0.3), passage("a-passage", "A", bm25=5.0, dense=0.3),
            passage("a-lead", "A", bm25=1.0, dense=0.8)]
    ranked = rescore("moon orbit", hits, stats, FLOORS)
    assert order(ranked).index("a-passage") < order(ranked).index("b-passage")
    assert ranked[0].signals["article"] == 0.8


def test_an_infobox_field_the_question_names_lifts_its_passage(stats):
    prose = passage("prose", "Alabama", "The capital moved to Tuscaloosa in 1826.", bm25=5.0, dense=0.5)
    infobox = passage("infobox", "Alabama", "Nickname: Yellowhammer State\nCapital: Montgomery", bm25=5.0, dense=0.5)
    ranked = rescore("What is the capital of Alabama?", [prose, infobox], stats, FLOORS)
    assert order(ranked) == ["infobox", "prose"] and ranked[0].signals["field"] == 1.0


def test_the_passage_whose_sentence_covers_the_question_wins_within_an_article(stats):
    scattered = passage("scattered", "Apollo 8", "The crew trained for months. Its orbit was planned early.",
                        bm25=5.0, dense=0.5)
    together = passage("together", "Apollo 8", "The crew flew ten times around the moon in orbit.", bm25=5.0, dense=0.5)
    ranked = rescore("How many times did the crew orbit the moon?", [scattered, together], stats, FLOORS)
    assert order(ranked)[0] == "together"
