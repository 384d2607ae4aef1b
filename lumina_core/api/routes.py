"""The dynamic route registry: plugin routes mounted, unmounted and re-mounted at run time.

Routes go straight into the application's route table, so a plugin endpoint costs no more per
request than a route of a bare FastAPI app. ``/openapi.json`` and ``/docs`` follow every change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from fastapi import FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from lumina_core.errors import LuminaError
from lumina_core.plugins.manifest import Manifest

log = logging.getLogger("lumina.routes")

RouteErrorHandler = Callable[[str, Request, Exception], Response]
_PASS_THROUGH = (HTTPException, StarletteHTTPException, RequestValidationError, LuminaError)


class RouteRefused(LuminaError):
    type = "conflict"
    status = 409


def plugin_route_class(plugin: str, on_error: RouteErrorHandler) -> type[APIRoute]:
    """An APIRoute subclass whose unexpected exceptions are answered by ``on_error``."""

    class PluginRoute(APIRoute):
        owner = plugin

        def get_route_handler(self) -> Callable:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                try:
                    return await handler(request)
                except _PASS_THROUGH:
                    raise
                except Exception as exc:  # noqa: BLE001 - a plugin's bug must not become a 500
                    return on_error(plugin, request, exc)

            return guarded

    return PluginRoute


class RouteRegistry:
    """Which routes of the app belong to which plugin, and the rules for adding more."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._owned: dict[str, list[BaseRoute]] = {}
        self._prefixes: dict[str, tuple[str, ...]] = {}

    def mount(self, owner: str, routes: Iterable[BaseRoute], manifest: Manifest | None = None) -> None:
        """Add ``owner``'s routes; a manifest, when given, must declare each one."""
        routes = list(routes)
        if manifest is not None:
            self._check_prefixes(owner, manifest.prefixes)
            for route in routes:
                self._check_declared(owner, route, manifest)
        for route in routes:
            self._check_collision(owner, route)
        self.unmount(owner)
        if manifest is not None:
            self._prefixes[owner] = manifest.prefixes
        self._owned[owner] = routes
        self._app.router.routes.extend(routes)
        self._changed()

    def unmount(self, owner: str) -> None:
        """Remove every route of ``owner`` (including a 503 placeholder); they answer 404 at once."""
        owned = {id(route) for route in self._owned.pop(owner, [])}
        self._prefixes.pop(owner, None)
        if owned:
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
        self._owned[owner] = placeholders
        self._app.router.routes.extend(placeholders)

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
