"""``POST /chat``: Lumina's own chat, streamed as SSE events context, token, done (issue 3)."""

from __future__ import annotations

import json

import httpx


def _events(response: httpx.Response) -> list[tuple[str, dict]]:
    events, kind = [], None
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append((kind, json.loads(line[6:])))
    return events


def test_streams_context_then_tokens_then_done(lumina_server: str) -> None:
    body = {"message": "Name the capital of France.", "temperature": 0, "max_tokens": 20}
    with httpx.stream("POST", f"{lumina_server}/chat", json=body, timeout=60) as response:
        assert response.status_code == 200
        events = _events(response)
    kinds = [k for k, _ in events]
    assert kinds[0] == "context" and kinds[-1] == "done" and set(kinds[1:-1]) == {"token"}
    assert "Paris" in "".join(data["text"] for kind, data in events if kind == "token")
    done = events[-1][1]
    assert done["usage"]["completion_tokens"] > 0 and done["usage"]["prompt_tokens"] > 10
    assert done["budget"]["context_window"] == 2048 and done["budget"]["reply_tokens"] == 20


def test_answers_json_when_not_streaming(lumina_server: str) -> None:
    body = {"message": "Say yes.", "max_tokens": 3, "stream": False,
            "history": [{"role": "system", "content": "You are brief."}]}
    reply = httpx.post(f"{lumina_server}/chat", json=body, timeout=60).json()
    assert reply["reply"] and reply["usage"]["completion_tokens"] <= 3
    assert reply["budget"]["message_tokens"] > 0


def test_an_empty_message_is_a_422_in_lumina_envelope(lumina_server: str) -> None:
    response = httpx.post(f"{lumina_server}/chat", json={"message": ""})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "message"
