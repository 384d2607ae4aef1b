"""Documents: each user's files and notes, searchable and cited (its hooks are in :mod:`lumina_documents.plugin`)."""
