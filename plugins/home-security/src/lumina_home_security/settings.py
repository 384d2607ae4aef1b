"""The plugin's settings (``ctx.config``, checked by the manifest's schema), in typed form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from lumina_core.auth import LOCAL_USER_ID
from lumina_core.errors import ConfigurationError
from lumina_home_security.cameras import Camera, CameraSpec, first_problem, http_url, new_id

SETTING = "LUMINA_PLUGIN_CONFIG__HOME-SECURITY__"


@dataclass(frozen=True)
class SecuritySettings:
    cameras: tuple[Camera, ...]
    mqtt_url: str | None
    mqtt_prefix: str
    discovery_prefix: str
    webhooks: tuple[str, ...]
    webhook_allow: tuple[str, ...]
    zone: ZoneInfo
    summary_cron: str
    summary_max_tokens: int
    retention_days: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SecuritySettings:
        return cls(
            cameras=tuple(configured_cameras(config.get("cameras", []))),
            mqtt_url=config.get("mqtt_url") or None,
            mqtt_prefix=config["mqtt_prefix"],
            discovery_prefix=config["mqtt_discovery_prefix"],
            webhooks=tuple(configured_webhooks(config.get("webhooks", []))),
            webhook_allow=tuple(config.get("webhook_allow", [])),
            zone=time_zone(config.get("timezone")),
            summary_cron=config["summary_cron"],
            summary_max_tokens=int(config["summary_max_tokens"]),
            retention_days=float(config["retention_days"]),
        )


def configured_cameras(entries: list[Mapping[str, Any]]) -> list[Camera]:
    """The cameras of the configuration; owned by ``owner`` (the local user when absent)."""
    cameras: list[Camera] = []
    for index, entry in enumerate(entries):
        fields = dict(entry)
        owner = str(fields.pop("owner", LOCAL_USER_ID))
        try:
            spec = CameraSpec.model_validate(fields)
        except ValidationError as exc:
            where, problem = first_problem(exc)
            where = where or "camera"
            raise ConfigurationError(f"{SETTING}CAMERAS[{index}].{where}: {problem}", field=f"cameras[{index}].{where}") from None
        public, credentials = spec.split_credentials()
        camera_id = spec.id or new_id(spec.name, (c.id for c in cameras))
        cameras.append(Camera(camera_id, owner, public.model_copy(update={"id": camera_id}), "config", credentials))
    return cameras


def configured_webhooks(urls: list[str]) -> list[str]:
    try:
        return [http_url(url) for url in urls]
    except ValueError as exc:
        raise ConfigurationError(f"{SETTING}WEBHOOKS: {exc}", field="webhooks") from None


def time_zone(name: str | None) -> ZoneInfo:
    """The configured zone, else this machine's (when it has an IANA name), else UTC."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            message = f"{SETTING}TIMEZONE: '{name}' is not a time zone name such as Europe/Paris"
            raise ConfigurationError(message, field="timezone") from None
    local = datetime.now().astimezone().tzinfo
    key = getattr(local, "key", None)
    return ZoneInfo(key) if key else ZoneInfo("UTC")
