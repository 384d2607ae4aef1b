"""``lumina mcp``: Lumina's tools for an MCP client over stdio (Claude Desktop, an IDE ...).

The command starts a host in this process, as the local user, and speaks MCP on stdin and
stdout; logs go to stderr, since stdout belongs to the protocol.
"""

from __future__ import annotations

import asyncio
import logging
import sys

import click


def add_commands(cli: click.Group) -> None:
    @cli.command("mcp")
    def mcp_command() -> None:
        """Serve Lumina's tools over MCP on stdin/stdout.

        Example, in an MCP client's configuration: {"command": "lumina", "args": ["mcp"]}
        """
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
        asyncio.run(_serve())


async def _serve() -> None:
    from lumina_core.api.app import create_app
    from lumina_core.auth import LOCAL_USER_ID
    from lumina_core.settings import load_settings
    from lumina_router_tools import plugin
    from lumina_router_tools.mcp_server import build_server, serve_stdio
    from lumina_router_tools.own_tools import Caller

    app = create_app(load_settings())
    async with app.router.lifespan_context(app):
        if app.state.kernel.services.names().count("tool_router") == 0:
            raise click.ClickException("the router-tools plugin did not start: see `lumina plugin list`")
        await serve_stdio(build_server(plugin.tool_service), Caller(LOCAL_USER_ID, app))
