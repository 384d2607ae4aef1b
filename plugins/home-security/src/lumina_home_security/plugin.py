"""The home-security plugin's hooks: start the cameras' watches, serve the API, write the daily summaries.

Start-up only opens the plugin's files and starts background tasks (one per camera, one for the
MQTT connection); nothing in it waits for a camera or a broker, so a camera that is away never
delays or fails the host.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter

from lumina_core.context import PluginContext
from lumina_core.contract import HealthCheck, PeriodicJob
from lumina_core.errors import LuminaError
from lumina_core.hookspecs import hookimpl
from lumina_home_security.alerts import Alerts, availability_topic
from lumina_home_security.cameras import CameraBook
from lumina_home_security.events import EventLog
from lumina_home_security.monitor import Monitor
from lumina_home_security.mqtt import MqttLink
from lumina_home_security.settings import SecuritySettings
from lumina_home_security.sources import frame_source
from lumina_home_security.summary import SummaryBook
from lumina_home_security.vault import Vault
from lumina_home_security.webhooks import AllowList

DAY_S = 86_400.0
log = logging.getLogger("lumina.plugin.home-security")


@dataclass
class Security:
    """Everything one running home-security plugin holds."""

    settings: SecuritySettings
    monitor: Monitor
    summaries: SummaryBook
    mqtt: MqttLink | None

    async def daily(self) -> None:
        """Yesterday's summary for every owner of a camera, then forget events past retention."""
        yesterday = (datetime.now(self.settings.zone) - timedelta(days=1)).date()
        for owner in sorted(self.monitor.owners()):
            try:
                await self.summaries.write(owner, yesterday)
            except LuminaError as exc:  # the model is away: the others' summaries and the clean-up still happen
                log.warning("no summary of %s for %s: %s", yesterday, owner, exc.message)
        await asyncio.to_thread(self.monitor.events.forget_before, time.time() - self.settings.retention_days * DAY_S)


_running: dict[PluginContext, Security] = {}


@hookimpl
async def startup(ctx: PluginContext) -> None:
    settings = SecuritySettings.from_config(ctx.config)
    book = CameraBook(ctx.data_dir / "cameras.sqlite3", Vault(ctx.data_dir / "vault.key"))
    events = EventLog(ctx.data_dir)
    summaries = SummaryBook(ctx.data_dir / "summaries.sqlite3", events, ctx.llm, settings.zone,
                            max_tokens=settings.summary_max_tokens)
    for store in (book, events, summaries):
        ctx.on_stop(store.close)
    mqtt = None
    if settings.mqtt_url:
        mqtt = MqttLink(settings.mqtt_url, availability_topic=availability_topic(settings.mqtt_prefix),
                        on_connect=lambda: monitor.announce_all())
    alerts = Alerts(publish=ctx.publish, mqtt=mqtt, http=ctx.http, prefix=settings.mqtt_prefix,
                    discovery_prefix=settings.discovery_prefix, webhooks=list(settings.webhooks),
                    allow=AllowList(settings.webhook_allow))
    monitor = Monitor(book=book, events=events, alerts=alerts, zone=settings.zone,
                      sources=lambda camera: frame_source(camera, http=ctx.http, mqtt=mqtt))
    if mqtt is not None:
        link = asyncio.get_running_loop().create_task(mqtt.run(), name="home-security mqtt")
        ctx.on_stop(lambda: _close_link(mqtt, link))
    monitor.start([*settings.cameras, *book.saved()])
    ctx.on_stop(monitor.stop)
    _running[ctx] = Security(settings, monitor, summaries, mqtt)
    ctx.on_stop(lambda: _running.pop(ctx, None))


async def _close_link(mqtt: MqttLink, link: asyncio.Task[None]) -> None:
    """Say ``offline`` (a clean disconnect sends no last will), then stop the connection."""
    await mqtt.publish(mqtt.availability_topic, b"offline", retain=True)
    link.cancel()
    await asyncio.gather(link, return_exceptions=True)


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    from lumina_home_security.routes import build_router

    security = _running[ctx]
    return build_router(ctx.router(tags=["security"]), security.monitor, security.summaries)


@hookimpl
def register_periodic_jobs(ctx: PluginContext) -> list[PeriodicJob]:
    security = _running[ctx]
    return [PeriodicJob("home-security.daily-summary", security.settings.summary_cron, security.daily)]


@hookimpl
def health_check(ctx: PluginContext) -> list[HealthCheck]:
    security = _running[ctx]
    watches = security.monitor.all_watches()
    failing = [w.camera.id for w in watches if w.status.state == "error"]
    checks = [HealthCheck("cameras", "degraded" if failing else "ok",
                          detail=f"in error: {', '.join(failing)}" if failing else f"{len(watches)} watched")]
    if security.mqtt is not None:
        mqtt = security.mqtt
        checks.append(HealthCheck("mqtt", "ok" if mqtt.connected else "degraded", detail=mqtt.problem or mqtt.url))
    return checks
