"""One Settings object for the whole host: environment (``LUMINA_*``), ``.env``, then a YAML file.

Precedence, highest first: keyword arguments, environment variables, ``.env``, the YAML file
named by ``LUMINA_CONFIG_FILE`` (default ``./lumina.yml`` when it exists). A bad value is
reported by its environment name with the expected form, before anything starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from lumina_core.errors import ConfigurationError

ENV_PREFIX = "LUMINA_"
#: What a folder named by ``LUMINA_EMBEDDER_MODEL`` must hold.
EMBEDDER_FILES = ("model.onnx", "tokenizer.json")
DEFAULT_CONFIG_FILE = "lumina.yml"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "lumina"


class Settings(BaseSettings):
    """Every setting of the host; plugins read their own section through ``ctx.config``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    data_dir: Path = Field(
        default_factory=_default_data_dir, description="Folder that holds all state."
    )
    host: str = Field("127.0.0.1", description="Address `lumina serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `lumina serve` listens on.")
    url: str = Field(
        "http://127.0.0.1:8000", description="Where the CLI finds a running server."
    )
    token: str | None = Field(
        None, description="API key or access token the CLI and the dashboard send to the server at `url`."
    )
    plugins_dir: Path | None = Field(
        None, description="Folder of unpackaged plugins, loaded for development."
    )
    load_plugins: str | None = Field(
        None,
        description="Comma-separated plugins to load; unset loads all, empty loads none.",
    )
    strict: bool = Field(False, description="Fail start-up when any plugin fails.")
    startup_timeout: float = Field(
        10.0, gt=0, description="Seconds a plugin's startup hook may take."
    )
    hook_timeout: float = Field(
        5.0, gt=0, description="Seconds one plugin may take to answer a shared hook."
    )
    log_level: str = Field("INFO", description="Logging level name.")
    plugin_config: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per-plugin settings, checked against each manifest's config schema.",
    )

    qdrant_url: str | None = Field(
        None,
        validation_alias=AliasChoices("qdrant_url", "LUMINA_QDRANT_URL", "QDRANT_URL"),
        description="Qdrant server for the vector store; unset keeps vectors under the data folder (Qdrant Edge).",
    )
    qdrant_api_key: str | None = Field(
        None,
        validation_alias=AliasChoices("qdrant_api_key", "LUMINA_QDRANT_API_KEY", "QDRANT_API_KEY"),
        description="API key of the Qdrant server, when it needs one.",
    )
    require_auth: bool = Field(
        False, description="Refuse anonymous requests even on loopback (always on beyond loopback)."
    )
    auth_secret: str | None = Field(
        None, description="Key that signs access tokens; unset uses one generated into the data folder."
    )
    access_token_minutes: int = Field(
        60, ge=1, le=60 * 24 * 30, description="Minutes an access token from POST /auth/login stays valid."
    )

    # --- models (issue 3): language models, embeddings, chat -------------------------------
    ollama_url: str | None = Field(
        None,
        validation_alias=AliasChoices("ollama_url", "LUMINA_OLLAMA_URL", "OLLAMA_URL"),
        description="Ollama server for chat and embeddings; unset uses the embedded models.",
    )
    ollama_model: str = Field(
        "llama3.2",
        validation_alias=AliasChoices("ollama_model", "LUMINA_OLLAMA_MODEL", "OLLAMA_MODEL"),
        description="Default Ollama chat model.",
    )
    ollama_embed_model: str = Field("nomic-embed-text", description="Ollama embedding model.")
    openai_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("openai_base_url", "LUMINA_OPENAI_BASE_URL", "OPENAI_BASE_URL"),
        description="An OpenAI-compatible server (vLLM, llama.cpp server, OpenAI), e.g. `http://host:8080/v1`.",
    )
    openai_api_key: str | None = Field(
        None,
        validation_alias=AliasChoices("openai_api_key", "LUMINA_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="API key for the OpenAI-compatible server.",
    )
    openai_model: str | None = Field(
        None,
        validation_alias=AliasChoices("openai_model", "LUMINA_OPENAI_MODEL", "OPENAI_MODEL"),
        description="Default model on the OpenAI-compatible server; unset takes its first listed model.",
    )
    llm_providers: str | None = Field(
        None,
        description="Fallback order of chat providers, e.g. `ollama,embedded`; unset: configured "
        "servers first, then the embedded model.",
    )
    llm_context: int = Field(2048, ge=256, description="Context window of the embedded model, in tokens.")
    llm_threads: int | None = Field(None, ge=1, description="CPU threads of the embedded model; unset: up to 4.")
    llm_prompt_batch: int | None = Field(
        None, ge=1, description="llama.cpp `n_ubatch` of the embedded model; unset: 512 if a probe process "
        "finds this build reads prompts in batches without crashing, else 1.",
    )
    llm_server_context: int = Field(4096, ge=256, description="Context window assumed for server models.")
    llm_timeout: float = Field(120.0, gt=0, description="Seconds one model reply may take.")
    llm_prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description='US dollars per million prompt and completion tokens of paid models, as JSON: '
        '`{"gpt-4o-mini": [0.15, 0.6]}`; their spend per day is kept (`llm.spend()`); models not listed cost nothing.',
    )
    chat_reply_tokens: int = Field(
        512, ge=1, description="Tokens kept free for the reply when a request sets no max_tokens."
    )
    embedder: str = Field(
        "embedded", pattern="^(embedded|ollama)$", description="`embedded` (MiniLM, 384 wide) or `ollama`."
    )
    embedder_model: Path | None = Field(
        None,
        description="A folder with another embedded embedder (model.onnx, tokenizer.json, config.json of a "
        "BERT-style model, mean-pooled); unset uses the packaged all-MiniLM-L6-v2. The knowledge index "
        "embeds its passages again when this changes.",
    )
    embedding_cache_size: int = Field(
        1000,
        ge=0,
        validation_alias=AliasChoices("embedding_cache_size", "LUMINA_EMBEDDING_CACHE_SIZE", "EMBEDDING_CACHE_SIZE"),
        description="Embeddings kept in memory (LRU); Redis, when REDIS_URL is set, keeps them 24 h.",
    )

    # --- platform services (issue 5): bus, tasks, rate limits, logs --------------------------
    redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("redis_url", "LUMINA_REDIS_URL", "REDIS_URL"),
        description="Redis for the event bus, task queue and rate limits; unset keeps them in-process.",
    )
    redis_prefix: str = Field("lumina", description="Prefix of every Redis key and stream Lumina uses.")
    events_maxlen: int = Field(
        100_000, ge=100, description="Events kept per Redis stream (approximate MAXLEN trimming)."
    )
    events_claim_idle: float = Field(
        30.0, gt=0, description="Seconds before events or tasks held by a silent consumer are reclaimed."
    )
    task_workers: int = Field(
        2, ge=0, description="Task workers inside this process; 0 leaves tasks to `lumina worker`."
    )
    task_max_attempts: int = Field(3, ge=1, description="Attempts before a task goes to the dead letters.")
    task_backoff: float = Field(
        1.0, ge=0, description="Seconds before the first retry; doubles with every further attempt."
    )
    task_timeout: float = Field(600.0, gt=0, description="Seconds one task attempt may run.")
    rate_limit: str = Field(
        "600/minute", description="Default limit per API key or user, e.g. `600/minute`; empty turns it off."
    )
    rate_limit_routes: dict[str, str] = Field(
        default_factory=dict,
        description='Limits per path prefix (endpoint group), as JSON: `{"/v1/chat": "60/minute"}`.',
    )
    chat_tokens_per_minute: int | None = Field(
        None, ge=1, description="Tokens per minute one user may spend on chat; unset means no limit."
    )
    log_format: str = Field(
        "auto", pattern="^(auto|json|console)$",
        description="`json` (production), `console` (colours), or `auto`: console on a terminal.",
    )
    log_file: Path | None = Field(None, description="Also write JSON logs to this file, rotated by size.")
    log_file_max_bytes: int = Field(10_000_000, ge=10_000, description="Size at which the log file rotates.")
    log_file_backups: int = Field(5, ge=0, description="Rotated log files kept.")

    @field_validator("embedder_model")
    @classmethod
    def _complete_model_folder(cls, folder: Path | None) -> Path | None:
        lacking = [name for name in EMBEDDER_FILES if folder is not None and not (folder / name).is_file()]
        if lacking:
            raise ValueError(f"{' and '.join(lacking)} missing in {folder}: the folder needs "
                             f"{' and '.join(EMBEDDER_FILES)} (and config.json for a width other than 384)")
        return folder

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        levels = {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}
        if value.upper() not in levels:
            raise ValueError(f"expected one of {', '.join(sorted(levels))}")
        return value.upper()

    @property
    def selected_plugins(self) -> frozenset[str] | None:
        """The names ``LUMINA_LOAD_PLUGINS`` selects, or None when it selects all."""
        if self.load_plugins is None:
            return None
        return frozenset(name.strip() for name in self.load_plugins.split(",") if name.strip())

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = Path(os.environ.get(f"{ENV_PREFIX}CONFIG_FILE", DEFAULT_CONFIG_FILE))
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file)
        return init_settings, env_settings, dotenv_settings, yaml_source, file_secret_settings


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning pydantic's report into one line per bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        name = ENV_PREFIX + "__".join(str(part) for part in error["loc"]).upper()
        got = error.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{name}: {error['msg']}{shown}")
    return "invalid settings:\n  " + "\n  ".join(lines)
