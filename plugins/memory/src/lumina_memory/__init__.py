"""Lumina's memory plugin: every user's past turns, memories, threads and persona, per brain."""
