"""Real cameras' protocols over real sockets, served by the tests on 127.0.0.1, and a webhook
receiver.

``SnapshotCamera`` answers every GET with its current picture (or whatever the test makes it
send); ``MjpegCamera`` streams pictures as ``multipart/x-mixed-replace`` at a steady rate, as an
IP camera's MJPEG endpoint does; ``WebhookReceiver`` keeps the JSON POSTed to it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOUNDARY = "lumina-test-frame"


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class Served:
    """An HTTP server on a free port of 127.0.0.1, serving in a thread while in its ``with``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = _Server(("127.0.0.1", 0), handler)
        self.port = self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


class CameraServer(Served):
    """A camera's HTTP server; ``requests`` counts the GETs."""

    def __init__(self, frames: Sequence[bytes], *, credentials: tuple[str, str] | None = None) -> None:
        self.frames = list(frames)
        self.credentials = credentials
        self.status, self.content_type = 200, "image/jpeg"
        self.requests = 0
        self.index = 0
        super().__init__(self._handler())

    def next_frame(self) -> bytes:
        frame = self.frames[min(self.index, len(self.frames) - 1)]
        self.index += 1
        return frame

    def authorised(self, header: str | None) -> bool:
        if self.credentials is None:
            return True
        expected = "Basic " + base64.b64encode(":".join(self.credentials).encode()).decode()
        return header == expected

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                camera.requests += 1
                if not camera.authorised(self.headers.get("Authorization")):
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                camera.answer(self)

            def log_message(self, *_: Any) -> None:
                pass

        return Handler


class SnapshotCamera(CameraServer):
    """Each GET gets the next picture of ``frames`` (the last one again once they run out)."""

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        body = self.next_frame() if self.status == 200 else b"no such picture"
        handler.send_response(self.status)
        handler.send_header("Content-Type", self.content_type if self.status == 200 else "text/plain")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


class MjpegCamera(CameraServer):
    """Streams ``frames`` (then the last one, over and over) at ``fps``, each part with its length."""

    def __init__(self, frames: Sequence[bytes], *, fps: float = 10.0, **options: Any) -> None:
        super().__init__(frames, **options)
        self.fps = fps

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        handler.end_headers()
        try:
            for frame in self._paced():
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame)}\r\n\r\n".encode()
                handler.wfile.write(head + frame + b"\r\n")
                handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the client went away

    def _paced(self) -> Iterator[bytes]:
        while True:
            started = time.monotonic()
            yield self.next_frame()
            time.sleep(max(0.0, 1.0 / self.fps - (time.monotonic() - started)))


class WebhookReceiver(Served):
    """Keeps each POST's ``Host`` header and JSON body; answers ``status`` (and ``location``)."""

    def __init__(self, status: int = 204, location: str | None = None) -> None:
        self.received: list[tuple[str, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.received.append((self.headers["Host"], body))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def bodies(self) -> list[dict]:
        return [body for _, body in self.received]
