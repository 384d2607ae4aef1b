"""What a tool is: its definition, checked on the way in, with the field at fault named.

A tool has a name models call it by, a description they choose it by, a JSON Schema of its
arguments, and a target that runs it: an HTTP callback, a tool of an MCP server, or a tool a
plugin registered through ``register_tools``. Definitions come from users (``POST /router/tools``,
ad-hoc tools of one request), so every part is checked before anything is stored or called.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lumina_core.api.errors import field_path
from lumina_core.errors import ValidationFailed

#: OpenAI's rule for function names, so every tool can be offered on ``/v1`` as it is.
NAME_PATTERN = r"^[a-zA-Z][a-zA-Z0-9_-]{0,63}$"
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
Kind = Literal["http", "mcp", "plugin", "endpoint", "client"]
Scope = Literal["user", "global"]
EMPTY_OBJECT: Mapping[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class ToolSpec:
    """One tool as the router, the invoker and the APIs see it (secrets included: never send it
    out as it is; :meth:`public` is what a client may read)."""

    name: str
    description: str
    input_schema: Mapping[str, Any]
    kind: Kind
    scope: Scope = "user"
    owner: str = ""
    url: str = ""
    method: Method = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    server: str = ""
    remote_name: str = ""
    created_at: str = ""

    def public(self) -> dict[str, Any]:
        """The definition without its secrets: header names only, never their values."""
        body: dict[str, Any] = {
            "name": self.name, "description": self.description, "input_schema": dict(self.input_schema),
            "kind": self.kind, "scope": self.scope,
        }
        if self.kind == "http":
            body.update(callback_url=self.url, method=self.method, secret_headers=sorted(self.headers))
        if self.kind == "mcp":
            body.update(server=self.server, remote_name=self.remote_name)
        if self.kind == "endpoint":
            body.update(plugin=self.server, method=self.method, path=self.url)
        if self.created_at:
            body["created_at"] = self.created_at
        return body

    def openai(self) -> dict[str, Any]:
        """The tool in OpenAI's ``tools`` shape."""
        return {"type": "function", "function": {
            "name": self.name, "description": self.description, "parameters": dict(self.input_schema)}}


class ToolIn(BaseModel):
    """``POST /router/tools`` (and an ad-hoc tool of one request): an HTTP callback tool."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME_PATTERN, description="What models call it by: letters, digits, _ and -.")
    description: str = Field(min_length=1, max_length=1024, description="What it does, for the router model.")
    input_schema: dict[str, Any] = Field(default_factory=lambda: dict(EMPTY_OBJECT),
                                         description="JSON Schema of the arguments (an object).")
    callback_url: str = Field(min_length=1, max_length=2048, description="http(s) URL called with the arguments.")
    method: Method = "POST"
    headers: dict[str, str] = Field(default_factory=dict, max_length=20,
                                    description="Sent with every call and never returned by the API (secrets).")
    scope: Scope = Field("user", description="global: every user sees it (admins only).")

    @field_validator("callback_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("must not hold credentials: put them in headers, which are kept secret")
        return url

    @field_validator("headers")
    @classmethod
    def _header_names(cls, headers: dict[str, str]) -> dict[str, str]:
        bad = [name for name, value in headers.items() if not HEADER_NAME.match(name) or "\n" in value or "\r" in value]
        if bad:
            raise ValueError(f"not valid HTTP headers: {', '.join(sorted(bad))}")
        return headers

    def spec(self, owner: str, *, where: str = "") -> ToolSpec:
        """The checked definition (``where`` prefixes field paths for ad-hoc tools)."""
        check_input_schema(self.input_schema, where=f"{where}input_schema")
        return ToolSpec(
            self.name, self.description, self.input_schema, "http", self.scope, owner,
            url=self.callback_url, method=self.method, headers=self.headers,
        )


def check_input_schema(schema: Mapping[str, Any], *, where: str = "input_schema") -> None:
    """Raise a 422 naming the field unless ``schema`` is a valid JSON Schema of an object."""
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        inner = field_path(list(exc.path)) if exc.path else ""
        at = f"{where}.{inner}" if inner and inner != "body" else where
        raise ValidationFailed(f"{at} is not a valid JSON Schema: {exc.message}", field=at) from None
    if schema.get("type", "object") != "object":
        raise ValidationFailed(f"{where} must describe an object (type: object): tools take named arguments",
                               field=f"{where}.type")


def check_arguments(spec: ToolSpec, arguments: Mapping[str, Any]) -> str | None:
    """Why ``arguments`` do not fit the tool's schema, or None when they do."""
    validator = jsonschema.validators.validator_for(spec.input_schema, default=jsonschema.Draft202012Validator)
    error = jsonschema.exceptions.best_match(validator(spec.input_schema).iter_errors(dict(arguments)))
    if error is None:
        return None
    where = field_path(list(error.absolute_path)) if error.absolute_path else "arguments"
    return f"{where}: {error.message}"
