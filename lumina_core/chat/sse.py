"""A minimal Server-Sent Events writer: one pre-encoded frame per event, nothing per request.

``sse-starlette`` adds a ping task and a task group to every response; the chat streams here
send a frame per token, so they use this plain writer over Starlette's ``StreamingResponse``.
Frames are encoded with ``orjson`` (compact, UTF-8 as is), several times faster than ``json``
on the small dicts a token frame holds.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import StreamingResponse

from lumina_core.errors import LuminaError

log = logging.getLogger("lumina.chat")

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
DONE_FRAME = b"data: [DONE]\n\n"


def data_frame(value: Any) -> bytes:
    return b"data: " + orjson.dumps(value) + b"\n\n"


def event_frame(event: str, value: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(value) + b"\n\n"


def ndjson_line(value: Any) -> bytes:
    return orjson.dumps(value) + b"\n"


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
