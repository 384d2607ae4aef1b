"""Scratch-pad: short-lived working memory, reflection, compression and the dream cycle (hooks in :mod:`lumina_scratchpad.plugin`)."""
