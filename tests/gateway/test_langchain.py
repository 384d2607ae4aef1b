"""LangChain's ``ChatOpenAI`` against a running Lumina on the embedded model (issue 3)."""

from __future__ import annotations

import httpx
from langchain_openai import ChatOpenAI


def _model(lumina_server: str) -> str:
    return httpx.get(f"{lumina_server}/v1/models").json()["data"][0]["id"]


def test_chat_openai_invokes_and_streams_with_usage(lumina_server: str, lumina_api_key: str) -> None:
    llm = ChatOpenAI(
        base_url=f"{lumina_server}/v1", api_key=lumina_api_key, model=_model(lumina_server),
        temperature=0, max_tokens=20, max_retries=0, stream_usage=True,
    )
    answer = llm.invoke("Name the capital of France.")
    assert "Paris" in answer.content
    assert answer.usage_metadata["input_tokens"] > 10 and answer.usage_metadata["output_tokens"] > 0

    streamed = None
    for piece in llm.stream("Name the capital of France."):
        streamed = piece if streamed is None else streamed + piece
    assert streamed.content == answer.content
    assert streamed.usage_metadata == answer.usage_metadata
