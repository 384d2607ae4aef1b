"""A local Qdrant server for tests and benchmarks: Qdrant's REST API over real HTTP.

A Qdrant server cannot run on this machine (no binary on the package registries, no container
engine), yet a server with several ``lumina worker`` processes needs one vector store they all
share, which is what ``QDRANT_URL`` gives in production. This server speaks the REST protocol
``qdrant-client`` speaks (the calls Lumina's server backend makes: collections, payload indexes,
upsert, retrieve, vectors update, query, delete, count, scroll) and answers them from
qdrant-client's own local mode, the reference implementation of their meaning, so requests are
parsed by Qdrant's published request models and results go back in Qdrant's response envelope.

    with QdrantServer() as qdrant:            # in a test or benchmark process
        settings = {"qdrant_url": qdrant.url}  # every lumina process given it shares the store
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from importlib.metadata import version
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, TypeAdapter, ValidationError
from qdrant_client import models
from qdrant_client.local.qdrant_local import QdrantLocal

from ops.local_server import LocalHTTPServer

VERSION = version("qdrant-client")  # the server a client of this version expects
Answer = Callable[[QdrantLocal, str, dict[str, Any]], Any]
_SELECTOR = TypeAdapter(models.PointsSelector)


def _exists(local: QdrantLocal, name: str, _body: dict[str, Any]) -> Any:
    return {"exists": local.collection_exists(name)}


def _create(local: QdrantLocal, name: str, body: dict[str, Any]) -> Any:
    request = models.CreateCollection.model_validate(body)
    return local.create_collection(name, vectors_config=request.vectors,
                                   sparse_vectors_config=request.sparse_vectors, metadata=request.metadata)


def _update(local: QdrantLocal, name: str, body: dict[str, Any]) -> Any:
    request = models.UpdateCollection.model_validate(body)
    return local.update_collection(name, metadata=request.metadata, vectors_config=request.vectors)


def _index(local: QdrantLocal, name: str, body: dict[str, Any]) -> Any:
    request = models.CreateFieldIndex.model_validate(body)
    return local.create_payload_index(name, request.field_name, field_schema=request.field_schema)


def _upsert(local: QdrantLocal, name: str, body: dict[str, Any]) -> Any:
    return local.upsert(name, points=models.PointsList.model_validate(body).points)


def _retrieve(local: QdrantLocal, name: str, body: dict[str, Any]) -> Any:
    request = models.PointRequest.model_validate(body)
    return local.retrieve(name, request.ids, with_payload=request.with_payload if request.with_payload is not None
                          else True, with_vectors=request.with_vector or False)


def _update_vectors(local: QdrantLocal, name: str, body: dict[str, Any]) -> Any:
    request = models.UpdateVectors.model_validate(body)
    return local.update_vectors(name, request.points, update_filter=request.update_filter)


def _query(local: QdrantLocal, name: str, body: dict[str, Any]) -> Any:
    request = models.QueryRequest.model_validate(body)
    return local.query_points(
        name, query=request.query, using=request.using, prefetch=request.prefetch, query_filter=request.filter,
        limit=request.limit or 10, offset=request.offset, with_payload=request.with_payload or False,
        with_vectors=request.with_vector or False, score_threshold=request.score_threshold)


def _delete(local: QdrantLocal, name: str, body: dict[str, Any]) -> Any:
    return local.delete(name, points_selector=_SELECTOR.validate_python(body))


def _count(local: QdrantLocal, name: str, body: dict[str, Any]) -> Any:
    request = models.CountRequest.model_validate(body)
    return local.count(name, count_filter=request.filter, exact=request.exact if request.exact is not None else True)


def _scroll(local: QdrantLocal, name: str, body: dict[str, Any]) -> Any:
    request = models.ScrollRequest.model_validate(body)
    points, following = local.scroll(
        name, scroll_filter=request.filter, limit=request.limit or 10, order_by=request.order_by,
        offset=request.offset, with_payload=request.with_payload if request.with_payload is not None else True,
        with_vectors=request.with_vector or False)
    return {"points": points, "next_page_offset": following}


#: (method, path pattern) → answer; ``{name}`` is the collection's name.
ROUTES: dict[tuple[str, str], Answer] = {
    ("GET", "/collections/{name}/exists"): _exists,
    ("GET", "/collections/{name}"): lambda local, name, _body: local.get_collection(name),
    ("PUT", "/collections/{name}"): _create,
    ("PATCH", "/collections/{name}"): _update,
    ("DELETE", "/collections/{name}"): lambda local, name, _body: local.delete_collection(name),
    ("PUT", "/collections/{name}/index"): _index,
    ("PUT", "/collections/{name}/points"): _upsert,
    ("POST", "/collections/{name}/points"): _retrieve,
    ("PUT", "/collections/{name}/points/vectors"): _update_vectors,
    ("POST", "/collections/{name}/points/query"): _query,
    ("POST", "/collections/{name}/points/delete"): _delete,
    ("POST", "/collections/{name}/points/count"): _count,
    ("POST", "/collections/{name}/points/scroll"): _scroll,
}
_PATTERNS = [(method, re.compile("^" + path.replace("{name}", "(?P<name>[^/]+)") + "$"), answer)
             for (method, path), answer in ROUTES.items()]


def _plain(value: Any) -> Any:
    """A result as Qdrant's JSON: models dumped by field name, None fields left out."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class QdrantServer(LocalHTTPServer):
    """``with QdrantServer() as qdrant: qdrant.url`` — an in-memory Qdrant on a free port."""

    def __init__(self) -> None:
        self.local = QdrantLocal(location=":memory:")
        self._lock = threading.Lock()  # the local mode is not thread-safe: one request at a time
        super().__init__(self._handler_class())

    @property
    def url(self) -> str:
        return self.origin

    def answer(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Qdrant's envelope: ``{"result", "status": "ok", "time"}``, or ``{"status": {"error"}}``."""
        started = time.perf_counter()
        if method == "GET" and path == "/":
            return 200, {"title": "qdrant - vector search engine (lumina test server)", "version": VERSION}
        if method == "GET" and path == "/collections":
            return self._ok(lambda: {"collections": [{"name": n} for n in self.local.collections]}, started)
        for route_method, pattern, answer in _PATTERNS:
            match = pattern.match(path)
            if match and route_method == method:
                return self._ok(lambda: answer(self.local, match["name"], body), started)
        return 404, {"status": {"error": f"Not found: {method} {path}"}, "time": 0.0}

    def _ok(self, call: Callable[[], Any], started: float) -> tuple[int, dict[str, Any]]:
        try:
            with self._lock:
                result = _plain(call())
        except ValidationError as exc:
            return 422, {"status": {"error": f"Format error in JSON body: {exc}"}, "time": 0.0}
        except (ValueError, KeyError) as exc:
            return 404 if "not found" in str(exc).lower() else 400, {"status": {"error": str(exc)}, "time": 0.0}
        except Exception as exc:  # a real server answers 500 rather than dropping the connection
            return 500, {"status": {"error": f"{type(exc).__name__}: {exc}"}, "time": 0.0}
        return 200, {"result": result, "status": "ok", "time": time.perf_counter() - started}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as qdrant-client's httpx pool expects

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw.strip() else {}
                status, answer = server.answer(self.command, parts.path, body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

            def log_message(self, *_args: object) -> None:
                return None

        return Handler
