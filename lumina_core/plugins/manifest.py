"""Reading and checking ``manifest.yml``: the schema first, then the rules a schema cannot say.

Nothing here imports plugin code. Every problem becomes one :class:`Problem` naming the file,
the field path and what is wrong, so ``lumina plugin check`` can print one line per problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from lumina_core.permissions import PERMISSIONS

MANIFEST_FILE = "manifest.yml"
#: The methods an endpoint offered as a tool may have (HEAD and OPTIONS answer nothing to use).
TOOL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PATH_PARAMETER = re.compile(r"{([^}/]+)}")
_TOOL_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{0,63}$")
SCHEMA_FILE = "plugin.schema.json"
CORE_DISTRIBUTION = "lumina-core"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a manifest: ``file: field.path: message``."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}" if self.field else f"{self.file}: {self.message}"


class ManifestInvalid(Exception):
    """A manifest failed its checks; ``problems`` holds one entry per finding."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class EndpointTool:
    """An endpoint offered as a tool (``tool:`` in the manifest), its defaults filled in."""

    name: str
    description: str
    input_schema: Mapping[str, Any]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    description: str = ""
    tool: EndpointTool | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"method": self.method, "path": self.path, "description": self.description}
        if self.tool is not None:
            body["tool"] = {**self.tool.__dict__, "input_schema": dict(self.tool.input_schema)}
        return body


@dataclass(frozen=True)
class Panel:
    title: str
    endpoint: str
    kind: str
    refresh_s: float = 5.0


