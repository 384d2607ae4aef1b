"""A real MCP server for the tests (the official SDK's FastMCP): stdio by default, streamable
HTTP with ``--http PORT``. Its tools: add two numbers, shout a text, fail on purpose."""

from __future__ import annotations

import sys

from mcp.server.fastmcp import FastMCP

server = FastMCP("calc")


@server.tool()
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


@server.tool()
def shout(text: str) -> str:
    """Repeat a text in capital letters."""
    return text.upper()


@server.tool()
def broken() -> str:
    """Always fails."""
    raise RuntimeError("broken on purpose")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.settings.port = int(sys.argv[2])
        server.settings.host = "127.0.0.1"
        server.run("streamable-http")
    else:
        server.run("stdio")
