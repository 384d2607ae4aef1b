"""The scratch-pad's settings: the seeds' environment names, overridable per plugin config.

``SCRATCHPAD_TTL``, ``DREAM_CRON`` and ``REDIS_URL`` (or their ``LUMINA_``
forms) are read from the environment; the plugin's own config section (``plugin_config:
{scratch-pad: {ttl_s: 60}}`` in the YAML file) wins over them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(field: str, *names: str) -> AliasChoices:
    """The field's own name (plugin config), then each environment name bare and with ``LUMINA_``."""
    return AliasChoices(field, *names, *(f"LUMINA_{name}" for name in names))


class ScratchpadSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    ttl_s: float = Field(300.0, gt=0, validation_alias=_env("ttl_s", "SCRATCHPAD_TTL"),
                         description="Seconds a note lives when its request names no TTL.")
    reflect_budget_s: float = Field(30.0, ge=0, validation_alias=_env("reflect_budget_s", "SCRATCHPAD_REFLECT_BUDGET"),
                                    description="Seconds the model may spend on one article; then the "
                                                "article's own text fills in.")
    redis_url: str | None = Field(None, validation_alias=_env("redis_url", "REDIS_URL"),
                                  description="Redis for the pads (hashes); unset keeps them in this process.")
    redis_prefix: str = Field("lumina", validation_alias=_env("redis_prefix", "REDIS_PREFIX"),
                              description="Prefix of the Redis keys, as the core's.")
    dream_cron: str = Field("0 2 * * *", validation_alias=_env("dream_cron", "DREAM_CRON"),
                            description="When the dream cycle runs (nightly by default).")
    sweep_cron: str = Field("* * * * *", validation_alias=_env("sweep_cron", "SCRATCHPAD_SWEEP_CRON"),
                            description="When expired notes are compressed into the knowledge index or dropped.")
    recrawl_batch: int = Field(100, ge=1, description="Stale articles (older than the crawler's RECRAWL_DAYS) "
                                                      "one dream cycle recrawls at most.")


def scratchpad_settings(config: Mapping[str, Any]) -> ScratchpadSettings:
    """Environment first, then the plugin's config section on top."""
    return ScratchpadSettings(**{k: v for k, v in config.items() if v is not None})
