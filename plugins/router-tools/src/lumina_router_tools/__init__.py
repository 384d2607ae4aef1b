"""Router-tools: a Lumina plugin (its hooks are in :mod:`lumina_router_tools.plugin`)."""
