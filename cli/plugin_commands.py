"""Plugins add ``lumina`` sub-commands through the ``register_commands`` hook."""

from __future__ import annotations

import logging

import click
import pluggy

from lumina_core import hookspecs
from lumina_core.errors import ConfigurationError
from lumina_core.kernel import Kernel
from lumina_core.plugins.records import PluginState
from lumina_core.settings import load_settings

log = logging.getLogger("lumina.cli")


def add_plugin_commands(group: click.Group) -> None:
    """Import every plugin that could start and let it add commands; a broken one is skipped."""
    try:
        settings = load_settings()
    except ConfigurationError:
        return  # the command itself will report the bad setting
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for record in Kernel(settings).survey():
        if record.state is not PluginState.DISCOVERED or record.source is None:
            continue
        try:
            manager.register(record.source.load(), name=record.name)
        except Exception as exc:  # noqa: BLE001 - one plugin must not break the command line
            log.warning("plugin '%s' could not add its commands: %s", record.name, exc)
    for impl in manager.hook.register_commands.get_hookimpls():
        try:
            impl.function(cli=group)
        except Exception as exc:  # noqa: BLE001
            log.warning("plugin '%s' could not add its commands: %s", impl.plugin_name, exc)
