"""The live OpenAPI document, read as a list of operations with the fields a form needs.

Each operation becomes path, query and JSON-body fields with their types and defaults, so the
endpoint explorer can offer any plugin's endpoint without plugin-specific code. Values typed in
the form are strings; :func:`build_request` turns them into a request, or explains which field
is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
CORE_GROUP = "core"


@dataclass(frozen=True)
class Field:
    """One form field: where it goes (path, query or body), its JSON type and default."""

    name: str
    location: str
    type: str = "string"
    default: Any = None
    required: bool = False
    description: str = ""

    def hint(self) -> str:
        """The placeholder text: type, and the default when there is one."""
        default = "" if self.default is None else f" = {json.dumps(self.default)}"
        need = " (required)" if self.required else ""
        return f"{self.type}{default}{need}"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    group: str
    fields: tuple[Field, ...] = ()
    has_body: bool = False
    body_is_object: bool = True
    streams: bool = False

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def operations(document: Mapping[str, Any], owners: Mapping[str, str]) -> list[Operation]:
    """Every operation of ``document``; ``owners`` maps ``"GET /path"`` to the plugin declaring it."""
    components = document.get("components", {}).get("schemas", {})
    found = []
    for path, item in (document.get("paths") or {}).items():
        for method in METHODS:
            spec = item.get(method)
            if isinstance(spec, Mapping):
                found.append(_operation(method.upper(), path, spec, owners, components))
    return sorted(found, key=lambda op: (op.group.startswith(CORE_GROUP), op.group, op.path, op.method))


def _operation(
    method: str, path: str, spec: Mapping[str, Any], owners: Mapping[str, str], components: Mapping[str, Any]
) -> Operation:
    fields = [_parameter_field(p, components) for p in spec.get("parameters") or [] if p.get("in") in ("path", "query")]
    body = _json_body_schema(spec, components)
    body_is_object = body is None or bool(body.get("properties"))
    if body is not None:
        fields.extend(_body_fields(body, components))
    tags = spec.get("tags") or []
    group = owners.get(f"{method} {path}") or (f"{CORE_GROUP}: {tags[0]}" if tags else CORE_GROUP)
    return Operation(
        method=method,
        path=path,
        summary=str(spec.get("summary") or spec.get("description") or ""),
        group=group,
        fields=tuple(fields),
        has_body=body is not None,
        body_is_object=body_is_object,
        streams=_streams(spec),
    )


def _parameter_field(parameter: Mapping[str, Any], components: Mapping[str, Any]) -> Field:
    schema = resolve(parameter.get("schema") or {}, components)
    return Field(
        name=str(parameter["name"]),
        location=str(parameter["in"]),
        type=_type_of(schema),
        default=schema.get("default"),
        required=bool(parameter.get("required")),
        description=str(parameter.get("description") or schema.get("description") or ""),
    )


def _json_body_schema(spec: Mapping[str, Any], components: Mapping[str, Any]) -> dict[str, Any] | None:
    content = (spec.get("requestBody") or {}).get("content") or {}
    media = content.get("application/json")
    if media is None:
        return None
    return resolve(media.get("schema") or {}, components)


def _body_fields(schema: Mapping[str, Any], components: Mapping[str, Any]) -> list[Field]:
    properties = schema.get("properties") or {}
    if not properties:
        return [Field(name="body", location="body", type="object", required=True, description="the JSON body")]
    required = set(schema.get("required") or [])
    fields = []
    for name, prop in properties.items():
        prop = resolve(prop, components)
        fields.append(
            Field(
                name=name,
                location="body",
                type=_type_of(prop),
                default=prop.get("default"),
                required=name in required,
                description=str(prop.get("description") or ""),
            )
        )
    return fields


def resolve(schema: Mapping[str, Any], components: Mapping[str, Any]) -> dict[str, Any]:
    """Follow a ``$ref`` to ``#/components/schemas/...`` (and a single-entry ``allOf``)."""
    seen = 0
    while isinstance(schema, Mapping) and seen < 10:
        seen += 1
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            schema = {**components.get(ref.rsplit("/", 1)[1], {}), **{k: v for k, v in schema.items() if k != "$ref"}}
            continue
        if len(schema.get("allOf") or []) == 1:
            schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
            continue
        break
    return dict(schema) if isinstance(schema, Mapping) else {}


def _type_of(schema: Mapping[str, Any]) -> str:
    if "type" in schema:
        return str(schema["type"])
    options = [s.get("type") for s in schema.get("anyOf") or [] if isinstance(s, Mapping) and s.get("type") != "null"]
    return str(options[0]) if len(options) == 1 else "string"


def _streams(spec: Mapping[str, Any]) -> bool:
    for response in (spec.get("responses") or {}).values():
        if "text/event-stream" in ((response or {}).get("content") or {}):
            return True
    return False


def build_request(op: Operation, values: Mapping[str, str]) -> tuple[str, dict[str, Any], Any]:
    """``(path, query params, JSON body)`` from the form's strings; ValueError names the bad field."""
    path, params, body = op.path, {}, {}
    for field in op.fields:
        raw = values.get(field.name, "").strip()
        if not raw:
            if field.required and field.default is None:
                raise ValueError(f"{field.name}: required ({field.hint()})")
            continue
        value = convert(field, raw)
        if field.location == "path":
            path = path.replace("{" + field.name + "}", str(value))
        elif field.location == "query":
            params[field.name] = value
        elif field.name == "body" and not op.body_is_object:
            body = value
        else:
            body[field.name] = value
    return path, params, (body if op.has_body else None)


def convert(field: Field, raw: str) -> Any:
    """A typed value from the text typed for ``field``."""
    try:
        if field.type == "integer":
            return int(raw)
        if field.type == "number":
            return float(raw)
        if field.type == "boolean":
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError("expected true or false")
            return raw.lower() in ("true", "1", "yes")
        if field.type in ("object", "array"):
            return json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"{field.name}: {raw!r} is not a valid {field.type} ({exc})") from None
    return raw
