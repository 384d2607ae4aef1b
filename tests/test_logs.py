"""Logs: JSON lines in production with request id and plugin, colours in development, rotation."""

from __future__ import annotations

import json
import logging

import pytest

from lumina_core.api.middleware import request_id
from lumina_core.logs import configure_logging
from lumina_core.settings import load_settings


@pytest.fixture(autouse=True)
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:], root.level = handlers, level


def test_production_logs_are_json_with_request_id_and_plugin(capsys, tmp_path):
    configure_logging(load_settings(data_dir=tmp_path, log_format="json"))
    token = request_id.set("req-42")
    try:
        logging.getLogger("lumina.plugin.crawler").warning("fetched %d pages", 3)
    finally:
        request_id.reset(token)
    entry = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert entry["message"] == "fetched 3 pages" and entry["level"] == "warning"
    assert (entry["request_id"], entry["plugin"], entry["logger"]) == ("req-42", "crawler", "lumina.plugin.crawler")
    assert entry["ts"].endswith("Z")


def test_development_logs_are_coloured_lines(capsys, tmp_path):
    configure_logging(load_settings(data_dir=tmp_path, log_format="console"))
    logging.getLogger("lumina.kernel").error("plugin 'x' failed")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "\x1b[31mERROR" in line and "plugin 'x' failed" in line and "[-]" in line


def test_a_log_file_rotates_by_size(tmp_path):
    log_file = tmp_path / "logs" / "lumina.log"
    configure_logging(load_settings(data_dir=tmp_path, log_file=log_file, log_file_max_bytes=10_000, log_file_backups=2))
    for n in range(400):
        logging.getLogger("lumina.test").info("line %d with some padding to fill the file up", n)
    files = sorted(p.name for p in log_file.parent.iterdir())
    assert files == ["lumina.log", "lumina.log.1", "lumina.log.2"]
    assert json.loads(log_file.read_text().splitlines()[-1])["message"].startswith("line 399")
