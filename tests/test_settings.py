"""Settings come from LUMINA_* variables, then .env, then a YAML file; bad ones are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from lumina_core.errors import ConfigurationError
from lumina_core.settings import load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in __import__("os").environ if n.startswith("LUMINA_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_listen_on_loopback_and_load_every_plugin() -> None:
    settings = load_settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.selected_plugins is None


def test_an_empty_selection_selects_no_plugin(monkeypatch) -> None:
    monkeypatch.setenv("LUMINA_LOAD_PLUGINS", "")
    assert load_settings().selected_plugins == frozenset()
    monkeypatch.setenv("LUMINA_LOAD_PLUGINS", "memory, crawler")
    assert load_settings().selected_plugins == {"memory", "crawler"}


def test_a_yaml_file_is_read_and_the_environment_wins(monkeypatch, tmp_path) -> None:
    (tmp_path / "lumina.yml").write_text("port: 9001\nhost: 0.0.0.0\nplugin_config:\n  crawler:\n    rate: 5/minute\n")
    monkeypatch.setenv("LUMINA_PORT", "9002")
    settings = load_settings()
    assert settings.port == 9002
    assert settings.host == "0.0.0.0"
    assert settings.plugin_config == {"crawler": {"rate": "5/minute"}}


def test_a_yaml_file_can_be_named(monkeypatch, tmp_path) -> None:
    (tmp_path / "elsewhere.yml").write_text("log_level: debug\n")
    monkeypatch.setenv("LUMINA_CONFIG_FILE", str(tmp_path / "elsewhere.yml"))
    assert load_settings().log_level == "DEBUG"


def test_dotenv_is_read(tmp_path) -> None:
    (tmp_path / ".env").write_text("LUMINA_PORT=9100\n")
    assert load_settings().port == 9100


def test_plugin_settings_come_from_nested_variables(monkeypatch) -> None:
    monkeypatch.setenv("LUMINA_PLUGIN_CONFIG__HELLO__GREETING", "hi")
    assert load_settings().plugin_config == {"hello": {"greeting": "hi"}}


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("LUMINA_PORT", "eighty", "LUMINA_PORT: Input should be a valid integer"),
        ("LUMINA_PORT", "70000", "LUMINA_PORT: Input should be less than or equal to 65535"),
        ("LUMINA_STRICT", "perhaps", "LUMINA_STRICT: Input should be a valid boolean"),
        ("LUMINA_LOG_LEVEL", "loud", "LUMINA_LOG_LEVEL: Value error, expected one of CRITICAL, DEBUG, ERROR, INFO, WARNING"),
    ],
)
def test_a_bad_setting_is_reported_by_its_variable_name(monkeypatch, variable, value, expected) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert expected in caught.value.message
    assert f"(got '{value}')" in caught.value.message
