"""The ``tool_router`` service: every tool a user may call, the router that picks among them, and
the invoker that runs them. Routes, the gateway (through :class:`~lumina_core.contract.ToolRouter`)
and Lumina's MCP server all use this one object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from lumina_core.contract import Message, Tool, ToolCall
from lumina_core.errors import Conflict, NotFound, ValidationFailed
from lumina_core.plugins.manifest import Manifest
from lumina_router_tools.calls import Invoker, ToolResult
from lumina_router_tools.definitions import ToolSpec, check_input_schema
from lumina_router_tools.mcp_client import McpServers
from lumina_router_tools.own_tools import PLUGIN_OWNER, endpoint_specs
from lumina_router_tools.router import Decision, Router
from lumina_router_tools.store import GLOBAL_OWNER, McpServerSpec, ToolStore, owner_of

class ToolService:
    def __init__(self, store: ToolStore, servers: McpServers, router: Router, invoker: Invoker,
                 plugin_tools: Any | None, manifests: Callable[[], Iterable[Manifest]] = list) -> None:
        self.store = store
        self.servers = servers
        self.router = router
        self.invoker = invoker
        self._plugin_tools = plugin_tools
        self._manifests = manifests

    # --- what a user sees ------------------------------------------------------------------------

    def plugin_tools(self) -> dict[str, Tool]:
        shelf = self._plugin_tools
        return {tool.name: tool for _, tool in (shelf.tools() if shelf is not None else ())}

    def plugin_specs(self) -> list[ToolSpec]:
        """The tools plugins offer: through ``register_tools``, and their endpoints marked as tools."""
        registered = [ToolSpec(t.name, t.description, t.parameters, "plugin", "global", PLUGIN_OWNER)
                      for t in self.plugin_tools().values()]
        return [*endpoint_specs(self._manifests()), *registered]

    def tools_for(self, user_id: str) -> list[ToolSpec]:
        """Every tool ``user_id`` may call: plugins' (marked endpoints too), the global ones, MCP servers', their own.
        A name is one tool: a user's own tool cannot shadow a plugin's or an MCP server's."""
        tools: dict[str, ToolSpec] = {}
        for spec in [*self.store.tools_for(user_id), *(s for c in self.servers.visible_to(user_id) for s in c.specs()),
                     *self.plugin_specs()]:
            tools[spec.name] = spec
        return sorted(tools.values(), key=lambda s: s.name)

    def tool_for(self, user_id: str, name: str) -> ToolSpec:
        found = next((t for t in self.tools_for(user_id) if t.name == name), None)
        if found is None:
            raise NotFound(f"you have no tool named '{name}' (GET /router/tools lists yours)")
        return found

    # --- registering -----------------------------------------------------------------------------

    def register(self, spec: ToolSpec) -> ToolSpec:
        taken = next((t for t in self.tools_for(spec.owner if spec.owner != GLOBAL_OWNER else "")
                      if t.name == spec.name and t.kind != "http"), None)
        if taken is not None:
            raise Conflict(f"the name '{spec.name}' is taken by a {taken.kind} tool: choose another", field="name")
        return self.store.put_tool(spec)

    def unregister(self, user_id: str, name: str, *, scope: str) -> None:
        if not self.store.delete_tool(owner_of(scope, user_id), name):  # type: ignore[arg-type]
            raise NotFound(f"you have no {scope} tool named '{name}'")

    # --- deciding and running ------------------------------------------------------------------------

    async def decide(self, message: str, tools: Sequence[ToolSpec], *, choice: str = "auto") -> Decision:
        return await self.router.decide(message, tools, choice=choice)

    async def run(self, calls: Sequence[ToolCall], tools: Sequence[ToolSpec], *, user_id: str) -> list[ToolResult]:
        return await self.invoker.run_all(calls, {t.name: t for t in tools}, user_id=user_id)

    async def choose_tools(
        self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]], *, user_id: str, choice: str
    ) -> tuple[Sequence[ToolCall], Mapping[str, Any]]:
        """:class:`~lumina_core.contract.ToolRouter`: which of a client's tools to call."""
        offered = [client_spec(t, index) for index, t in enumerate(tools)]
        message = next((m.content for m in reversed(messages) if m.role == "user"), "")
        decision = await self.decide(message, offered, choice=choice)
        return decision.calls, decision.to_dict()

    # --- MCP servers ---------------------------------------------------------------------------------

    async def add_server(self, spec: McpServerSpec, *, wait_s: float) -> dict[str, Any]:
        self.store.put_server(spec)
        connection = await self.servers.add(spec, wait_s=wait_s)
        return connection.describe()

    async def remove_server(self, owner: str, name: str) -> None:
        if not self.store.delete_server(owner, name):
            raise NotFound(f"you have no MCP server named '{name}'")
        await self.servers.remove((owner, name))

    async def start_servers(self) -> None:
        for spec in self.store.servers():
            await self.servers.add(spec)


def client_spec(tool: Mapping[str, Any], index: int) -> ToolSpec:
    """A tool a client offered (OpenAI's function shape); the client runs it, never the server."""
    schema = tool.get("parameters") or {"type": "object", "properties": {}}
    check_input_schema(schema, where=f"tools[{index}].function.parameters")
    name = str(tool.get("name") or "")
    if not name:
        raise ValidationFailed("every tool needs a name", field=f"tools[{index}].function.name")
    return ToolSpec(name, str(tool.get("description") or name), schema, "client", "user")
