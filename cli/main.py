"""The ``lumina`` command line: a thin front end over lumina_core's public API."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import httpx

from lumina_cli.events import events
from lumina_cli.freeze import freeze, restore
from lumina_cli.models import models
from lumina_cli.worker import worker
from lumina_core.errors import ConfigurationError
from lumina_core.services.vectors.commands import vectors as vectors_commands
from lumina_core.settings import Settings, load_settings
from lumina_core.version import API_VERSION, __version__

EXIT_USER_ERROR = 1


class LuminaGroup(click.Group):
    """The root group; plugins' commands are added only when a command is looked up."""

    _plugins_loaded = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None:
            self._load_plugin_commands()
            command = super().get_command(ctx, name)
        return command

    def _load_plugin_commands(self) -> None:
        if not self._plugins_loaded:
            self._plugins_loaded = True
            from lumina_cli.plugin_commands import add_plugin_commands

            add_plugin_commands(self)


def settings_or_exit(**overrides: Any) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigurationError as exc:
        raise click.ClickException(exc.message) from None


@click.group(cls=LuminaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lumina", message=f"%(prog)s %(version)s (plugin API {API_VERSION})")
def cli() -> None:
    """Lumina: a local-first, private AI assistant built as a plugin host.

    \b
    Start the server:       lumina serve
    See the plugins:        lumina plugin list
    Check a new plugin:     lumina plugin check plugins/crawler
    Write a plugin:         lumina plugin init weather --dir plugins, then lumina dev
    """


@cli.command()
@click.option("--host", help="Address to listen on (LUMINA_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (LUMINA_PORT, default 8000).")
@click.option("--strict", is_flag=True, default=None, help="Exit when any plugin cannot start.")
def serve(host: str | None, port: int | None, strict: bool | None) -> None:
    """Run the server with every enabled plugin.

    \b
    Example:  lumina serve --port 8080
    """
    from lumina_cli.server import run_server

    settings = settings_or_exit(host=host, port=port, strict=strict)
    sys.exit(run_server(settings))


@cli.command()
@click.option("--host", help="Address to listen on (LUMINA_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (LUMINA_PORT, default 8000).")
@click.option(
    "--restart-on", "restart_on", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also restart the whole server when files under this folder change (repeatable).",
)
def dev(host: str | None, port: int | None, restart_on: tuple[Path, ...]) -> None:
    """Run the server for plugin development, reloading code as it is saved.

    A saved file of a plugin (its installed package folder, or LUMINA_PLUGINS_DIR) reloads that
    plugin only, in place, while everything else keeps serving; if the new code fails, the
    previous version keeps serving and the error shows in the log and in GET /plugins/NAME.
    A saved file of lumina-core restarts the whole server.

    \b
    Example:  LUMINA_PLUGINS_DIR=./my-plugins lumina dev --port 8080
    """
    from lumina_cli.dev import run_dev

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    sys.exit(run_dev(settings_or_exit(**overrides), overrides, restart_on))


@cli.group()
def plugin() -> None:
    """Create, inspect, check, enable and disable plugins."""


@plugin.command("init")
@click.argument("name")
@click.option(
    "--dir", "parent", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
    help="Folder in which to create the plugin's folder NAME.",
)
def plugin_init(name: str, parent: Path) -> None:
    """Create a new plugin package DIR/NAME, ready to install, serve and test.

    It has a pyproject.toml with the lumina.plugins entry point, a valid manifest (one endpoint,
    its permission, one dashboard panel), a module with hooks and a route, a README and tests.
    An existing folder is never overwritten.

    \b
    Example:  lumina plugin init weather --dir plugins
    """
    from lumina_cli.plugin_init import InvalidPluginName, TargetExists, create_plugin

    try:
        written = create_plugin(name, parent)
    except (InvalidPluginName, TargetExists) as exc:
        raise click.ClickException(str(exc)) from None
    target = parent / name
    click.echo(f"created {target}:")
    for path in written:
        click.echo(f"  {path}")
    click.echo(f"next:\n  pip install -e {target}\n  lumina plugin check {target}\n  lumina dev\n  python -m pytest {target}/tests")


@plugin.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugin_list(as_json: bool) -> None:
    """List installed plugins and whether they can start (imports no plugin code).

    \b
    Example:  lumina plugin list --json
    """
    records = _survey()
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in records], indent=2))
        return
    if not records:
        click.echo("no plugins installed (entry point group 'lumina.plugins', or LUMINA_PLUGINS_DIR)")
        return
    rows = [(r.name, str(r.to_dict()["version"] or "-"), str(r.state), r.error or "") for r in records]
    widths = [max(len(row[i]) for row in rows + [("NAME", "VERSION", "STATE", "")]) for i in range(3)]
    click.echo(f"{'NAME':{widths[0]}}  {'VERSION':{widths[1]}}  {'STATE':{widths[2]}}  PROBLEM")
    for name, version, state, problem in rows:
        click.echo(f"{name:{widths[0]}}  {version:{widths[1]}}  {state:{widths[2]}}  {problem}".rstrip())


