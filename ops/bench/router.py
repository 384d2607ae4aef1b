"""The router's decision: its overhead with the embedded model, its fast path, and how often it
picks the right tool with the right arguments, beside a keyword-matching baseline.

Ten tools and the project's own set of 46 messages (four per tool, six that no tool fits), each
with the expected tool and the arguments that matter. For every message:

* the **router** decides (shortlist, then the router model choosing among the allowed options,
  ``llm.select``);
* the **keyword baseline** takes the shortlist's best tool (the same word matching, no model) and
  fills arguments by rule: an enum value named in the message, the first number, else the
  words after the last preposition.

Decision overhead is the router's time per message on the model path, with what the model read
and how many forward passes it made (those two do not depend on the machine's load); the fast
path is timed on messages no tool shares a word with. The run is bounded by ``--max-seconds`` (messages not
reached are reported as such).

    .venv/bin/python -m ops.bench.router
    .venv/bin/python -m ops.bench.router --max-seconds 120 --threads 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time
from typing import Any

from lumina_core.services.llm import LLMService, Selection
from lumina_core.services.llm.embedded import EmbeddedProvider, LlamaOptions
from lumina_router_tools.definitions import ToolSpec
from lumina_router_tools.router import Router
from lumina_router_tools.vocabulary import shortlist


def _tool(name: str, description: str, **properties: dict[str, Any]) -> ToolSpec:
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    return ToolSpec(name, description, schema, "http")


def _s(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


TOOLS = [
    _tool("weather", "Current weather forecast and temperature for a city.", city=_s("City name")),
    _tool("stock_price", "Latest share price of a company on the stock market.", company=_s("Company name")),
    _tool("calendar_add", "Add an event or appointment to the user's calendar.", title=_s("What the event is"),
          day=_s("Day of the event")),
    _tool("send_email", "Send an email message to a person.", to=_s("Name of the recipient"),
          subject=_s("Subject of the email")),
    _tool("translate", "Translate a text into another language.", text=_s("The text to translate"),
          language=_s("Target language")),
    _tool("currency_convert", "Convert an amount of money into another currency.",
          amount={"type": "number", "description": "Amount of money"}, currency=_s("Target currency")),
    _tool("set_timer", "Set a countdown timer or alarm for a number of minutes.",
          minutes={"type": "integer", "description": "Minutes"}),
    _tool("news_headlines", "Latest news headlines about a topic.", topic=_s("News topic")),
    _tool("flight_status", "Departure and arrival status of a flight.", flight=_s("Flight number")),
    _tool("recipe_search", "Find cooking recipes for a dish.", dish=_s("Dish to cook")),
]

#: (message, expected tool or None, the arguments that must match)
CASES: list[tuple[str, str | None, dict[str, Any]]] = [
    ("What is the weather forecast in Paris?", "weather", {"city": "Paris"}),
    ("Will it rain in Tokyo today? Check the weather.", "weather", {"city": "Tokyo"}),
    ("weather in Berlin", "weather", {"city": "Berlin"}),
    ("How cold is the temperature in Oslo right now?", "weather", {"city": "Oslo"}),
    ("What is the share price of Apple?", "stock_price", {"company": "Apple"}),
    ("How is Tesla stock doing on the market?", "stock_price", {"company": "Tesla"}),
    ("stock price for Microsoft", "stock_price", {"company": "Microsoft"}),
    ("Give me the latest Nvidia share price", "stock_price", {"company": "Nvidia"}),
    ("Add a dentist appointment to my calendar on Friday", "calendar_add", {"day": "Friday"}),
    ("Put the team meeting in my calendar for Monday", "calendar_add", {"day": "Monday"}),
    ("Calendar: yoga class on Sunday", "calendar_add", {"day": "Sunday"}),
    ("Add an event to my calendar: dinner with Sam on Saturday", "calendar_add", {"day": "Saturday"}),
    ("Send an email to Anna about the budget", "send_email", {"to": "Anna"}),
    ("Email Bob with the subject holidays", "send_email", {"to": "Bob"}),
    ("Please send an email message to Carla about the report", "send_email", {"to": "Carla"}),
    ("Write an email to David: subject invoice", "send_email", {"to": "David"}),
    ("Translate good morning into French", "translate", {"language": "French"}),
    ("How do you say thank you in Spanish? Translate it", "translate", {"language": "Spanish"}),
    ("Translate 'where is the station' to German", "translate", {"language": "German"}),
    ("Please translate this text into Italian: I love pizza", "translate", {"language": "Italian"}),
    ("Convert 100 dollars to euros", "currency_convert", {"amount": 100}),
    ("How much is 50 pounds in yen? Convert the currency", "currency_convert", {"amount": 50}),
    ("currency convert 20 euros to dollars", "currency_convert", {"amount": 20}),
    ("Convert 75 francs into another currency: euros", "currency_convert", {"amount": 75}),
    ("Set a timer for 10 minutes", "set_timer", {"minutes": 10}),
    ("Start a countdown timer of 5 minutes", "set_timer", {"minutes": 5}),
    ("Timer: 25 minutes", "set_timer", {"minutes": 25}),
    ("Set an alarm in 3 minutes", "set_timer", {"minutes": 3}),
    ("What are the latest news headlines about football?", "news_headlines", {"topic": "football"}),
    ("Show me news about the election", "news_headlines", {"topic": "election"}),
    ("headlines on climate", "news_headlines", {"topic": "climate"}),
    ("Any news today about space?", "news_headlines", {"topic": "space"}),
    ("What is the status of flight BA123?", "flight_status", {"flight": "BA123"}),
    ("Has flight LH400 departed?", "flight_status", {"flight": "LH400"}),
    ("flight status AF1234", "flight_status", {"flight": "AF1234"}),
    ("When does flight KL605 arrive?", "flight_status", {"flight": "KL605"}),
    ("Find me a recipe for lasagna", "recipe_search", {"dish": "lasagna"}),
    ("How do I cook risotto? Search recipes", "recipe_search", {"dish": "risotto"}),
    ("recipes for pancakes", "recipe_search", {"dish": "pancakes"}),
    ("I want to cook a curry, find a recipe", "recipe_search", {"dish": "curry"}),
    ("Tell me a joke", None, {}),
    ("Who wrote Hamlet?", None, {}),
    ("Hello, how are you?", None, {}),
    ("Explain photosynthesis simply", None, {}),
    ("What did I tell you about my sister?", None, {}),
    ("Write a haiku about autumn", None, {}),
]

_PREPOSITIONS = re.compile(r"\b(?:in|for|to|into|about|of|on|with|at)\s+(.+)$", re.IGNORECASE)


def keyword_baseline(message: str) -> tuple[str | None, dict[str, Any]]:
    """The best shortlisted tool, arguments by rule (what a router without a model can do)."""
    found = shortlist(message, TOOLS, 1)
    if not found:
        return None, {}
    spec = found[0].spec
    arguments: dict[str, Any] = {}
    for name, prop in spec.input_schema["properties"].items():
        if prop["type"] in ("number", "integer"):
            number = re.search(r"\d+(?:\.\d+)?", message)
            if number:
                arguments[name] = float(number.group())
        else:
            tail = _PREPOSITIONS.findall(message)
            capitals = re.findall(r"\b[A-Z][A-Za-z0-9]+\b", message[1:])
            arguments[name] = (capitals[-1] if capitals else (tail[-1] if tail else message)).strip(" ?.!'")
    return spec.name, arguments


def _same(expected: Any, got: Any) -> bool:
    if isinstance(expected, (int, float)):
        try:
            return float(got) == float(expected)
        except (TypeError, ValueError):
            return False
    return isinstance(got, str) and expected.casefold() in got.casefold().strip(" ?.!'\"")


def right(expected_tool: str | None, expected_args: dict[str, Any], tool: str | None, arguments: dict[str, Any]) -> bool:
    return tool == expected_tool and all(_same(v, arguments.get(k)) for k, v in expected_args.items())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class TalliedLLM(LLMService):
    """The ``llm`` service, keeping what each decision's choices cost the model."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.selections: list[Selection] = []

    async def select(self, *args: Any, **kwargs: Any) -> Selection | None:
        selection = await super().select(*args, **kwargs)
        if selection is not None:
            self.selections.append(selection)
        return selection

    def cost(self) -> tuple[int, int]:
        """Tokens read and forward passes since the last call."""
        tokens, passes = sum(s.tokens_read for s in self.selections), sum(s.passes for s in self.selections)
        self.selections.clear()
        return tokens, passes


