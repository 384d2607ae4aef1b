"""A manifest is checked before any plugin code runs, and every problem names file and field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from lumina_core.permissions import PERMISSIONS
from lumina_core.plugins.manifest import ManifestInvalid, load_manifest, manifest_schema, parse_manifest

GOOD: dict[str, Any] = {
    "name": "crawler",
    "version": "0.2.0",
    "description": "Crawls a wiki.",
    "api_version": ">=1.0,<2",
    "dependencies": ["lumina-core >= 0.1.0", "memory >= 0.2.0"],
    "endpoints": [
        {"path": "/crawler/status", "method": "GET", "description": "Progress."},
        {"path": "/crawler/crawl", "method": "POST"},
    ],
    "permissions": ["net:http", "events:publish", "service:knowledge"],
    "config": {"type": "object", "properties": {"rate": {"type": "string", "default": "5/minute"}}},
    "ui": {"panels": [{"title": "Crawl", "endpoint": "/crawler/status", "kind": "stat"}]},
}


def problems_of(document: Any) -> list[str]:
    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest(document, label="plugins/crawler/manifest.yml")
    return [str(p) for p in caught.value.problems]


def changed(**fields: Any) -> dict[str, Any]:
    document = copy.deepcopy(GOOD)
    document.update(fields)
    return document


def test_a_good_manifest_becomes_typed_fields() -> None:
    manifest = parse_manifest(GOOD, label="m.yml")
    assert manifest.name == "crawler"
    assert str(manifest.version) == "0.2.0"
    assert manifest.prefix == "/crawler"
    assert [str(r) for r in manifest.dependencies] == ["lumina-core>=0.1.0", "memory>=0.2.0"]
    assert manifest.permissions == {"net:http", "events:publish", "service:knowledge"}
    assert manifest.panels[0].kind == "stat"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            changed(endpoints=[GOOD["endpoints"][0], {"path": "/crawler/x", "method": "FETCH"}]),
            "plugins/crawler/manifest.yml: endpoints[1].method: 'FETCH' is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
        ),
        (changed(colour="blue"), "colour: unknown field; allowed fields are"),
        (changed(version="one point two"), "version: 'one point two' is not a valid version"),
        (changed(version=1.2), "version: expected text, found a number 1.2"),
        (changed(api_version=">>1"), "api_version: '>>1' is not a valid version range"),
        (changed(dependencies=["memory >== 2"]), "dependencies[0]: 'memory >== 2' is not a valid dependency"),
        (changed(dependencies=["memory", "memory"]), "dependencies: lists the same entry more than once"),
        (changed(dependencies=["memory>=1", "memory<3"]), "dependencies[1]: 'memory' is listed more than once"),
        (changed(dependencies=["crawler"]), "dependencies[0]: a plugin cannot depend on itself"),
        (changed(name="Crawler!"), "name: 'Crawler!' is not allowed: use lower-case letters"),
        (
            changed(endpoints=[{"path": "/memory/steal", "method": "GET"}]),
            "endpoints[0].path: '/memory/steal' is outside the plugin's prefix '/crawler'",
        ),
        (
            changed(endpoints=[{"path": "/crawler/a", "method": "GET"}, {"path": "/crawler/a", "method": "GET"}]),
            "endpoints[1]: GET /crawler/a is already declared at endpoints[0]",
        ),
        (changed(permissions=["root:everything"]), "permissions[0]: 'root:everything' is not a known permission"),
        (changed(config={"type": "no-such-type"}), "config: is not a valid JSON Schema"),
        (
            changed(ui={"panels": [{"title": "X", "endpoint": "/crawler/nope", "kind": "stat"}]}),
            "ui.panels[0].endpoint: '/crawler/nope' is not a declared GET endpoint of this plugin",
        ),
        ({k: v for k, v in GOOD.items() if k != "api_version"}, "api_version: is required"),
    ],
    ids=[
        "bad-method", "unknown-field", "bad-version", "version-wrong-type", "bad-range",
        "bad-dependency", "duplicate-dependency", "dependency-twice", "self-dependency", "bad-name",
        "outside-prefix", "duplicate-endpoint", "unknown-permission", "bad-config-schema",
        "panel-endpoint", "missing-field",
    ],
)
def test_each_kind_of_problem_is_one_line_with_its_field_path(document: dict[str, Any], expected: str) -> None:
    problems = problems_of(document)
    assert any(expected in line for line in problems), problems
    assert all(line.startswith("plugins/crawler/manifest.yml: ") for line in problems)


def test_several_problems_are_all_reported_at_once() -> None:
    problems = problems_of(changed(name="Bad Name", version="x", colour="red"))
    assert len(problems) >= 3


def test_an_empty_or_non_mapping_document_is_explained() -> None:
    assert problems_of(None) == ["plugins/crawler/manifest.yml: expected a mapping of fields, found an empty file"]
    assert "found list" in problems_of(["a"])[0]


def test_broken_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "manifest.yml"
    path.write_text("name: x\nversion: [1\n")
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest(path, shown_as="manifest.yml")
    assert str(caught.value).startswith("manifest.yml: line 3, column 1: is not valid YAML")


def test_a_prefix_may_be_a_list_and_endpoints_may_use_any_of_them() -> None:
    manifest = parse_manifest(
        changed(prefix=["/memory", "/threads"], endpoints=[{"path": "/threads/{id}", "method": "GET"}], ui={}),
        label="m.yml",
    )
    assert manifest.prefixes == ("/memory", "/threads")


def test_the_schema_file_lists_exactly_the_known_permissions() -> None:
    items = manifest_schema()["properties"]["permissions"]["items"]["anyOf"]
    assert sorted(items[0]["enum"]) == sorted(PERMISSIONS)


def test_the_committed_schema_is_the_one_the_host_uses() -> None:
    committed = json.loads((Path(__file__).parents[2] / "manifests" / "plugin.schema.json").read_text())
    assert committed == manifest_schema()


def test_every_fixture_manifest_that_should_be_valid_is_valid(fixture_plugins: Path) -> None:
    for path in fixture_plugins.glob("*/manifest.yml"):
        if path.parent.name != "fx_invalid_manifest":
            load_manifest(path)
    assert yaml.safe_load((fixture_plugins / "fx_hello" / "manifest.yml").read_text())["name"] == "hello"


def test_an_endpoint_marked_as_a_tool_gets_its_defaults() -> None:
    endpoints = [
        {"path": "/crawler/pages/{page_id}", "method": "GET", "description": "One crawled page.", "tool": True},
        {"path": "/crawler/search", "method": "POST", "description": "Search.", "tool": {
            "name": "crawl_search", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}},
        {"path": "/crawler/status", "method": "GET"},
    ]
    manifest = parse_manifest(changed(endpoints=endpoints), label="m.yml")
    page, search, status = (e.tool for e in manifest.endpoints)
    assert page is not None and page.name == "crawler_pages" and page.description == "One crawled page."
    assert page.input_schema == {"type": "object", "properties": {"page_id": {"type": "string"}}, "required": ["page_id"]}
    assert search is not None and search.name == "crawl_search" and search.description == "Search."
    assert status is None
    assert manifest.to_dict()["endpoints"][1]["tool"]["name"] == "crawl_search"


@pytest.mark.parametrize(
    ("endpoints", "expected"),
    [
        ([{"path": "/crawler/a", "method": "GET", "tool": True}],
         "endpoints[0].tool.description: is required when the endpoint has no description"),
        ([{"path": "/crawler/a", "method": "GET", "description": "d", "tool": {"nme": "x"}}],
         "endpoints[0].tool.nme: unknown field; allowed fields are description, input_schema, name"),
        ([{"path": "/crawler/a", "method": "GET", "description": "d", "tool": {"name": "9 lives"}}],
         "endpoints[0].tool.name: '9 lives' is not allowed: use letters, digits, '_' and '-'"),
        ([{"path": "/crawler/a/{id}", "method": "GET", "description": "d",
           "tool": {"input_schema": {"type": "object", "properties": {}}}}],
         "endpoints[0].tool.input_schema.properties: lacks 'id', a parameter of the path '/crawler/a/{id}'"),
        ([{"path": "/crawler/a", "method": "GET", "description": "d", "tool": {"input_schema": {"type": "string"}}}],
         "endpoints[0].tool.input_schema.type: must be 'object'"),
        ([{"path": "/crawler/a", "method": "GET", "description": "d", "tool": {"input_schema": {"type": "nope"}}}],
         "endpoints[0].tool.input_schema: is not a valid JSON Schema"),
        ([{"path": "/crawler/a", "method": "HEAD", "description": "d", "tool": True}],
         "endpoints[0].method: HEAD cannot be a tool"),
        ([{"path": "/crawler/a", "method": "GET", "description": "d", "tool": True},
          {"path": "/crawler/a", "method": "DELETE", "description": "d", "tool": True}],
         "endpoints[1].tool.name: 'crawler_a' already names the tool of endpoints[0]: give another"),
        ([{"path": "/crawler/a", "method": "GET", "description": "d", "tool": "yes"}],
         "endpoints[0].tool: expected true or false or a mapping, found text 'yes'"),
    ],
)
def test_a_bad_tool_marker_is_refused_with_its_field(endpoints: list[dict[str, Any]], expected: str) -> None:
    assert any(expected in problem for problem in problems_of(changed(endpoints=endpoints, ui={}))), problems_of(
        changed(endpoints=endpoints, ui={}))
