"""Trainer: a Lumina plugin (its hooks are in :mod:`lumina_trainer.plugin`)."""
