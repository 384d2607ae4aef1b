"""Reading an MJPEG stream (``multipart/x-mixed-replace``): the pictures out of its byte stream.

Each part starts at the boundary line, has headers, a blank line and the picture; when a part
gives ``Content-Length`` the picture is exactly that long, otherwise it runs to the next
boundary. Cameras disagree on whether the boundary parameter already carries the leading
``--``; both are read.
"""

from __future__ import annotations

import re

from lumina_core.errors import ValidationFailed

#: A part larger than this is not a camera frame: the stream is not what it claims.
MAX_PART = 16 * 1024 * 1024
_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


def boundary_of(content_type: str) -> bytes:
    """The multipart boundary named by a ``Content-Type`` header, as the bytes that delimit parts."""
    kind, _, parameters = content_type.partition(";")
    if kind.strip().lower() not in ("multipart/x-mixed-replace", "multipart/mixed"):
        raise ValidationFailed(f"not an MJPEG stream (Content-Type '{content_type or 'none'}')")
    match = re.search(r'boundary="?([^";]+)"?', parameters, re.IGNORECASE)
    if not match:
        raise ValidationFailed(f"the MJPEG stream names no boundary (Content-Type '{content_type}')")
    return b"--" + match.group(1).strip().removeprefix("--").encode()


class MjpegParser:
    """Feed the stream's bytes in any chunks; get back the complete pictures so far."""

    def __init__(self, boundary: bytes) -> None:
        self._boundary = boundary
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[bytes]:
        self._buffer += chunk
        pictures = []
        while (picture := self._next()) is not None:
            pictures.append(picture)
        if len(self._buffer) > MAX_PART:
            raise ValidationFailed(f"an MJPEG part is larger than {MAX_PART // 2**20} MiB, or the boundary is missing")
        return pictures

    def _next(self) -> bytes | None:
        start = self._buffer.find(self._boundary)
        if start < 0:
            return None
        head_end = self._buffer.find(b"\r\n\r\n", start)
        if head_end < 0:
            return None
        headers, body_start = bytes(self._buffer[start:head_end]), head_end + 4
        length = _LENGTH.search(headers)
        if length:
            body_end = body_start + int(length.group(1))
            if len(self._buffer) < body_end:
                return None
        else:
            body_end = self._buffer.find(self._boundary, body_start)
            if body_end < 0:
                return None
        picture = bytes(self._buffer[body_start:body_end])
        del self._buffer[:body_end]
        return picture if length else picture.removesuffix(b"\r\n")
