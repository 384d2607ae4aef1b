"""What an event is: a typed, versioned record, and how types map onto streams and patterns.

An event is the mapping every handler and client sees::

    {"id": "...", "type": "graph.node_added", "v": 1, "ts": "2026-01-01T00:00:00.000Z",
     "source": "crawler", "payload": {...}}

Its *area* (the part of ``type`` before the first dot) picks the stream it travels on, and the
stream's name carries the bus format version (``graph/v1``), so a new format can run beside the
old one during an upgrade.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from lumina_core.errors import ValidationFailed

#: Version of the envelope on the streams (not of any payload, which has its own ``v``).
STREAM_VERSION = 1
Event = dict[str, Any]

_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_PATTERN = re.compile(r"^[a-z0-9_.*]+$")


def make_event(event_type: str, payload: Mapping[str, Any], *, source: str, v: int = 1) -> Event:
    """A new event; a bad type is the caller's 422 (a payload that is not JSON fails in ``encode``)."""
    if not _TYPE.match(event_type):
        raise ValidationFailed(
            f"event type '{event_type}' must be 'area.thing_happened': lower-case words joined by dots",
            field="type",
        )
    return {
        "id": uuid.uuid4().hex,
        "type": event_type,
        "v": v,
        "ts": now_iso(),
        "source": source,
        "payload": dict(payload),
    }


def encode(event: Event) -> tuple[str, str]:
    """(the event as JSON, its payload as JSON), encoding the payload once; 422 if it is not JSON."""
    try:
        payload = json.dumps(event["payload"])
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"payload of '{event['type']}' is not JSON: {exc}", field="payload") from None
    head = json.dumps({key: event[key] for key in ("id", "type", "v", "ts", "source")})
    return f'{head[:-1]}, "payload": {payload}}}', payload


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stream_of(event_type: str) -> str:
    """``graph.node_added`` travels on ``graph/v1``."""
    return f"{event_type.split('.', 1)[0]}/v{STREAM_VERSION}"


def check_pattern(pattern: str) -> str:
    """A subscription pattern: an event type with ``*`` wildcards (``graph.*``, ``*``)."""
    if not _PATTERN.match(pattern):
        raise ValidationFailed(
            f"event pattern '{pattern}' may hold only lower-case words, dots and '*' (e.g. graph.*)",
            field="type",
        )
    return pattern


def matches(event_type: str, patterns: tuple[str, ...] | str) -> bool:
    if isinstance(patterns, str):
        return fnmatchcase(event_type, patterns)
    return any(fnmatchcase(event_type, p) for p in patterns)


def streams_for(pattern: str) -> str | None:
    """The one stream a pattern can match, or None when its area is a wildcard."""
    area = pattern.split(".", 1)[0]
    return None if "*" in area else f"{area}/v{STREAM_VERSION}"
