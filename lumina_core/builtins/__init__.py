"""The host's own features, registered as plugins on the same hooks (as datasette does).

Each module here is a trusted plugin: it needs no manifest and may reach the kernel through
``ctx.kernel``. They start before any third-party plugin, in this order.
"""

from __future__ import annotations

from lumina_core.builtins import admin, auth, health, http, vectors
from lumina_core.builtins import events, limits, metrics, tasks
from lumina_core.builtins import freeze, gateway, models

BUILTINS: tuple[tuple[str, object], ...] = (
    ("core.events", events),
    ("core.tasks", tasks),
    ("core.limits", limits),
    ("core.metrics", metrics),
    ("core.auth", auth),
    ("core.admin", admin),
    ("core.health", health),
    ("core.http", http),
    ("core.vectors", vectors),
    ("core.models", models),
    ("core.gateway", gateway),
    ("core.freeze", freeze),
)
