"""``lumina models``: list the configured models, check the embedded model files (issue 3)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from lumina_cli.main import cli


def test_check_finds_every_embedded_model_file() -> None:
    result = CliRunner().invoke(cli, ["models", "check"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == ["ok", "ok", "ok"]


def test_list_shows_the_embedded_model_when_no_server_is_configured(tmp_path, monkeypatch) -> None:
    for name in ("OLLAMA_URL", "OPENAI_BASE_URL", "LUMINA_LLM_PROVIDERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LUMINA_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["models", "list", "--json"])
    assert result.exit_code == 0
    [model] = json.loads(result.output)
    assert model["id"] == "smollm2-135m-instruct.q4_1" and model["provider"] == "embedded"
    assert model["size"] > 50_000_000 and model["details"]["parameter_size"] == "135M"


def test_list_fails_when_no_provider_answers(tmp_path, monkeypatch, pick_free_port) -> None:
    monkeypatch.setenv("LUMINA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LUMINA_LLM_PROVIDERS", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{pick_free_port()}/v1")
    result = CliRunner().invoke(cli, ["models", "list"])
    assert result.exit_code == 1 and "no configured provider serves a model" in result.output
