"""The documents plugin's limits: ``LUMINA_UPLOAD_MAX_MB`` per file, ``LUMINA_USER_QUOTA_MB`` per user.

Read from the environment; the plugin's own config section (``upload_max_mb``, ``user_quota_mb``
in the YAML file or ``LUMINA_PLUGIN_CONFIG__DOCUMENTS__...``) wins over them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024


class DocumentsSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    upload_max_mb: float = Field(50.0, gt=0, validation_alias=AliasChoices("upload_max_mb", "LUMINA_UPLOAD_MAX_MB"),
                                 description="Largest file one upload may carry, in MiB.")
    user_quota_mb: float = Field(500.0, gt=0, validation_alias=AliasChoices("user_quota_mb", "LUMINA_USER_QUOTA_MB"),
                                 description="What all of one user's files and notes may take together, in MiB.")
    context_passages: int = Field(3, ge=0, le=10, description="Passages of the brain a chat prompt may receive.")

    @property
    def upload_max_bytes(self) -> int:
        return int(self.upload_max_mb * MB)

    @property
    def user_quota_bytes(self) -> int:
        return int(self.user_quota_mb * MB)


def documents_settings(config: Mapping[str, Any]) -> DocumentsSettings:
    """Environment first, then the plugin's config section on top."""
    return DocumentsSettings(**{k: v for k, v in config.items() if v is not None})
