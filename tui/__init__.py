"""``lumina tui``: a live terminal dashboard of a Lumina server, speaking only its HTTP API."""
