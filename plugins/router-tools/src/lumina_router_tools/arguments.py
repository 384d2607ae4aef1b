"""A chosen tool's arguments: filled by rule where the message states them exactly, the rest by
the router model, constrained to what the message says.

Every generated token costs the embedded model a forward pass, so the model is asked only for
what a rule cannot fill: an enum value or a number the message names exactly once is taken as
it is, and only required arguments are asked for (the tool's defaults stand for the others).
A plain string argument may only be a span of the message's own words (a JSON ``enum`` of
them), so a small model's string cannot run on until the token limit, and a number only one of
the message's numbers when it has any. A span does not open with an article or a preposition
("in Paris", "the budget"), nor open or end with a word of the tool's name ("weather" is no
city, "Tesla stock" no company): every span left out is a choice the model need not weigh, and
where one span is left the rule takes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lumina_router_tools.vocabulary import stem, words

#: The longest span of the message's words a string argument may take.
MAX_SPAN_WORDS = 5
#: Words no argument's value opens with: "in Paris" is where, "Paris" the city.
OPENERS = frozenset("a an the in on at to for of with about into from by".split())
_EDGES = "?!.,;:\"'()[]{}"
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_NUMERIC = ("number", "integer")


@dataclass(frozen=True)
class ArgumentPlan:
    """What rules filled, and the arguments the model must still fill with their constrained
    schemas (in the tool's order)."""

    filled: dict[str, Any] = field(default_factory=dict)
    asked: dict[str, Any] = field(default_factory=dict)

    def answer_schema(self) -> dict[str, Any]:
        """The model's answer: an object of the asked arguments (their names, which the model
        writes first, tell it what each value is)."""
        return {"type": "object", "properties": dict(self.asked), "required": list(self.asked),
                "additionalProperties": False}

    def arguments(self, answer: Any) -> dict[str, Any]:
        """The filled arguments with the model's ``answer`` to :meth:`answer_schema`."""
        return {**self.filled, **(answer if isinstance(answer, dict) else {})}


def message_words(message: str) -> list[str]:
    """The message's words, without the punctuation around them."""
    return [word for word in (w.strip(_EDGES) for w in message.split()) if word]


def spans(message: str, *, tool: str = "") -> list[str]:
    """The runs of up to ``MAX_SPAN_WORDS`` consecutive words of the message, shortest first, that
    neither open with one of ``OPENERS`` nor open or end with a word of the ``tool``'s name (all
    runs when that leaves none)."""
    said = message_words(message)
    runs = [said[start:start + size] for size in range(1, MAX_SPAN_WORDS + 1) for start in range(len(said) - size + 1)]
    named = words(tool)
    kept = [run for run in runs if run[0].lower() not in OPENERS and not named & {stem(run[0].lower()), stem(run[-1].lower())}]
    return list(dict.fromkeys(" ".join(run) for run in kept or runs))


def numbers(message: str) -> list[int | float]:
    """The numbers the message writes in digits, in order, without repeats."""
    values = (float(text) if "." in text else int(text) for text in _NUMBER.findall(message))
    return list(dict.fromkeys(values))


def plan_arguments(schema: Mapping[str, Any], message: str, *, tool: str = "") -> ArgumentPlan:
    """Fill ``schema``'s arguments (of the ``tool`` so named) from ``message`` by rule where it is
    exact; constrain the rest."""
    properties = schema.get("properties") or {}
    wanted = [name for name in schema.get("required", []) if name in properties] or list(properties)
    said = numbers(message)
    numeric = [name for name in wanted if _type(properties[name]) in _NUMERIC]
    filled: dict[str, Any] = {}
    asked: dict[str, Any] = {}
    for name in wanted:
        prop = properties[name] if isinstance(properties[name], Mapping) else {}
        value = _exact(prop, message, said if numeric == [name] else [])
        options = constrained(prop, message, said, tool=tool) if value is None else {}
        if value is None and len(options.get("enum") or ()) == 1:
            value = options["enum"][0]
        if value is not None:
            filled[name] = value
        else:
            asked[name] = options
    return ArgumentPlan(filled, asked)


def _exact(prop: Mapping[str, Any], message: str, said: Sequence[int | float]) -> Any:
    """The value the message states exactly for ``prop``: the one enum value it names, or its
    one number for the tool's one numeric argument; else None."""
    if isinstance(prop.get("enum"), list):
        named = [v for v in prop["enum"] if isinstance(v, str) and _names(message, v)]
        return named[0] if len(named) == 1 else None
    if _type(prop) in _NUMERIC and len(said) == 1:
        value = said[0]
        if _type(prop) == "integer":
            return int(value) if float(value).is_integer() else None
        return value
    return None


def constrained(prop: Mapping[str, Any], message: str, said: Sequence[int | float], *,
                tool: str = "") -> dict[str, Any]:
    """A grammar-friendly schema of ``prop``: a plain string is a span of the message, a number
    one of its numbers when it has any; annotations the grammar does not need are dropped."""
    kind = _type(prop)
    if "enum" in prop:
        return {"enum": list(prop["enum"])}
    if kind == "string" and not {"format", "pattern"} & set(prop) and (found := spans(message, tool=tool)):
        return {"enum": found}
    if kind in _NUMERIC and said:
        fitting = [v for v in said if kind == "number" or float(v).is_integer()]
        if fitting:
            return {"enum": [int(v) if kind == "integer" else v for v in fitting]}
    return bounded(prop)


def bounded(schema: Any) -> Any:
    """A copy of ``schema`` that a grammar can end quickly: objects take only their listed
    properties, and annotations the grammar does not need are dropped (a string's length limit
    is the reply's token limit: ``maxLength`` unrolls into a rule per character)."""
    if isinstance(schema, list):
        return [bounded(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    dropped = ("description", "title", "examples", "default", "$schema", "maxLength", "minLength")
    kept = {k: bounded(v) for k, v in schema.items() if k not in dropped}
    if kept.get("type") == "object" or "properties" in kept:
        kept.setdefault("properties", {})
        kept["properties"] = {name: bounded(prop) for name, prop in schema.get("properties", {}).items()}
        kept["additionalProperties"] = False
    return kept


def _names(message: str, value: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", message, re.IGNORECASE) is not None


def _type(prop: Any) -> str:
    kind = prop.get("type") if isinstance(prop, Mapping) else None
    return kind if isinstance(kind, str) else ""