async def forward_pass_ms(llm: LLMService) -> float:
    """One forward pass of the embedded model now: a prompt it holds already, one token more
    (the floor under any decision that reads or writes a token)."""
    messages = [{"role": "user", "content": "Say yes."}]
    await llm.chat(messages, max_tokens=1, temperature=0.0)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        await llm.chat(messages, max_tokens=2, temperature=0.0)  # the cached prompt, then one pass
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 0.5)


async def evaluate(router: Router, llm: TalliedLLM, deadline: float, *, cold: bool) -> dict[str, Any]:
    """Every message decided in turn; ``cold``: after a chat answer, as between two messages of
    ``/router/chat``."""
    asked, ruled, costs, right_count, done = [], [], [], 0, 0
    for message, tool, expected in CASES:
        if time.monotonic() > deadline:
            break
        if cold:
            await llm.chat([{"role": "user", "content": f"Answer briefly: {message}"}], max_tokens=1)
        llm.cost()
        decision = await router.decide(message, TOOLS)
        if decision.path == "model":
            costs.append(llm.cost())
        call = decision.calls[0] if decision.calls else None
        right_count += right(tool, expected, call.name if call else None, dict(call.arguments) if call else {})
        {"model": asked, "rules": ruled}.get(decision.path, []).append(decision.duration_ms)
        done += 1
    return {"asked": asked, "ruled": ruled, "costs": costs, "right": right_count, "done": done}


