"""Lumina's knowledge base: passages, hybrid retrieval and answers that cite them."""
