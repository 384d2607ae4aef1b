"""Errors are values with a message for a person: what failed, where, and how to fix it.

Every error the host raises on purpose derives from :class:`LuminaError`. The HTTP layer turns
one into the envelope ``{"error": {"type", "message", "field"}}`` with the status it carries, so
code deep inside a service can fail with a precise 4xx without knowing about HTTP.
"""

from __future__ import annotations

from typing import ClassVar


class LuminaError(Exception):
    """Base of every deliberate error; ``type`` is one of the fixed set in api-conventions."""

    type: ClassVar[str] = "internal"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"type": self.type, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class ValidationFailed(LuminaError):
    type = "validation_error"
    status = 422


class NotFound(LuminaError):
    type = "not_found"
    status = 404


class Conflict(LuminaError):
    type = "conflict"
    status = 409


class PermissionDenied(LuminaError):
    """A plugin asked for a capability its manifest does not grant."""

    type = "permission_denied"
    status = 403

    def __init__(self, plugin: str, permission: str, *, purpose: str = "") -> None:
        reason = f" to {purpose}" if purpose else ""
        super().__init__(
            f"plugin '{plugin}' needs permission '{permission}'{reason}, "
            f"but its manifest does not list it: add '{permission}' to permissions in manifest.yml"
        )
        self.plugin = plugin
        self.permission = permission


class Unauthenticated(LuminaError):
    type = "unauthenticated"
    status = 401


class Unavailable(LuminaError):
    type = "unavailable"
    status = 503


class ServiceUnavailable(Unavailable):
    """A service was asked for that is not configured or not running."""


class ConfigurationError(LuminaError):
    """A setting has the wrong form; raised before anything starts."""

    type = "validation_error"
    status = 422
