"""Pad names and owners: a user's pads are theirs alone; Lumina's own thinking has pads too.

Reflection writes to ``reflection:<article id>`` and the dream cycle to ``dream:<date>``, both
owned by the system (owner ``""``): no user can write there, admins can read them, anyone else
gets the same 404 as for another user's pad.
"""

from __future__ import annotations

import re

from lumina_core.errors import ValidationFailed

SYSTEM_OWNER = ""
SYSTEM_PREFIXES = ("reflection:", "dream:")
#: Names the plugin's own routes use (``GET /scratchpad/stats``, ``POST /scratchpad/dream``).
ROUTE_NAMES = frozenset({"stats", "dream"})
PAD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def reflection_pad(article_id: str) -> str:
    return f"reflection:{article_id}"


def dream_pad(day: str) -> str:
    return f"dream:{day}"


def is_system_pad(pad: str) -> bool:
    return pad.startswith(SYSTEM_PREFIXES)


def check_pad_name(pad: str) -> None:
    """Raise a 422 naming the rule unless ``pad`` can name a pad."""
    if not PAD_NAME.match(pad) or pad in ROUTE_NAMES:
        raise ValidationFailed(
            f"'{pad}' cannot name a pad: use 1-128 letters, digits, '.', '_', ':' or '-', starting with a "
            f"letter or digit, and not {' or '.join(sorted(ROUTE_NAMES))}", field="pad")
