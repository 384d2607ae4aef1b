"""Reading MJPEG streams: parts with and without Content-Length, in chunks of any size."""

from __future__ import annotations

import pytest

from lumina_core.errors import ValidationFailed
from lumina_home_security.mjpeg import MjpegParser, boundary_of

PICTURES = [b"\xff\xd8first\r\n--not-a-boundary\xff\xd9", b"\xff\xd8second\xff\xd9", b"\x89PNGthird\r\n"]


def stream(*, lengths: bool) -> bytes:
    parts = []
    for picture in PICTURES:
        length = f"Content-Length: {len(picture)}\r\n" if lengths else ""
        parts.append(f"--frame\r\nContent-Type: image/jpeg\r\n{length}\r\n".encode() + picture + b"\r\n")
    return b"".join(parts) + b"--frame\r\n"


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_parts_with_a_length_are_read_exactly_in_chunks_of_any_size(chunk: int) -> None:
    parser, data, found = MjpegParser(b"--frame"), stream(lengths=True), []
    for start in range(0, len(data), chunk):
        found += parser.feed(data[start : start + chunk])
    assert found == PICTURES


def test_parts_without_a_length_run_to_the_next_boundary() -> None:
    pictures = MjpegParser(b"--frame").feed(stream(lengths=False).replace(b"--not-a-boundary", b""))
    assert pictures == [PICTURES[0].replace(b"--not-a-boundary", b""), *PICTURES[1:]]


@pytest.mark.parametrize("header", ["multipart/x-mixed-replace; boundary=frame", 'multipart/x-mixed-replace;boundary="--frame"'])
def test_the_boundary_is_read_with_or_without_its_dashes(header: str) -> None:
    assert boundary_of(header) == b"--frame"


def test_a_single_picture_is_not_a_stream() -> None:
    with pytest.raises(ValidationFailed, match="not an MJPEG stream"):
        boundary_of("image/jpeg")
