"""The trainer's settings: the seeds' environment names, overridable per plugin config.

``TRAIN_MIN_CONF`` and ``TRAIN_MAX_AGE`` (days) are read from the environment (with or without the
``LUMINA_`` prefix); the plugin's config section (``LUMINA_PLUGIN_CONFIG__TRAINER__MIN_CONF`` or
the YAML file) wins over them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(*names: str) -> AliasChoices:
    return AliasChoices(names[0].lower().removeprefix("train_"), *names)


class TrainerSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    min_conf: float = Field(0.5, ge=0, le=1, validation_alias=_env("TRAIN_MIN_CONF", "LUMINA_TRAIN_MIN_CONF"),
                            description="A turn answered with less confidence than this becomes a candidate sample.")
    max_age: float = Field(30.0, gt=0, validation_alias=_env("TRAIN_MAX_AGE", "LUMINA_TRAIN_MAX_AGE"),
                           description="Days a turn or its feedback counts for a dataset.")
    wiki_questions: str = Field("", description="The wiki question set runs are also measured on (JSONL of question, "
                                "answer); empty: the checkout's tests/data/wiki/questions.jsonl.")
    wiki_limit: int = Field(12, ge=0, description="Wiki questions a run is measured on (0: all of them).")


def trainer_settings(config: Mapping[str, Any]) -> TrainerSettings:
    """Environment first, then the plugin's config section on top."""
    return TrainerSettings(**{k: v for k, v in config.items() if v is not None})
