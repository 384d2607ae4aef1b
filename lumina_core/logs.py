"""Logging for the whole host: one line per event, with the request id on every line.

* ``json`` (production): one JSON object per line, with ``request_id`` and, for a plugin's own
  logger (``ctx.logger`` is ``lumina.plugin.<name>``), a ``plugin`` field to filter on.
* ``console`` (development): aligned, coloured, readable lines.
* ``auto`` picks console when stderr is a terminal, JSON otherwise.
* ``LUMINA_LOG_FILE`` adds a JSON file rotated by size (``LUMINA_LOG_FILE_MAX_BYTES``,
  ``LUMINA_LOG_FILE_BACKUPS``).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lumina_core.api.middleware import RequestIdFilter

if TYPE_CHECKING:
    from lumina_core.settings import Settings

FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
PLUGIN_LOGGER = "lumina.plugin."
_COLOURS = {"DEBUG": "\x1b[2m", "INFO": "\x1b[32m", "WARNING": "\x1b[33m", "ERROR": "\x1b[31m", "CRITICAL": "\x1b[1;31m"}
_RESET, _DIM = "\x1b[0m", "\x1b[2m"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, message, request_id, plugin, error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.name.startswith(PLUGIN_LOGGER):
            entry["plugin"] = record.name[len(PLUGIN_LOGGER) :]
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    """Readable lines for a person at a terminal, the level in colour."""

    def __init__(self) -> None:
        super().__init__(FORMAT, datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        colour = _COLOURS.get(record.levelname, "")
        time = self.formatTime(record, self.datefmt)
        line = (
            f"{_DIM}{time}{_RESET} {colour}{record.levelname:<7}{_RESET} {record.name} "
            f"{_DIM}[{getattr(record, 'request_id', '-')}]{_RESET} {record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(settings: Settings | str = "INFO") -> None:
    """Send the host's logs to stderr (and the log file, when one is set), tagged with request ids.

    Takes the host's settings, or just a level name (plain lines, as before).
    """
    if isinstance(settings, str):
        level, style, handlers = settings, "plain", [logging.StreamHandler(sys.stderr)]
    else:
        level, style, handlers = settings.log_level, _style(settings.log_format), [logging.StreamHandler(sys.stderr)]
        if settings.log_file is not None:
            settings.log_file.parent.mkdir(parents=True, exist_ok=True)
            rotating = logging.handlers.RotatingFileHandler(
                settings.log_file, maxBytes=settings.log_file_max_bytes, backupCount=settings.log_file_backups,
                encoding="utf-8",
            )
            rotating.setFormatter(JsonFormatter())
            handlers.append(rotating)
    formatter = {"json": JsonFormatter(), "console": ConsoleFormatter()}.get(style, logging.Formatter(FORMAT))
    handlers[0].setFormatter(formatter)
    for handler in handlers:
        handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level)


def _style(log_format: str) -> str:
    if log_format == "auto":
        return "console" if sys.stderr.isatty() else "json"
    return log_format
