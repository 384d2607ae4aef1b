"""Home Security: a Lumina plugin (its hooks are in :mod:`lumina_home_security.plugin`)."""
