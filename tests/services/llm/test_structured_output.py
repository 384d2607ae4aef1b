"""``json_schema``: a reply constrained to JSON of a schema, by the embedded model's grammar and
through Ollama's ``format`` (spoken to Lumina's own ``/api``, over a real socket)."""

from __future__ import annotations

import json

import httpx
import pytest

from lumina_core.services.llm import LLMService
from lumina_core.services.llm.embedded import EmbeddedProvider
from lumina_core.services.llm.ollama import OllamaProvider

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}
QUESTION = [{"role": "user", "content": "Which city is the capital of France? Answer in JSON."}]

pytestmark = pytest.mark.timeout(600)


async def test_the_embedded_model_answers_compact_json_of_the_schema() -> None:
    llm = LLMService([EmbeddedProvider()])
    result = await llm.chat(QUESTION, temperature=0, max_tokens=24, json_schema=CITY)
    assert list(json.loads(result.text)) == ["city"] and result.text.startswith('{"city":"')


async def test_an_enum_schema_picks_one_of_its_values() -> None:
    llm = LLMService([EmbeddedProvider()])
    result = await llm.chat(QUESTION, temperature=0, max_tokens=8, json_schema={"enum": ["Paris", "Rome"]})
    assert json.loads(result.text) in ("Paris", "Rome")


async def test_ollamas_format_carries_the_schema(lumina_server: str) -> None:
    model = httpx.get(f"{lumina_server}/api/tags").json()["models"][0]["name"]
    llm = LLMService([OllamaProvider(lumina_server, model)])
    try:
        result = await llm.chat(QUESTION, temperature=0, max_tokens=24, json_schema=CITY)
    finally:
        await llm.aclose()
    assert list(json.loads(result.text)) == ["city"]
