"""Alerts: what armed motion sets off, on the event bus, over MQTT and to webhooks.

The MQTT layout is Home Assistant's (``<prefix>`` is ``lumina/security`` unless configured):

* ``<prefix>/status``: ``online`` / ``offline`` (retained; ``offline`` is the last will);
* ``<prefix>/<camera>/motion``: ``ON`` when an alert starts, ``OFF`` when its motion ends (retained);
* ``<prefix>/<camera>/event``: the alert as JSON;
* ``<prefix>/<camera>/snapshot``: the alert's thumbnail, a JPEG (retained);
* discovery under ``<discovery>/binary_sensor/...`` and ``<discovery>/camera/...``, so Home
  Assistant shows each camera's motion sensor and picture without configuration.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from lumina_home_security.cameras import Camera
from lumina_home_security.events import MotionEvent
from lumina_home_security.mqtt import MqttLink
from lumina_home_security.webhooks import AllowList, deliver

MOTION_EVENT = "security.motion"
Publish = Callable[[str, Mapping[str, Any]], Awaitable[None]]


class Alerts:
    def __init__(self, *, publish: Publish, mqtt: MqttLink | None, http: Any, prefix: str, discovery_prefix: str,
                 webhooks: list[str], allow: AllowList) -> None:
        self._publish, self._mqtt, self._http = publish, mqtt, http
        self.prefix, self._discovery = prefix.strip("/"), discovery_prefix.strip("/")
        self._webhooks, self._allow = webhooks, allow
        self._pending: set[asyncio.Task[Any]] = set()

    def topic(self, camera_id: str, leaf: str) -> str:
        return f"{self.prefix}/{camera_id}/{leaf}"

    @property
    def availability_topic(self) -> str:
        return availability_topic(self.prefix)

    async def motion_started(self, camera: Camera, event: MotionEvent, thumbnail: bytes) -> None:
        payload = alert_payload(event)
        await self._publish(MOTION_EVENT, payload)
        if self._mqtt is not None:
            await self._mqtt.publish(self.topic(camera.id, "motion"), "ON", retain=True)
            await self._mqtt.publish(self.topic(camera.id, "event"), json.dumps(payload))
            await self._mqtt.publish(self.topic(camera.id, "snapshot"), thumbnail, retain=True)
        for url in [*self._webhooks, *camera.spec.webhooks]:
            self._in_background(deliver(self._http, url, payload, self._allow))

    async def motion_ended(self, camera: Camera) -> None:
        if self._mqtt is not None:
            await self._mqtt.publish(self.topic(camera.id, "motion"), "OFF", retain=True)

    def announce_soon(self, camera: Camera) -> None:
        self._in_background(self.announce(camera))

    async def announce(self, camera: Camera) -> None:
        """Tell Home Assistant about a camera's motion sensor and picture (MQTT discovery)."""
        if self._mqtt is None or not self._discovery:
            return
        for component, config in discovery(camera, self).items():
            topic = f"{self._discovery}/{component}/lumina_{camera.id}/config"
            await self._mqtt.publish(topic, json.dumps(config), retain=True)

    async def withdraw(self, camera: Camera) -> None:
        """Forget a removed camera: empty retained messages delete its topics and its discovery."""
        if self._mqtt is None:
            return
        for leaf in ("motion", "snapshot"):
            await self._mqtt.publish(self.topic(camera.id, leaf), b"", retain=True)
        if self._discovery:
            for component in ("binary_sensor", "camera"):
                await self._mqtt.publish(f"{self._discovery}/{component}/lumina_{camera.id}/config", b"", retain=True)

    def _in_background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` without holding up the camera's watch; kept until done, cancelled at close."""
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def close(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)


def availability_topic(prefix: str) -> str:
    """Where Lumina says ``online`` / ``offline`` (its MQTT last will)."""
    return f"{prefix.strip('/')}/status"


def alert_payload(event: MotionEvent) -> dict[str, Any]:
    return {
        "event_id": event.id, "camera": event.camera_id, "camera_name": event.camera_name, "owner": event.owner,
        "time": event.time, "score": event.score, "boxes": [b.to_dict() for b in event.boxes],
        "thumbnail_url": event.thumbnail_url,
    }


def discovery(camera: Camera, alerts: Alerts) -> dict[str, dict[str, Any]]:
    device = {"identifiers": [f"lumina_{camera.id}"], "name": camera.name, "manufacturer": "Lumina",
              "model": "home-security"}
    common = {"availability_topic": alerts.availability_topic, "device": device}
    return {
        "binary_sensor": {
            "name": "Motion", "unique_id": f"lumina_{camera.id}_motion", "device_class": "motion",
            "state_topic": alerts.topic(camera.id, "motion"), "payload_on": "ON", "payload_off": "OFF", **common,
        },
        "camera": {
            "name": "Last alert", "unique_id": f"lumina_{camera.id}_snapshot",
            "topic": alerts.topic(camera.id, "snapshot"), **common,
        },
    }
