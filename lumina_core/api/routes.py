"""The dynamic route registry: plugin routes mounted, unmounted and re-mounted at run time.

Plugin routes go straight into the application's route table, so ``/openapi.json``, ``/docs``
and everything else FastAPI does with routes follow every change. In front of that table sits a
:class:`PluginIndex` that finds a plugin route by its path's first segment, so a request to a
plugin does not scan the host's own routes first however many there are.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

from fastapi import FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Receive, Scope, Send

from lumina_core.errors import LuminaError
from lumina_core.plugins.manifest import Manifest

log = logging.getLogger("lumina.routes")

RouteErrorHandler = Callable[[str, Request, Exception], Response]
Authenticate = Callable[[Request], Awaitable[object]]
_PASS_THROUGH = (HTTPException, StarletteHTTPException, RequestValidationError, LuminaError)


class RouteRefused(LuminaError):
    type = "conflict"
    status = 409


def plugin_route_class(plugin: str, on_error: RouteErrorHandler, authenticate: Authenticate) -> type[APIRoute]:
    """An APIRoute subclass that authenticates the caller first (raising 401 when it cannot)
    and answers unexpected exceptions with ``on_error``; cheaper than a FastAPI dependency."""

    class PluginRoute(APIRoute):
        owner = plugin

        def get_route_handler(self) -> Callable:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                await authenticate(request)
                try:
                    return await handler(request)
                except _PASS_THROUGH:
                    raise
                except Exception as exc:  # noqa: BLE001 - a plugin's bug must not become a 500
                    return on_error(plugin, request, exc)

            return guarded

    return PluginRoute


class PluginIndex(BaseRoute):
    """The first entry of the route table: plugin routes by their path's first segment.

    A pure accelerator: every route it holds is also in the table behind it, so a request it
    cannot place (a websocket, a path no plugin serves) falls through to the ordinary scan.
    """

    def __init__(self) -> None:
        self._by_segment: dict[str, list[BaseRoute]] = {}

    def add(self, routes: Iterable[BaseRoute]) -> None:
        for route in routes:
            segment = _first_segment(getattr(route, "path", ""))
            if segment is not None:
                self._by_segment.setdefault(segment, []).append(route)

    def remove(self, routes: Iterable[BaseRoute]) -> None:
        gone = {id(route) for route in routes}
        for segment, indexed in list(self._by_segment.items()):
            indexed[:] = [route for route in indexed if id(route) not in gone]
            if not indexed:
                del self._by_segment[segment]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        routes = self._by_segment.get(_first_segment(get_route_path(scope)) or "")
        partial: Scope | None = None
        for route in routes or ():
            match, child = route.matches(scope)
            if match is Match.FULL:
                child[_MATCHED] = route  # a fresh dict from the route: ours to extend
                return match, child
            if match is Match.PARTIAL and partial is None:
                partial = {**child, _MATCHED: route}
        return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope[_MATCHED].handle(scope, receive, send)


_MATCHED = "lumina.route"


def _first_segment(path: str) -> str | None:
    """``/memory/stats/{user_id}`` → ``memory``; None when the segment is a parameter."""
    segment = path.split("/", 2)[1] if path.startswith("/") and len(path) > 1 else ""
    return segment if segment and "{" not in segment else None


class RouteRegistry:
    """Which routes of the app belong to which plugin, and the rules for adding more."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._owned: dict[str, list[BaseRoute]] = {}
        self._prefixes: dict[str, tuple[str, ...]] = {}
        self._index = PluginIndex()
        app.router.routes.insert(0, self._index)

    def mount(self, owner: str, routes: Iterable[BaseRoute], manifest: Manifest | None = None) -> None:
        """Add ``owner``'s routes; a manifest, when given, must declare each one."""
        routes = list(routes)
        if manifest is not None:
            self._check_prefixes(owner, manifest.prefixes)
            for route in routes:
                self._check_made_by_context(owner, route)
                self._check_declared(owner, route, manifest)
        for route in routes:
            self._check_collision(owner, route)
        self.unmount(owner)
        if manifest is not None:
            self._prefixes[owner] = manifest.prefixes
        self._add(owner, routes)
        self._changed()

    def unmount(self, owner: str) -> None:
        """Remove every route of ``owner`` (including a 503 placeholder); they answer 404 at once."""
        routes = self._owned.pop(owner, [])
        self._prefixes.pop(owner, None)
        if routes:
            owned = {id(route) for route in routes}
            self._index.remove(routes)
            self._app.router.routes[:] = [r for r in self._app.router.routes if id(r) not in owned]
            self._changed()

    def mark_unavailable(self, owner: str, prefixes: Sequence[str], reason: Callable[[], str]) -> None:
        """Answer every path under ``prefixes`` with 503 and ``reason()`` until re-mounted."""

        async def unavailable(_request: Request) -> Response:
            return JSONResponse(
                {"error": {"type": "unavailable", "message": reason()}}, status_code=503
            )

        placeholders = [
            Route(path, unavailable, include_in_schema=False, methods=_ALL_METHODS)
            for prefix in prefixes
            if self._prefix_owner(prefix) in (None, owner)
            for path in (prefix, prefix + "/{path:path}")
        ]
        self.unmount(owner)
        self._add(owner, placeholders)

    def _add(self, owner: str, routes: list[BaseRoute]) -> None:
        self._owned[owner] = routes
        self._app.router.routes.extend(routes)
        if owner in self._prefixes:  # only plugins' routes: the host's are few and fixed
            self._index.add(routes)

    def owned(self, owner: str) -> Sequence[BaseRoute]:
        return tuple(self._owned.get(owner, ()))

    def _check_prefixes(self, owner: str, prefixes: Sequence[str]) -> None:
        """A prefix is a plugin's own: not another plugin's, and not one the host serves."""
        for prefix in prefixes:
            other = self._prefix_owner(prefix)
            if other is not None and other != owner:
                kind = "plugin" if other in self._prefixes else "the host's"
                raise RouteRefused(f"plugin '{owner}' wants prefix {prefix}, which {kind} '{other}' already serves")

    def _prefix_owner(self, prefix: str) -> str | None:
        """Who serves under ``prefix``: a plugin that claimed it, or a built-in with routes there."""
        for other, taken in self._prefixes.items():
            if prefix in taken:
                return other
        for other, routes in self._owned.items():
            if other not in self._prefixes and any(_under(r.path, prefix) for r in routes):
                return other
        return None

    @staticmethod
    def _check_made_by_context(owner: str, route: BaseRoute) -> None:
        """Routes from ``ctx.router()`` authenticate callers and keep their errors contained."""
        if isinstance(route, APIRoute) and getattr(route, "owner", None) != owner:
            raise RouteRefused(
                f"plugin '{owner}' tried to mount {route.path} from a router not made by ctx.router(): "
                f"build its routers with ctx.router() so the host can authenticate and isolate them"
            )

    @staticmethod
    def _check_declared(owner: str, route: BaseRoute, manifest: Manifest) -> None:
        declared = {(e.method, e.path) for e in manifest.endpoints}
        for method in _methods(route):
            if (method, route.path) not in declared:
                raise RouteRefused(
                    f"plugin '{owner}' tried to mount {method} {route.path}, which its manifest "
                    f"does not declare: add it under endpoints in manifest.yml"
                )

    def _check_collision(self, owner: str, route: BaseRoute) -> None:
        for other, routes in self._owned.items():
            if other == owner:
                continue
            for existing in routes:
                if existing.path == route.path and _methods(existing) & _methods(route):
                    raise RouteRefused(
                        f"route {' '.join(sorted(_methods(route)))} {route.path} of '{owner}' "
                        f"collides with the same route of '{other}'"
                    )

    def _changed(self) -> None:
        self._app.openapi_schema = None


_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _methods(route: BaseRoute) -> set[str]:
    methods = getattr(route, "methods", None) or {"GET"}
    return {m for m in methods if m != "HEAD"} or {"HEAD"}
