"""Lumina planner: knowledge gaps become crawls."""
