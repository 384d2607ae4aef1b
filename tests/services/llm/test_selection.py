"""Choosing among given texts with the embedded model (``llm.select``): the likeliest option at
each choice, a forward pass only where options branch, and nothing read twice."""

from __future__ import annotations

import pytest

from lumina_core.services.llm import LLMService
from lumina_core.services.llm.embedded import EmbeddedProvider
from lumina_core.services.llm.selection import option_trie

pytestmark = pytest.mark.timeout(300)

CAPITAL = [{"role": "system", "content": "You name capitals."},
           {"role": "user", "content": "What is the capital of France?"}]
CITIES = [" Paris", " Rome", " Berlin", " a potato"]


@pytest.fixture(scope="module")
def llm() -> LLMService:
    return LLMService([EmbeddedProvider()])


async def test_the_likeliest_option_is_taken(llm: LLMService) -> None:
    selection = await llm.select(CAPITAL, ["The capital of France is", CITIES, "."])
    assert selection.chosen == (" Paris",)


async def test_options_that_do_not_branch_cost_no_forward_pass(llm: LLMService) -> None:
    only = await llm.select(CAPITAL, ["Answer:", [' "Paris"']])
    assert only.chosen == (' "Paris"',) and only.passes == 0 and only.tokens_read == 0
    # every option opens with the same quote: it is taken unasked, and read with the real choice
    quoted = await llm.select(CAPITAL, ["Answer:", [' "Paris"', ' "Rome"']])
    assert quoted.chosen == (' "Paris"',) and quoted.passes == 1


async def test_an_option_may_end_where_a_longer_one_goes_on(llm: LLMService) -> None:
    timer = [{"role": "user", "content": "Set a timer for 10 minutes"}]
    selection = await llm.select(timer, ["set_timer(minutes=", ["10", "100", "1000"], ")"])
    assert selection.chosen == ("10",)


async def test_a_prompt_like_the_last_is_read_only_from_where_it_differs(llm: LLMService) -> None:
    program = ["The capital is", CITIES]
    first = await llm.select(CAPITAL, program)
    again = await llm.select(CAPITAL, program)
    assert again.chosen == first.chosen and again.tokens_read == 1 < first.tokens_read
    italy = [CAPITAL[0], {"role": "user", "content": "What is the capital of Italy?"}]
    other = await llm.select(italy, program)
    assert other.chosen == (" Rome",)
    assert other.tokens_read < first.tokens_read - await llm.count_tokens(CAPITAL[0]["content"])


async def test_chat_answers_between_two_choices_do_not_evict_what_the_choice_kept(llm: LLMService) -> None:
    program = ["The capital is", CITIES]
    await llm.select(CAPITAL, program)
    await llm.chat([{"role": "user", "content": "Write one word."}], max_tokens=3)
    assert (await llm.select(CAPITAL, program)).tokens_read == 1


async def test_a_choice_needs_an_option(llm: LLMService) -> None:
    with pytest.raises(ValueError, match="at least one option"):
        await llm.select(CAPITAL, ["Answer:", []])


def test_options_share_the_tokens_they_open_with() -> None:
    spelled = {"ab": [1, 2], "ac": [1, 3], "a": [1]}
    root = option_trie(list(spelled), spelled.__getitem__)
    [first] = root.children
    assert first == 1 and root.children[1].option == "a" and set(root.children[1].children) == {2, 3}

