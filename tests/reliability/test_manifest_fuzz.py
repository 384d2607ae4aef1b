"""Hypothesis over manifests: whatever a manifest.yml holds, reading it ends in a manifest or in a
clear ManifestInvalid naming the problems, never in another exception."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lumina_core.permissions import PERMISSIONS
from lumina_core.plugins.manifest import Manifest, ManifestInvalid, load_manifest, parse_manifest

FIELDS = ["name", "version", "description", "api_version", "dependencies", "prefix", "endpoints", "permissions",
          "config", "ui", "entry", "unknown"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30),
                    st.sampled_from(["0.1.0", ">=1.0,<2", "/x", "GET", "lumina-core >= 0.1.0", *PERMISSIONS]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.sampled_from(["path", "method", "description", "title", "endpoint", "kind", "panels", "type", *FIELDS]),
    inner, max_size=4), max_leaves=12)
VALID = {"name": "fuzzed", "version": "0.1.0", "description": "A fuzzed plugin.", "api_version": ">=1.0,<2"}
documents = st.one_of(
    values,
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=8),
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=4).map(lambda extra: {**VALID, **extra}),
)


def read(document: object) -> Manifest | ManifestInvalid:
    try:
        return parse_manifest(document, label="fuzzed/manifest.yml")
    except ManifestInvalid as invalid:
        return invalid


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_document_is_a_manifest_or_a_clear_refusal(document: object) -> None:
    outcome = read(document)
    if isinstance(outcome, ManifestInvalid):
        assert outcome.problems and all(str(problem) for problem in outcome.problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_any_file_text_is_a_manifest_or_a_clear_refusal(tmp_path: Path, text: str) -> None:
    path = tmp_path / "manifest.yml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        load_manifest(path)
    except ManifestInvalid as invalid:
        assert invalid.problems


def test_the_valid_core_of_the_strategy_is_accepted() -> None:
    assert isinstance(read(VALID), Manifest)
    assert isinstance(read(yaml.safe_load(yaml.safe_dump(VALID))), Manifest)
