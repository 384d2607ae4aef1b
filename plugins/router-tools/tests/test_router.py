"""The router: a fast path that asks no model when no tool can apply, and the router model's
answers constrained to the tools' JSON Schemas."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lumina_router_tools.definitions import ToolSpec
from lumina_router_tools.arguments import bounded, plan_arguments
from lumina_router_tools.router import Router
from lumina_router_tools.vocabulary import shortlist

CITY = {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}
WEATHER = ToolSpec("weather", "Current weather forecast and temperature for a city.", CITY, "http")
CALENDAR = ToolSpec("calendar_add", "Add an event to the user's calendar.", {
    "type": "object", "properties": {"title": {"type": "string"}, "day": {"type": "string"}}, "required": ["title"]}, "http")
STOCKS = ToolSpec("stock_price", "The latest share price of a company on the stock market.", {
    "type": "object", "properties": {"ticker": {"type": "string"}}, "required": ["ticker"]}, "http")


class NoModel:
    """An llm service that must not be asked (the fast path never calls it)."""

    async def chat(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the fast path asked the model")


async def test_the_fast_path_asks_no_model_and_takes_well_under_a_millisecond() -> None:
    router = Router(NoModel())
    tools = [WEATHER, CALENDAR, STOCKS]
    await router.decide("Tell me a story about dragons", tools)
    started = time.perf_counter()
    for _ in range(200):
        decision = await router.decide("Tell me a story about dragons", tools)
    per_decision = (time.perf_counter() - started) / 200
    assert decision.path == "fast" and decision.calls == () and decision.use_brain
    assert "no tool shares a word" in decision.reasons[0]
    assert per_decision < 0.001


async def test_no_tools_or_tool_choice_none_decides_at_once() -> None:
    router = Router(NoModel())
    assert (await router.decide("weather in Paris", [])).path == "fast"
    assert (await router.decide("weather in Paris", [WEATHER], choice="none")).calls == ()


def test_the_shortlist_ranks_tools_by_the_rare_words_they_share() -> None:
    found = shortlist("What's the share price of Apple?", [WEATHER, CALENDAR, STOCKS])
    assert [c.spec.name for c in found] == ["stock_price"]
    assert set(found[0].shared) >= {"price", "share"}


def test_the_grammar_schema_is_strict_and_bounded() -> None:
    schema = bounded({"type": "object", "description": "x", "properties": {"q": {"type": "string", "maxLength": 9999}}})
    assert schema == {"type": "object", "properties": {"q": {"type": "string"}}, "additionalProperties": False}


@pytest.fixture(scope="module")
def llm() -> Any:
    from lumina_core.services.llm import LLMService
    from lumina_core.services.llm.embedded import EmbeddedProvider

    return LLMService([EmbeddedProvider()])


@pytest.mark.timeout(600)
async def test_the_router_model_picks_the_tool_and_fills_its_arguments(llm: Any) -> None:
    router = Router(llm, timeout_s=300)
    decision = await router.decide("What is the weather forecast in Paris?", [WEATHER, CALENDAR, STOCKS])
    assert decision.path == "model"
    assert [(c.name, dict(c.arguments)) for c in decision.calls] == [("weather", {"city": "Paris"})]
    assert not decision.use_brain and decision.candidates == ("weather",)


@pytest.mark.timeout(600)
async def test_a_forced_tool_gets_arguments_of_its_schema(llm: Any) -> None:
    router = Router(llm, timeout_s=300)
    decision = await router.decide("Book the dentist on Friday", [WEATHER, CALENDAR], choice="calendar_add")
    [call] = decision.calls
    assert call.name == "calendar_add" and isinstance(call.arguments.get("title"), str)


async def test_a_router_model_that_fails_calls_no_tool_and_says_why() -> None:
    class Broken:
        async def select(self, *args: Any, **kwargs: Any) -> Any:
            from lumina_core.services.llm import ProviderUnavailable

            raise ProviderUnavailable("the model server is down")

    decision = await Router(Broken()).decide("weather in New York", [WEATHER])
    assert decision.path == "fallback" and decision.calls == ()
    assert "the model server is down" in decision.reasons[0]


def test_arguments_the_message_states_exactly_are_filled_without_the_model() -> None:
    schema = {"type": "object", "required": ["minutes", "unit"], "properties": {
        "minutes": {"type": "integer"}, "unit": {"enum": ["seconds", "minutes"]}, "label": {"type": "string"}}}
    plan = plan_arguments(schema, "Set a timer for 10 minutes")
    assert plan.filled == {"minutes": 10, "unit": "minutes"} and plan.asked == {}


def test_a_string_argument_may_only_be_a_span_of_the_message() -> None:
    plan = plan_arguments(CITY, "Weather in New York, please?")
    assert plan.filled == {}
    allowed = plan.answer_schema()["properties"]["city"]["enum"]
    assert "New York" in allowed and "Weather in New York please" in allowed and "Paris" not in allowed
    assert plan.answer_schema()["required"] == ["city"] and plan.arguments({"city": "New York"}) == {"city": "New York"}


def test_a_span_opens_with_no_preposition_and_neither_opens_nor_ends_with_a_word_of_the_tools_name() -> None:
    allowed = plan_arguments(CITY, "Weather in New York, please?", tool="weather").asked["city"]["enum"]
    assert "New York" in allowed and not [span for span in allowed if "Weather" in span or span.startswith("in ")]


def test_the_one_span_left_is_taken_by_rule() -> None:
    assert plan_arguments(CITY, "weather in Paris", tool="weather").filled == {"city": "Paris"}


def test_numbers_are_constrained_to_the_messages_own_when_a_rule_cannot_choose() -> None:
    schema = {"type": "object", "required": ["a", "b"], "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}
    plan = plan_arguments(schema, "add 2 and 3.5")
    assert plan.asked == {"a": {"enum": [2, 3.5]}, "b": {"enum": [2, 3.5]}}


@pytest.mark.timeout(300)
async def test_a_model_behind_a_server_writes_its_choices_as_json_constrained_by_a_schema(llama_cpp_server: str) -> None:
    """A server cannot weigh given options (``llm.select`` is None), so the router asks it for
    JSON of the same options instead (``response_format``)."""
    from lumina_core.services.llm import LLMService
    from lumina_core.services.llm.openai_compat import OpenAICompatibleProvider
    from lumina_core.testing import PEER_MODEL

    message = "What is the weather forecast in New York?"
    llm = LLMService([OpenAICompatibleProvider(llama_cpp_server, PEER_MODEL)])
    try:
        assert await llm.select([{"role": "user", "content": message}], [["a", "b"]]) is None
        decision = await Router(llm, timeout_s=120).decide(message, [WEATHER, CALENDAR, STOCKS])
    finally:
        await llm.aclose()
    assert decision.path == "model", decision.reasons
    [call] = decision.calls
    assert call.arguments["city"] in plan_arguments(CITY, message, tool="weather").asked["city"]["enum"]