@plugin.command("show")
@click.argument("name")
def plugin_show(name: str) -> None:
    """Show one plugin: state, problems and manifest, as JSON.

    \b
    Example:  lumina plugin show memory
    """
    records = {r.name: r for r in _survey()}
    if name not in records:
        raise click.ClickException(f"no plugin named '{name}' (installed: {', '.join(sorted(records)) or 'none'})")
    click.echo(json.dumps(records[name].to_dict(detail=True), indent=2))


@plugin.command("check")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def plugin_check(path: Path) -> None:
    """Validate a manifest.yml, or a plugin folder, before installing it.

    Prints one line per problem (file: field: what is wrong) and exits 1 when there is any.

    \b
    Example:  lumina plugin check plugins/crawler
    """
    from lumina_cli.checks import check_plugin_path

    problems, summary = check_plugin_path(path)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(EXIT_USER_ERROR)
    click.echo(summary)


@plugin.command("enable")
@click.argument("name")
def plugin_enable(name: str) -> None:
    """Switch a plugin on, on the running server too when one answers.

    \b
    Example:  lumina plugin enable crawler
    """
    _switch(name, enabled=True)


@plugin.command("disable")
@click.argument("name")
def plugin_disable(name: str) -> None:
    """Switch a plugin off (kept across restarts); its routes answer 404 at once.

    \b
    Example:  lumina plugin disable crawler
    """
    _switch(name, enabled=False)


@plugin.command("reload")
@click.argument("name")
def plugin_reload(name: str) -> None:
    """Re-import a plugin on the running server; if the new code fails, the old one keeps serving.

    Exits 1 and prints the error when the reload was rolled back.

    \b
    Example:  lumina plugin reload crawler
    """
    settings = settings_or_exit()
    try:
        response = post_to_server(settings, f"/plugins/{name}/reload", timeout=60)
    except httpx.TransportError:
        raise click.ClickException(f"no server answers at {settings.url}: start one with lumina serve or lumina dev") from None
    if response.is_error:
        raise click.ClickException(error_message(response))
    detail = response.json()
    if detail.get("error"):
        raise click.ClickException(f"'{name}' is {detail['state']}: {detail['error']}")
    click.echo(f"reloaded '{name}' on the server at {settings.url}: now {detail['state']}")


@cli.command()
@click.option("--url", envvar="LUMINA_URL", default="http://127.0.0.1:8000", show_default=True, help="Server to watch (LUMINA_URL).")
@click.option("--token", envvar="LUMINA_TOKEN", help="Bearer token (LUMINA_TOKEN); asked for when the server wants one.")
def tui(url: str, token: str | None) -> None:
    """Open the live terminal dashboard of a running server (keys: 1-6 tabs, ctrl+p commands, q quit).

    \b
    Example:  lumina tui --url http://homeserver:8000
    """
    from lumina_tui.app import run

    run(url, token)


@cli.group()
def config() -> None:
    """Inspect the effective settings."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def config_show(as_json: bool) -> None:
    """Print every setting with its effective value (secrets masked).

    \b
    Example:  LUMINA_PORT=9000 lumina config show
    """
    settings = settings_or_exit()
    values = {name: _masked(name, getattr(settings, name)) for name in type(settings).model_fields}
    if as_json:
        click.echo(json.dumps(values, indent=2, default=str))
        return
    for name, value in values.items():
        click.echo(f"LUMINA_{name.upper()}={value}")


def _masked(name: str, value: Any) -> Any:
    secret = any(word in name for word in ("secret", "password", "token", "key"))
    return "********" if secret and value else value


def _survey() -> list[Any]:
    from lumina_core.kernel import Kernel

    return Kernel(settings_or_exit()).survey()


def _switch(name: str, *, enabled: bool) -> None:
    from lumina_core.plugins.state import EnabledStore

    settings = settings_or_exit()
    if name not in {r.name for r in _survey()}:
        raise click.ClickException(f"no plugin named '{name}' is installed (see: lumina plugin list)")
    action = "enable" if enabled else "disable"
    verb = f"{action}d"
    try:
        response = post_to_server(settings, f"/plugins/{name}/{action}")
    except httpx.TransportError:
        EnabledStore(settings.data_dir).set_enabled(name, enabled)
        click.echo(f"{verb} '{name}'; no server answers at {settings.url}, so it applies at the next start")
        return
    if response.is_error:
        raise click.ClickException(error_message(response))
    state = response.json().get("state")
    click.echo(f"{verb} '{name}' on the server at {settings.url}: now {state}")


def post_to_server(settings: Settings, path: str, *, timeout: float = 30) -> httpx.Response:
    """POST to the running server, signed in with ``LUMINA_TOKEN`` when one is set."""
    return httpx.post(f"{settings.url}{path}", headers=server_headers(settings), timeout=timeout)


def server_headers(settings: Settings) -> dict[str, str]:
    """The headers that sign a request to the server in with ``LUMINA_TOKEN``, when one is set."""
    return {"Authorization": f"Bearer {settings.token}"} if settings.token else {}


def error_message(response: httpx.Response) -> str:
    try:
        return response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"the server answered {response.status_code}"


cli.add_command(vectors_commands)
cli.add_command(worker)
cli.add_command(events)
cli.add_command(models)
cli.add_command(freeze)
cli.add_command(restore)
