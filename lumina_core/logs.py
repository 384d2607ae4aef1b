"""Logging for the whole host: one line per event, with the request id on every line."""

from __future__ import annotations

import logging
import sys

from lumina_core.api.middleware import RequestIdFilter

FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """Send the host's logs to stderr, each line tagged with its request id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
