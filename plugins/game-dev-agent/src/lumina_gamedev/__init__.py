"""Lumina game-dev-agent: a Unity / Unreal helper (index, Q&A with file:line, explain, lint, scaffold)."""
