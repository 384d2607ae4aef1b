"""Scratch-pad: working memory with a TTL, reflection, compression, dreams (hooks: :mod:`lumina_scratchpad.plugin`)."""
