"""A minimal Server-Sent Events writer: one pre-encoded frame per event, nothing per request.

``sse-starlette`` adds a ping task and a task group to every response; the chat streams here
send a frame per token, so they use this plain writer over Starlette's ``StreamingResponse``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from lumina_core.errors import LuminaError

log = logging.getLogger("lumina.chat")

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
DONE_FRAME = b"data: [DONE]\n\n"


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def data_frame(value: Any) -> bytes:
    return b"data: " + dumps(value).encode() + b"\n\n"


def event_frame(event: str, value: Any) -> bytes:
    return f"event: {event}\ndata: {dumps(value)}\n\n".encode()


def ndjson_line(value: Any) -> bytes:
    return dumps(value).encode() + b"\n"


def sse_response(frames: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(frames, media_type="text/event-stream", headers=SSE_HEADERS)


def ndjson_response(lines: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(lines, media_type="application/x-ndjson")


def mid_stream_error(exc: Exception) -> LuminaError:
    """The error to send as an event once headers are out; unexpected ones are logged here."""
    if isinstance(exc, LuminaError):
        return exc
    log.error("a chat stream failed after its headers were sent", exc_info=exc)
    return LuminaError("the reply failed mid-stream; the server logged the details")
