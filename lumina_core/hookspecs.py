"""The whole plugin contract: every hook a plugin may implement.

A plugin is a module (or an object) whose functions are marked with :data:`hookimpl` and named
after the specs below. Each hook receives only the arguments it names, as in pluggy. Rules that
hold for every hook:

* ``ctx`` is the plugin's own :class:`~lumina_core.context.PluginContext`; it grants exactly
  the capabilities the manifest's ``permissions`` name.
* A hook may be a coroutine function; the host awaits it.
* Some hooks need a permission (see :data:`lumina_core.permissions.HOOK_PERMISSIONS`); a plugin
  implementing one without it is refused at load.
* An exception or a timeout in one plugin's hook is recorded against that plugin and never
  reaches other plugins or the caller.

Start-time hooks (``register_*``, ``startup``) are called once per plugin start, in the order
of this module; what they register is owned by the plugin and removed when it stops.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    import click
    from fastapi import APIRouter

    from lumina_core.context import PluginContext
    from lumina_core.contract import (
        ChatRequest,
        ChatTurn,
        ContextBlock,
        EventHandler,
        HealthCheck,
        PeriodicJob,
        TaskHandler,
        Tool,
    )

PROJECT = "lumina"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- start-time registration, called once per plugin start, in this order ------------------


@hookspec
def register_services(ctx: PluginContext) -> Mapping[str, Any] | None:
    """Offer named services to the host and to other plugins.

    Called first when the plugin starts. Return ``{name: service}``; other plugins reach a
    service through ``ctx.service(name)`` when their manifest lists ``service:<name>``. Core
    services (``llm``, ``embedder``, ``vectors``, ``events``, ``tasks`` ...) are offered this
    way by the host's own built-in plugins. Needs ``services:provide``.
    """


@hookspec
def startup(ctx: PluginContext) -> None:
    """Prepare the plugin: open files, warm caches, check configuration.

    Called after ``register_services``. Bounded by ``LUMINA_STARTUP_TIMEOUT``; raising or
    timing out marks the plugin ``failed`` and the host carries on without it.
    """


@hookspec
def register_routes(ctx: PluginContext) -> APIRouter | None:
    """Return the plugin's HTTP routes, built on ``ctx.router()``.

    The router is mounted under the plugin's prefix; every route must be declared under
    ``endpoints`` in the manifest, and may not collide with another plugin's. Routes are
    unmounted when the plugin stops (they answer 404) and answer 503 while it has failed.
    """


@hookspec
def register_event_handlers(ctx: PluginContext) -> Mapping[str, EventHandler] | None:
    """Return ``{topic pattern: async handler}`` for events to receive.

    Patterns are event types with ``*`` wildcards (``graph.*``). Handlers get the event as a
    mapping with ``type``, ``v``, ``ts``, ``source`` and the payload. Needs ``events:subscribe``.
    """


@hookspec
def register_task_handlers(ctx: PluginContext) -> Mapping[str, TaskHandler] | None:
    """Return ``{task kind: async handler}`` for background tasks this plugin runs.

    A task ``{"crawl": [...], ...}`` is routed to the handler of kind ``crawl``. Delivery is at
    least once, so handlers must be idempotent. Needs ``tasks:handle``.
    """


@hookspec
def register_periodic_jobs(ctx: PluginContext) -> Iterable[PeriodicJob] | None:
    """Return jobs with cron expressions; each runs once per schedule across all workers.

    Needs ``tasks:schedule``.
    """


@hookspec
def register_models(ctx: PluginContext) -> Iterable[Any] | None:
    """Return language-model providers to add to the host's model list. Needs ``llm:provide``."""


@hookspec
def register_tools(ctx: PluginContext) -> Iterable[Tool] | None:
    """Return tools that models may call (name, description, JSON Schema, coroutine).

    Needs ``tools:provide``.
    """


# --- shared hooks, called on every started plugin that implements them ---------------------


@hookspec
def chat_context(ctx: PluginContext, request: ChatRequest) -> Iterable[ContextBlock] | None:
    """Contribute context blocks (memories, passages, persona ...) to a chat prompt.

    Called for every chat request before the prompt is assembled; plugins run concurrently and
    each is bounded by ``LUMINA_HOOK_TIMEOUT``, so a slow plugin only loses its blocks. Needs
    ``chat:context``.
    """


@hookspec
def after_chat_turn(ctx: PluginContext, turn: ChatTurn) -> None:
    """Learn from a finished turn: store it, update a persona, note a weak answer.

    Called in the background after the reply has been sent; it never delays the reply. Needs
    ``read:chat_history``.
    """


@hookspec
def health_check(ctx: PluginContext) -> HealthCheck | Iterable[HealthCheck] | None:
    """Report the health of what this plugin depends on, for ``GET /health``.

    Keep it cheap (it is polled); a check that raises or times out reports the plugin ``down``.
    """


@hookspec
def snapshot(ctx: PluginContext, target: Path) -> None:
    """Write a consistent copy of the plugin's state into ``target`` for ``lumina freeze``.

    ``target`` stands for the plugin's data folder: what is written there is what
    ``lumina restore`` puts back in ``ctx.data_dir``. Implement it only when the state is more
    than files (a buffer to flush, a store that needs its own export); without it the host
    copies the data folder itself, SQLite files through SQLite's online backup API. Called on
    the running server by ``POST /admin/freeze``, bounded by ten minutes; raising fails the
    freeze with the plugin's name, leaving no archive.
    """


@hookspec
def shutdown(ctx: PluginContext) -> None:
    """Release what ``startup`` acquired. Called when the plugin stops, reloads or the host exits."""


# --- command line -------------------------------------------------------------------------


@hookspec
def check_config(config: Mapping[str, Any]) -> Iterable[str] | None:
    """Problems with the plugin's settings that the manifest's ``config`` schema cannot see (a
    file a setting names, say a goal file), one line each: ``file: field.path: message``.

    Called by ``lumina plugin check`` with the plugin's effective settings, when no server may be
    running, so no context is available; ``startup`` should refuse the same problems.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``lumina`` command line (``lumina memory rebuild`` ...).

    Called when the CLI starts, for every valid, enabled plugin; no context is available here
    because no server may be running.
    """
