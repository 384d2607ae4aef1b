"""The router: per message, whether to use the brain and which tools to call, with what.

Cheapest first:

1. **Fast path** (microseconds): when no tool shares a content word with the message (see
   :mod:`vocabulary`), no tool can apply and the model is not asked.
2. **Shortlist**: the few tools sharing the rarest words, best first. A clear winner is chosen
   without the model; arguments the message states exactly are filled by rule (see
   :mod:`arguments`), so such a decision asks no model at all (path ``rules``).
3. **Router model** (embedded SmolLM2 unless configured): it chooses among the shortlist when
   there is a real choice and fills the arguments no rule can, always among given options (the
   shortlisted names and ``none``; spans of the message's words; its numbers), so its answers
   name only real tools and parse.

With the embedded model the choices are made by ``llm.select``: the answer, a call such as
``weather(city="Paris")``, is written with only the options allowed at each choice, and the
model is asked only where they branch. Reading costs about a forward pass per few tokens on a
CPU, so the system message, which lists every tool, stays the same from one decision to the
next and is kept by the model's choice context (chat answers do not evict it): a decision reads
the message and the few tokens of its answer. A model behind a server cannot weigh given
options; it writes the same answers as JSON constrained by a schema (Ollama's ``format``,
OpenAI's ``response_format``).

A router model that fails or times out is no reason to fail the chat: the decision then calls
no tool and says why.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from prometheus_client import Counter, Histogram

from lumina_core.contract import ToolCall
from lumina_core.errors import LuminaError
from lumina_core.services.llm import Selection, Step
from lumina_router_tools.arguments import ArgumentPlan, plan_arguments
from lumina_router_tools.calls import new_call
from lumina_router_tools.definitions import ToolSpec
from lumina_router_tools.vocabulary import Candidate, shortlist

log = logging.getLogger("lumina.router_tools.router")

Path = Literal["fast", "rules", "model", "fallback"]
#: ``auto``: the router decides; ``required``: at least one tool; ``none``: no tool; else a tool name.
Choice = str
NONE = "none"
DECISIONS = Counter("lumina_router_decisions_total", "Router decisions, by path taken.", ["path"])
DECISION_SECONDS = Histogram(
    "lumina_router_decision_seconds", "Time to decide, by path taken.", ["path"],
    buckets=(0.0001, 0.001, 0.01, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5),
)
PROMPT = (
    "You choose the tool that answers the user's message and fill in its arguments with words from the "
    "message. Choose none when no tool fits.\nTools:\n{tools}"
)
#: The longest constrained answer a server writes (a name, or the arguments no rule fills).
GENERATED_TOKENS = 64
#: Up to this many tools, the system message lists them all, the same for every message (kept by
#: the model); beyond, only the shortlist, so that the prompt stays short.
LISTED_TOOLS = 16
#: How much better the best shortlisted tool must score than the next to be chosen without the model.
CLEAR_MARGIN = 2.0
#: Words by which a message speaks of the user or of what was said before: the brain knows that.
PERSONAL = frozenset("i me my mine we us our ours remember remind told said last earlier yesterday".split())


@dataclass(frozen=True)
class Decision:
    use_brain: bool
    calls: tuple[ToolCall, ...]
    reasons: tuple[str, ...]
    path: Path
    candidates: tuple[str, ...] = ()
    duration_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "use_brain": self.use_brain,
            "tools": [{"id": c.id, "name": c.name, "arguments": dict(c.arguments)} for c in self.calls],
            "reasons": list(self.reasons), "path": self.path, "candidates": list(self.candidates),
            "duration_ms": self.duration_ms,
        }


class Router:
    """Decides with the ``llm`` service's ``chat`` (``json_schema`` constrained)."""

    def __init__(self, llm: Any, *, model: str | None = None, shortlist_size: int = 3, timeout_s: float = 20.0) -> None:
        self._llm = llm
        self._model = model
        self._size = shortlist_size
        self._timeout = timeout_s

    async def decide(self, message: str, tools: Sequence[ToolSpec], *, choice: Choice = "auto") -> Decision:
        started = time.perf_counter()
        decision = await self._decide(message, tools, choice)
        elapsed = time.perf_counter() - started
        DECISIONS.labels(decision.path).inc()
        DECISION_SECONDS.labels(decision.path).observe(elapsed)
        return Decision(**{**decision.__dict__, "duration_ms": round(elapsed * 1000, 3)})

    async def _decide(self, message: str, tools: Sequence[ToolSpec], choice: Choice) -> Decision:
        if choice == NONE or not tools:
            why = "tool_choice is none" if choice == NONE else "no tool is available"
            return Decision(True, (), (why,), "fast")
        candidates = self._candidates(message, tools, choice)
        if not candidates:
            return Decision(True, (), ("no tool shares a word with the message, so none can apply",), "fast")
        names = tuple(c.spec.name for c in candidates)
        try:
            answer = await self._ask(message, tools, candidates, allow_none=choice == "auto")
        except (LuminaError, ValueError, RuntimeError, TimeoutError) as exc:
            log.warning("the router model failed, no tool is called: %s", exc)
            reason = f"the router model failed ({getattr(exc, 'message', exc)}), so no tool is called"
            return Decision(True, (), (reason,), "fallback", names)
        return self._decision_of(message, answer, candidates)

    def _candidates(self, message: str, tools: Sequence[ToolSpec], choice: Choice) -> list[Candidate]:
        if choice not in ("auto", "required"):
            return [Candidate(spec, 0.0, ()) for spec in tools if spec.name == choice]
        found = shortlist(message, tools, self._size)
        if not found and choice == "required":
            return [Candidate(spec, 0.0, ()) for spec in tools[: self._size * 2]]
        return found

    async def _ask(self, message: str, tools: Sequence[ToolSpec], candidates: Sequence[Candidate], *,
                   allow_none: bool) -> dict[str, Any]:
        """The tool, chosen by the model only when the shortlist has no clear winner (among the
        candidates' names and ``none``), then the arguments no rule fills (among their options)."""
        names = [c.spec.name for c in candidates] + ([NONE] if allow_none else [])
        by = "shortlist" if clear_winner(candidates) or len(names) == 1 else "model"
        listed = tools if len(tools) <= LISTED_TOOLS else [c.spec for c in candidates]
        messages = [{"role": "system", "content": PROMPT.format(tools=_listing(listed))},
                    {"role": "user", "content": message}]
        chosen = names[0] if by == "shortlist" else await self._choose_tool(messages, names)
        spec = next((c.spec for c in candidates if c.spec.name == chosen), None)
        if spec is None:
            return {"tool": NONE, "by": by}
        plan = plan_arguments(spec.input_schema, message, tool=spec.name)
        if not plan.asked:
            return {"tool": chosen, "arguments": plan.filled, "by": by, "model_asked": by == "model"}
        answer = await self._fill_arguments(messages, chosen, plan)
        return {"tool": chosen, "arguments": plan.arguments(answer), "by": by, "model_asked": True}

    async def _choose_tool(self, messages: list[dict[str, str]], names: Sequence[str]) -> str:
        selection = await self._select(messages, [list(names), "("])
        if selection is None:
            return await self._generate(messages, {"enum": list(names)})
        return selection.chosen[0]

    async def _fill_arguments(self, messages: list[dict[str, str]], tool: str, plan: ArgumentPlan) -> Any:
        options = {name: schema.get("enum") for name, schema in plan.asked.items()}
        if all(isinstance(values, list) and values for values in options.values()):
            program: list[Step] = [f"{tool}("]
            for index, (name, values) in enumerate(options.items()):
                program += [(", " if index else "") + f"{name}=", [_json(value) for value in values]]
            selection = await self._select(messages, [*program, ")"])
            if selection is not None:
                return dict(zip(options, map(orjson.loads, selection.chosen)))
        return await self._generate(messages, plan.answer_schema())

    async def _select(self, messages: list[dict[str, str]], program: list[Step]) -> Selection | None:
        """The model's choices, or None when its provider cannot weigh given options."""
        return await asyncio.wait_for(self._llm.select(messages, program, model=self._model), self._timeout)

    async def _generate(self, messages: list[dict[str, str]], schema: Mapping[str, Any]) -> Any:
        result = await self._llm.chat(messages, model=self._model, temperature=0.0, max_tokens=GENERATED_TOKENS,
                                      timeout=self._timeout, json_schema=schema)
        try:
            return orjson.loads(result.text)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"its answer is not JSON ({exc}): {result.text[:120]!r}") from None

    def _decision_of(self, message: str, answer: Mapping[str, Any], candidates: Sequence[Candidate]) -> Decision:
        by_name = {c.spec.name: c for c in candidates}
        chosen = answer.get("tool")
        listed = ", ".join(f"{c.spec.name} (shares: {', '.join(c.shared)})" if c.shared else c.spec.name for c in candidates)
        reasons = [f"shortlisted by the words they share with the message: {listed}"]
        if chosen in by_name:
            arguments = answer.get("arguments")
            calls: tuple[ToolCall, ...] = (new_call(chosen, arguments if isinstance(arguments, dict) else {}),)
            reasons.append(_why(chosen, answer))
        else:
            calls = ()
            reasons.append("the router model found that no tool fits")
        use_brain, why = brain_verdict(message, calls)
        reasons.append(why)
        path: Path = "model" if answer.get("model_asked", True) else "rules"
        return Decision(use_brain, calls, tuple(reasons), path, tuple(by_name))


