"""The plugin guide is generated from the code, and the committed copy is the generated one."""

from __future__ import annotations

import re

import pytest
import yaml

from lumina_core import hookspecs
from lumina_core.permissions import PERMISSIONS
from lumina_core.plugins.manifest import manifest_schema, parse_manifest
from ops.gen_plugin_guide import GUIDE, TEMPLATE, manifest_example, render_guide


@pytest.fixture(scope="module")
def guide() -> str:
    return render_guide(TEMPLATE.read_text("utf-8"))


def test_the_committed_guide_is_the_generated_one(guide: str) -> None:
    assert GUIDE.read_text("utf-8") == guide, "docs/plugins.md is out of date: run python -m ops.gen_plugin_guide"


def test_every_hook_is_documented_with_its_docstring(guide: str) -> None:
    specs = [v for v in vars(hookspecs).values() if hasattr(v, "lumina_spec")]
    for spec in specs:
        assert f"#### `{spec.__name__}`" in guide
        assert spec.__doc__.strip().splitlines()[0] in guide


def test_every_permission_and_manifest_field_is_documented(guide: str) -> None:
    for permission in PERMISSIONS:
        assert f"| `{permission}` |" in guide
    for field in manifest_schema()["properties"]:
        assert f"| `{field}` |" in guide


def test_the_guides_example_manifest_is_valid() -> None:
    text = re.search(r"```yaml\n(.*)```", manifest_example(), re.DOTALL).group(1)
    manifest = parse_manifest(yaml.safe_load(text), label="guide example")
    assert manifest.name == "date-note" and manifest.panels


def test_an_unknown_section_in_the_template_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown section {{nope}}; known: manifest_example"):
        render_guide("{{nope}}")
