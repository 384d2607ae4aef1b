"""The planner's settings: the seeds' environment names, overridable per plugin config.

``GOAL_FILE`` and ``PLAN_CRON`` (or ``LUMINA_GOAL_FILE``, ``LUMINA_PLAN_CRON``) come from the
environment; the plugin's own config section (``LUMINA_PLUGIN_CONFIG__PLANNER__GOAL_FILE`` or the
YAML file) wins over them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from croniter import croniter
from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lumina_core.errors import ConfigurationError
from lumina_planner.planning import DETECTIONS, PlannerSettings


def _env(*names: str) -> AliasChoices:
    return AliasChoices(names[0].lower().removeprefix("lumina_"), *names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    goal_file: Path | None = Field(None, validation_alias=_env("GOAL_FILE", "LUMINA_GOAL_FILE"),
                                   description="The goal lattice (YAML, manifests/goals.schema.json).")
    plan_cron: str = Field("*/10 * * * *", validation_alias=_env("PLAN_CRON", "LUMINA_PLAN_CRON"),
                           description="When planning cycles run, once per schedule across workers.")
    low_water: int = Field(20, ge=0, description="Plan only when fewer crawls than this are waiting.")
    high_water: int = Field(40, ge=1, description="Fill the crawl queue up to this many crawls.")
    max_attempts: int = Field(3, ge=1, description="Crawls tried for a gap before it is given up.")
    backoff_minutes: float = Field(30.0, ge=0, description="Wait before a gap's second try; doubles each try.")
    detect: list[str] = Field(list(DETECTIONS), description="Gaps the planner looks for itself.")

    @field_validator("plan_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression (e.g. '*/10 * * * *')")
        return value

    @model_validator(mode="after")
    def _water_marks(self) -> Settings:
        if self.low_water > self.high_water:
            raise ValueError(f"low_water ({self.low_water}) is above high_water ({self.high_water})")
        return self

    @property
    def planning(self) -> PlannerSettings:
        return PlannerSettings(low_water=self.low_water, high_water=self.high_water, max_attempts=self.max_attempts,
                               backoff_s=self.backoff_minutes * 60, detect=tuple(self.detect))


def planner_settings(config: Mapping[str, Any]) -> Settings:
    """Environment first, then the plugin's config section on top."""
    try:
        return Settings(**{k: v for k, v in config.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'planner'}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"the planner's settings are not valid: {problems}") from None
