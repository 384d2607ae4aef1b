"""``lumina dev``: the server with hot reload for people writing plugins.

Two levels, as cheap as each change allows:

* a saved file of a plugin reloads that plugin only, in-process
  (:func:`lumina_core.plugins.reloader.watch_and_reload` runs next to the server);
* a saved file of lumina-core or of the CLI restarts the whole server process, as
  ``uvicorn --reload`` does: this process supervises a server child with ``watchfiles.run_process``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from watchfiles import PythonFilter, run_process
from watchfiles.main import FileChange

import lumina_cli
import lumina_core
from lumina_core.logs import configure_logging
from lumina_core.settings import Settings, load_settings

log = logging.getLogger("lumina.dev")

#: Host files that are not Python but change its behaviour (the manifest schema, the templates).
CORE_EXTENSIONS = (".json", ".tmpl")


def core_folders() -> list[Path]:
    """The folders whose change needs a new process: lumina-core and the CLI."""
    return [Path(lumina_core.__file__).parent, Path(lumina_cli.__file__).parent]


def run_dev(settings: Settings, overrides: dict[str, Any], restart_on: Sequence[Path] = ()) -> int:
    """Supervise a server child until interrupted, restarting it when core files change."""
    configure_logging(settings.log_level)
    folders = [*core_folders(), *(folder.resolve() for folder in restart_on)]
    log.info("dev server on http://%s:%d; restarting on changes in %s", settings.host, settings.port,
             ", ".join(map(str, folders)))
    run_process(
        *folders,
        target=serve_with_plugin_reload,
        args=(overrides,),
        watch_filter=PythonFilter(extra_extensions=CORE_EXTENSIONS),
        callback=_announce_restart,
    )
    return 0


def serve_with_plugin_reload(overrides: dict[str, Any]) -> None:
    """The server child: serve, and reload each plugin in place when its files change."""
    from lumina_cli.server import run_server
    from lumina_core.plugins.reloader import watch_and_reload

    sys.exit(run_server(load_settings(**overrides), companion=watch_and_reload))


def _announce_restart(changes: set[FileChange]) -> None:
    changed = sorted(path for _change, path in changes)
    more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
    log.warning("%s changed%s: restarting the whole server", changed[0], more)
