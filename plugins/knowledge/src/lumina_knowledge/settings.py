"""The knowledge plugin's settings: environment names, overridable by the plugin's config section
(``LUMINA_PLUGIN_CONFIG__KNOWLEDGE__HYDE`` or the YAML file)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class KnowledgeSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    hyde: bool = Field(
        False, validation_alias=AliasChoices("hyde", "LUMINA_KNOWLEDGE_HYDE"),
        description="wiki_qa first has the model guess a short answer and searches with it beside the question.",
    )


def knowledge_settings(config: Mapping[str, Any]) -> KnowledgeSettings:
    """Environment first, then the plugin's config section on top."""
    return KnowledgeSettings(**{k: v for k, v in config.items() if v is not None})