def _why(chosen: str, answer: Mapping[str, Any]) -> str:
    if answer.get("by") == "model":
        return f"the router model chose {chosen}"
    filled_by = "the router model filled its arguments" if answer.get("model_asked") else "the message states its arguments"
    return f"{chosen} shares the rarest words by far; {filled_by}"


def clear_winner(candidates: Sequence[Candidate]) -> bool:
    """The best shortlisted tool shares words at least twice as telling as the next one's: the
    small model's choice among them would only add its mistakes."""
    if not candidates or candidates[0].score <= 0:
        return False
    return len(candidates) == 1 or candidates[0].score >= CLEAR_MARGIN * candidates[1].score


def brain_verdict(message: str, calls: Sequence[ToolCall]) -> tuple[bool, str]:
    """Whether the brain (memory and knowledge context) joins the answer, and why."""
    if not calls:
        return True, "no tool answers it, so the brain (memory and knowledge) does"
    personal = sorted(PERSONAL & set(re.findall(r"[a-z]+", message.lower())))
    if personal:
        return True, f"it speaks of the user ({', '.join(personal)}), so the brain joins the tools"
    return False, "the tools answer it; the brain is not needed"


def _listing(tools: Sequence[ToolSpec]) -> str:
    """The tools the model reads, in name order: the same text for every message."""
    return "\n".join(_line(spec) for spec in sorted(tools, key=lambda spec: spec.name)) + "\n- none: no tool fits."


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _line(spec: ToolSpec) -> str:
    properties = spec.input_schema.get("properties") or {}
    arguments = ", ".join(
        f"{name}" + (f" ({prop['description']})" if isinstance(prop, Mapping) and prop.get("description") else "")
        for name, prop in properties.items()
    )
    return f"- {spec.name}({arguments}): {spec.description}"
