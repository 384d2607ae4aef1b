"""Lumina's kernel: the plugin host every other part of Lumina plugs into."""
from lumina_core.version import API_VERSION, __version__

__all__ = ["API_VERSION", "__version__"]