def _latency(label: str, times: list[float], baseline_ms: float) -> str:
    if not times:
        return f"{label}: none"
    p50 = percentile(times, 0.5)
    return (f"{label}: p50 {p50:.0f} ms, p95 {percentile(times, 0.95):.0f} ms ({len(times)} decisions; "
            f"{p50 / max(baseline_ms, 1e-6):,.0f}x the keyword baseline)")


async def run(max_seconds: float, threads: int | None) -> None:
    options = LlamaOptions(threads=threads) if threads else LlamaOptions()
    llm = TalliedLLM([EmbeddedProvider(options=options)])
    router = Router(llm, timeout_s=max_seconds)
    await llm.chat([{"role": "user", "content": "hi"}], max_tokens=1)  # load the model first
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}, llama.cpp threads: {options.threads}")
    one_pass = await forward_pass_ms(llm)
    print(f"one forward pass of the embedded model: {one_pass:.0f} ms")

    fast = [m for m, tool, _ in CASES if not shortlist(m, TOOLS)]
    fast_times = []
    for _ in range(50):
        for message in fast:
            started = time.perf_counter()
            await router.decide(message, TOOLS)
            fast_times.append(time.perf_counter() - started)
    baseline_times, baseline_right = [], 0
    for message, tool, expected in CASES:
        started = time.perf_counter()
        chosen = keyword_baseline(message)
        baseline_times.append(time.perf_counter() - started)
        baseline_right += right(tool, expected, *chosen)
    baseline_ms = percentile(baseline_times, 0.5) * 1000

    started = time.monotonic()
    warm = await evaluate(router, llm, started + max_seconds / 2, cold=False)
    cold = await evaluate(router, llm, time.monotonic() + max_seconds / 2, cold=True)

    print(f"tools: {len(TOOLS)}, messages: {len(CASES)} ({warm['done']} evaluated back to back, {cold['done']} after "
          f"another prompt, within {max_seconds:g} s)")
    print(f"fast path p50: {percentile(fast_times, 0.5) * 1e6:.1f} µs ({len(fast)} messages x 50)")
    print(f"keyword baseline p50: {baseline_ms * 1000:.1f} µs")
    print(_latency("decision asking the embedded model, back to back", warm["asked"], baseline_ms))
    print(_latency("decision asking the embedded model, after a chat answer", cold["asked"], baseline_ms))
    print(_latency("decision by rules alone (clear winner, arguments stated exactly)", warm["ruled"], baseline_ms))
    every = sorted(warm["asked"] + warm["ruled"])
    print(_latency("every decision with a candidate tool, back to back", every, baseline_ms))
    for label, result in (("back to back", warm), ("after a chat answer", cold)):
        tokens, passes = ([cost[i] for cost in result["costs"]] for i in (0, 1))
        print(f"what a model decision cost, {label}: tokens read p50 {percentile(tokens, 0.5):.0f} / p95 "
              f"{percentile(tokens, 0.95):.0f}, forward passes p50 {percentile(passes, 0.5):.0f} / p95 "
              f"{percentile(passes, 0.95):.0f}")
    for label, result in (("back to back", warm), ("after a chat answer", cold)):
        accuracy = result["right"] / max(result["done"], 1)
        print(f"tool-choice accuracy (tool and arguments), {label}: router {accuracy:.2f} over {result['done']} "
              f"messages, keyword baseline {baseline_right / len(CASES):.2f} over {len(CASES)}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-seconds", type=float, default=600.0, help="Bound on the model-path part of the run.")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: the host's).")
    args = parser.parse_args()
    asyncio.run(run(args.max_seconds, args.threads))


if __name__ == "__main__":
    main()
