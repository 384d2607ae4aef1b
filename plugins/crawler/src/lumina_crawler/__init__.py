"""Lumina's crawler: brings Wikipedia (or any MediaWiki) into the knowledge index and graph."""
