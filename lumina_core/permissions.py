"""The permissions a manifest may name, and what each one grants.

A plugin's :class:`~lumina_core.context.PluginContext` hands out a capability only when the
manifest lists its permission; implementing a hook needs the hook's permission too. This table
is the single source: the manifest schema's enum, the plugin guide and the context's checks
are all checked against it.
"""

from __future__ import annotations

import re
from typing import Final

PERMISSIONS: Final[dict[str, str]] = {
    "llm:generate": "Generate text with the host's language models (ctx.llm).",
    "llm:provide": "Offer language-model providers to the host (register_models hook).",
    "embed:text": "Turn text into vectors with the host's embedder (ctx.embedder).",
    "read:vector_store": "Search and read points in the vector store (ctx.vectors).",
    "write:vector_store": "Insert, update and delete points in the vector store.",
    "read:chat_history": "See finished chat turns (after_chat_turn hook).",
    "write:chat_history": "Store and change chat history on behalf of users.",
    "chat:context": "Add context blocks to chat prompts (chat_context hook).",
    "events:publish": "Publish events on the bus (ctx.events.publish).",
    "events:subscribe": "Receive events from the bus (register_event_handlers hook).",
    "tasks:submit": "Queue background tasks (ctx.tasks.submit).",
    "tasks:handle": "Run background tasks of the kinds it names (register_task_handlers hook).",
    "tasks:schedule": "Run periodic jobs from cron expressions (register_periodic_jobs hook).",
    "net:http": "Make outgoing HTTP requests through the host's client (ctx.http).",
    "kv:cache": "Use the host's key-value cache (ctx.kv).",
    "auth:users": "Look up user accounts.",
    "services:provide": "Offer named services to other plugins (register_services hook).",
    "tools:provide": "Offer tools that models may call (register_tools hook).",
}

#: ``service:<name>`` grants use of a service another plugin provides (``ctx.service(name)``).
SERVICE_PERMISSION = re.compile(r"^service:[a-z][a-z0-9_.-]*$")

#: Hooks a plugin may only implement when its manifest grants the matching permission.
HOOK_PERMISSIONS: Final[dict[str, str]] = {
    "chat_context": "chat:context",
    "after_chat_turn": "read:chat_history",
    "register_event_handlers": "events:subscribe",
    "register_task_handlers": "tasks:handle",
    "register_periodic_jobs": "tasks:schedule",
    "register_services": "services:provide",
    "register_models": "llm:provide",
    "register_tools": "tools:provide",
}


def is_known(permission: str) -> bool:
    """True for a permission of the table or a ``service:<name>`` grant."""
    return permission in PERMISSIONS or bool(SERVICE_PERMISSION.match(permission))