@dataclass(frozen=True)
class Manifest:
    """A validated manifest; built only by :func:`load_manifest` or :func:`parse_manifest`."""

    name: str
    version: Version
    description: str
    api_version: SpecifierSet
    prefixes: tuple[str, ...]
    dependencies: tuple[Requirement, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()
    permissions: frozenset[str] = frozenset()
    config_schema: Mapping[str, Any] = field(default_factory=dict)
    panels: tuple[Panel, ...] = ()
    path: Path | None = None

    @property
    def prefix(self) -> str:
        """The main URL prefix (the first one); ``ctx.router()`` mounts under it."""
        return self.prefixes[0]

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON-ready data, for the admin API and ``lumina plugin show``."""
        return {
            "name": self.name,
            "version": str(self.version),
            "description": self.description,
            "api_version": str(self.api_version),
            "prefix": list(self.prefixes),
            "dependencies": [str(r) for r in self.dependencies],
            "endpoints": [e.to_dict() for e in self.endpoints],
            "permissions": sorted(self.permissions),
            "config": dict(self.config_schema),
            "ui": {"panels": [p.__dict__ for p in self.panels]},
        }


def load_manifest(path: Path, *, shown_as: str | None = None) -> Manifest:
    """Read and check the manifest at ``path``; raise :class:`ManifestInvalid` on any problem."""
    label = shown_as or _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestInvalid([Problem(label, "", f"cannot be read: {exc.strerror}")]) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ManifestInvalid([Problem(label, "", _yaml_message(exc))]) from None
    return parse_manifest(document, label=label, path=path)


def parse_manifest(document: Any, *, label: str, path: Path | None = None) -> Manifest:
    """Check an already-parsed manifest document and build the :class:`Manifest`."""
    if not isinstance(document, dict):
        found = type(document).__name__ if document is not None else "an empty file"
        raise ManifestInvalid([Problem(label, "", f"expected a mapping of fields, found {found}")])
    findings = [*_schema_problems(document), *_rule_problems(document)]
    problems = [Problem(label, where, what) for where, what in findings]
    if problems:
        raise ManifestInvalid(problems)
    return _build(document, path)


def load_checked_yaml(path: Path, schema: Mapping[str, Any]) -> Any:
    """A plugin's own YAML file (a goal file, say) read and checked against ``schema`` exactly as
    manifests are: :class:`ManifestInvalid` with one ``file: field.path: message`` per problem."""
    label = _display(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestInvalid([Problem(label, "", f"cannot be read: {exc.strerror}")]) from None
    except yaml.YAMLError as exc:
        raise ManifestInvalid([Problem(label, "", _yaml_message(exc))]) from None
    validator = jsonschema.Draft202012Validator(schema, format_checker=_format_checker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    problems = [Problem(label, where, what) for error in errors for where, what in _explain(error)]
    if problems:
        raise ManifestInvalid(problems)
    return document


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of ``manifest.yml`` (``manifests/plugin.schema.json``)."""
    return json.loads(_schema_text())


@cache
def _schema_text() -> str:
    return resources.files("lumina_core.manifests").joinpath(SCHEMA_FILE).read_text("utf-8")


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(manifest_schema(), format_checker=_format_checker())


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("pep440-version", raises=InvalidVersion)(_parses(str, Version))
    checker.checks("pep440-specifier", raises=InvalidSpecifier)(_parses(str, SpecifierSet))
    checker.checks("requirement", raises=InvalidRequirement)(_parses(str, Requirement))
    checker.checks("json-schema", raises=jsonschema.SchemaError)(
        _parses(dict, jsonschema.Draft202012Validator.check_schema)
    )
    return checker


def _parses(kind: type, parse: Any) -> Any:
    """A format check that passes when ``parse`` accepts the value (wrong types are the
    ``type`` keyword's business, so they pass here)."""

    def check(value: Any) -> bool:
        if isinstance(value, kind):
            parse(value)
        return True

    return check


def _schema_problems(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        yield from _explain(error)


def _explain(error: jsonschema.ValidationError) -> Iterator[tuple[str, str]]:
    """Turn one jsonschema error into person-readable (field path, message) pairs."""
    where = list(error.absolute_path)
    kind, value = error.validator, error.instance
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        for extra in sorted(set(value) - set(allowed)):
            yield _path(where + [extra]), f"unknown field; allowed fields are {', '.join(allowed)}"
    elif kind == "required":
        missing = [name for name in error.validator_value if name not in value]
        for name in missing:
            yield _path(where + [name]), "is required"
    elif kind == "enum":
        yield _path(where), f"{value!r} is not one of {', '.join(map(str, error.validator_value))}"
    elif kind == "anyOf" and where[:1] == ["permissions"]:
        yield _path(where), f"{value!r} is not a known permission; known: {', '.join(sorted(PERMISSIONS))}, service:<name>"
    elif kind == "anyOf" and where[:1] == ["prefix"]:
        yield _path(where), f"{value!r} is not allowed: use a path like '/crawler' (lower-case letters, digits, '-', '_' and '/') or a list of them"
    elif kind == "format":
        yield _path(where), _format_message(error)
    elif kind == "type":
        yield _path(where), f"expected {_type_name(error.validator_value)}, found {_type_name(_json_type(value))} {value!r}"
    elif kind == "pattern":
        yield _path(where), _pattern_message(where, value)
    elif kind == "uniqueItems":
        yield _path(where), "lists the same entry more than once"
    else:
        yield _path(where), error.message


def _format_message(error: jsonschema.ValidationError) -> str:
    value, fmt = error.instance, error.validator_value
    cause = str(error.cause).strip().splitlines()[0] if error.cause else ""
    what = {
        "pep440-version": f"{value!r} is not a valid version (expected PEP 440, e.g. 0.1.0)",
        "pep440-specifier": f"{value!r} is not a valid version range (expected e.g. '>=1.0,<2')",
        "requirement": f"{value!r} is not a valid dependency (expected 'name >= 1.0')",
        "json-schema": "is not a valid JSON Schema",
    }.get(fmt, f"{value!r} is not a valid {fmt}")
    return f"{what}: {cause}" if cause and fmt == "json-schema" else what


def _pattern_message(where: list[Any], value: Any) -> str:
    rules = {
        "name": "lower-case letters, digits, '-' and '_', starting with a letter, at most 40 characters",
        "prefix": "a path like '/crawler': lower-case letters, digits, '-', '_' and '/'",
    }
    if [str(part) for part in where[-2:]] == ["tool", "name"]:
        return f"{value!r} is not allowed: use letters, digits, '_' and '-', starting with a letter, at most 64 characters"
    rule = rules.get(str(where[-1]) if where else "", "")
    return f"{value!r} is not allowed: use {rule}" if rule else f"{value!r} must start with '/'"


def _rule_problems(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """The rules a schema cannot express. Entries of the wrong shape are the schema's
    business, so each rule looks only at well-formed ones."""
    yield from _endpoint_problems(document)
    yield from _tool_problems(document)
    yield from _dependency_problems(document)
    yield from _panel_problems(document)


def _endpoint_problems(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    prefixes = _prefixes(document)
    seen: dict[tuple[str, str], int] = {}
    for index, endpoint in _well_formed(document.get("endpoints"), "path", "method"):
        method, path = endpoint["method"], endpoint["path"]
        if prefixes and not any(path == p or path.startswith(p + "/") for p in prefixes):
            shown = " or ".join(repr(p) for p in prefixes)
            yield f"endpoints[{index}].path", f"{path!r} is outside the plugin's prefix {shown}"
        if (method, path) in seen:
            yield f"endpoints[{index}]", f"{method} {path} is already declared at endpoints[{seen[method, path]}]"
        seen.setdefault((method, path), index)


def _tool_problems(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """An endpoint marked as a tool must be describable, callable with named arguments that
    include its path parameters, and named apart from the plugin's other tools."""
    names: dict[str, int] = {}
    for index, endpoint in _well_formed(document.get("endpoints"), "path", "method"):
        marker = endpoint.get("tool")
        if marker is not True and not isinstance(marker, dict):
            continue
        at = f"endpoints[{index}].tool"
        tool = _endpoint_tool(endpoint)
        if endpoint["method"] not in TOOL_METHODS:
            yield f"endpoints[{index}].method", f"{endpoint['method']} cannot be a tool; tools are {', '.join(TOOL_METHODS)}"
        if not tool.description:
            yield f"{at}.description", "is required when the endpoint has no description (the router chooses tools by it)"
        if not _TOOL_NAME.match(tool.name):
            if not isinstance(marker, dict) or "name" not in marker:  # a given name is the schema's to check
                yield f"{at}.name", f"{tool.name!r}, made from the path, is not a tool name: give one (letters, digits, '_', '-')"
        elif tool.name in names:
            yield f"{at}.name", f"{tool.name!r} already names the tool of endpoints[{names[tool.name]}]: give another"
        names.setdefault(tool.name, index)
        yield from _tool_schema_problems(at, endpoint["path"], tool.input_schema)


def _tool_schema_problems(at: str, path: str, schema: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    if not isinstance(schema, dict):
        return  # the schema's business
    if schema.get("type") != "object":
        yield f"{at}.input_schema.type", "must be 'object': a tool takes named arguments"
        return
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    for parameter in _PATH_PARAMETER.findall(path):
        if parameter not in properties:
            yield f"{at}.input_schema.properties", f"lacks {parameter!r}, a parameter of the path {path!r}"


def _endpoint_tool(endpoint: Mapping[str, Any]) -> EndpointTool:
    """The tool an endpoint's ``tool:`` marker declares, with its defaults: named after the
    path's fixed parts, the endpoint's description, its path parameters as arguments."""
    given = endpoint["tool"] if isinstance(endpoint.get("tool"), dict) else {}
    marker = {k: v for k, v in given.items() if isinstance(v, dict if k == "input_schema" else str)}
    path = endpoint["path"]
    parameters = _PATH_PARAMETER.findall(path)
    name = "_".join(re.sub(r"[^A-Za-z0-9_-]", "_", part) for part in path.split("/") if part and "{" not in part)
    default_schema = {"type": "object", "properties": {p: {"type": "string"} for p in parameters},
                      "required": parameters}
    return EndpointTool(
        name=marker.get("name") or name,
        description=marker.get("description") or endpoint.get("description") or "",
        input_schema=marker.get("input_schema", default_schema),
    )


def _endpoint(endpoint: Mapping[str, Any]) -> Endpoint:
    marked = endpoint.get("tool") is True or isinstance(endpoint.get("tool"), dict)
    return Endpoint(endpoint["method"], endpoint["path"], endpoint.get("description", ""),
                    _endpoint_tool(endpoint) if marked else None)


def _dependency_problems(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    dependencies = document.get("dependencies")
    names: list[str] = []
    for index, text in enumerate(dependencies if isinstance(dependencies, list) else []):
        try:
            name = Requirement(text).name.lower()
        except (InvalidRequirement, TypeError):
            continue
        if name == document.get("name"):
            yield f"dependencies[{index}]", "a plugin cannot depend on itself"
        elif name in names:
            yield f"dependencies[{index}]", f"{name!r} is listed more than once"
        names.append(name)


def _panel_problems(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    gets = {e["path"] for _, e in _well_formed(document.get("endpoints"), "path", "method") if e["method"] == "GET"}
    ui = document.get("ui")
    for index, panel in _well_formed(ui.get("panels") if isinstance(ui, dict) else None, "endpoint"):
        if panel["endpoint"] not in gets:
            yield f"ui.panels[{index}].endpoint", f"{panel['endpoint']!r} is not a declared GET endpoint of this plugin"


def _well_formed(items: Any, *keys: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """(index, item) for the items of a list that are mappings with text at ``keys``."""
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and all(isinstance(item.get(k), str) for k in keys):
            yield index, item


def _build(document: Mapping[str, Any], path: Path | None) -> Manifest:
    return Manifest(
        name=document["name"],
        version=Version(document["version"]),
        description=document["description"],
        api_version=SpecifierSet(document["api_version"]),
        prefixes=_prefixes(document),
        dependencies=tuple(Requirement(d) for d in document.get("dependencies", [])),
        endpoints=tuple(_endpoint(e) for e in document.get("endpoints", [])),
        permissions=frozenset(document.get("permissions", [])),
        config_schema=document.get("config", {}),
        panels=tuple(Panel(**p) for p in document.get("ui", {}).get("panels", [])),
        path=path,
    )


def _prefixes(document: Mapping[str, Any]) -> tuple[str, ...]:
    prefix = document.get("prefix") or f"/{document.get('name')}"
    if isinstance(prefix, str):
        return (prefix,)
    return tuple(p for p in prefix if isinstance(p, str)) if isinstance(prefix, list) else ()


def _path(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _type_name(kind: Any) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
             "number": "a number", "boolean": "true or false", "null": "nothing"}
    if isinstance(kind, list):
        return " or ".join(names.get(k, k) for k in kind)
    return names.get(kind, str(kind))


def _json_type(value: Any) -> str:
    for name, kinds in (("boolean", bool), ("object", dict), ("array", list), ("string", str),
                        ("integer", int), ("number", float)):
        if isinstance(value, kinds):
            return name
    return "null"


def _yaml_message(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{where}is not valid YAML ({problem})"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
