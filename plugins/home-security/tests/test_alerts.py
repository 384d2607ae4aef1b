"""Alerts over the real MQTT broker (Mosquitto), on the event bus, and to webhooks: armed motion
raises them in Home Assistant's layout; disarmed motion is recorded and raises none; an MQTT
camera's frames come in through the same broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import aiomqtt

from lumina_core.hookspecs import hookimpl
from lumina_core.testing import plugin_object

FAST = {"max_fps": 25, "min_frames": 2, "cooldown_s": 0.5}


class BusListener:
    """A plugin of the test that keeps every ``security.*`` event the bus delivers."""

    def __init__(self) -> None:
        self.seen: list[Mapping[str, Any]] = []

    @hookimpl
    def register_event_handlers(self, ctx) -> dict:
        async def keep(event: Mapping[str, Any]) -> None:
            self.seen.append(event)

        return {"security.*": keep}


def bus_listener() -> tuple[BusListener, Any]:
    listener = BusListener()
    manifest = {"name": "security-listener", "version": "0.1.0", "description": "Listens.", "api_version": ">=1.0",
                "permissions": ["events:subscribe"]}
    return listener, plugin_object(listener, manifest)


class Messages:
    """Every message under a prefix, as the broker delivers it to a real subscriber."""

    def __init__(self) -> None:
        self.by_topic: dict[str, list[bytes]] = {}

    def last(self, topic: str) -> bytes | None:
        return self.by_topic.get(topic, [None])[-1]


async def subscribe(pattern: str, messages: Messages, ready: asyncio.Event) -> None:
    async with aiomqtt.Client("127.0.0.1", 1883) as client:
        await client.subscribe(pattern, qos=1)
        ready.set()
        async for message in client.messages:
            messages.by_topic.setdefault(str(message.topic), []).append(bytes(message.payload))


async def publish_frames(topic: str, frames: list[bytes], fps: float) -> None:
    async with aiomqtt.Client("127.0.0.1", 1883) as client:
        for frame in frames:
            await client.publish(topic, frame, qos=1)
            await asyncio.sleep(1.0 / fps)


async def test_an_mqtt_camera_alerts_over_mqtt_the_bus_and_a_webhook(security_host, kit, walk, mqtt_url, mqtt_prefix) -> None:
    messages, ready = Messages(), asyncio.Event()
    listening = asyncio.create_task(subscribe(f"{mqtt_prefix}/#", messages, ready))
    discovery = mqtt_prefix.replace("/security", "/ha")
    discovered, discovery_ready = Messages(), asyncio.Event()
    listening_ha = asyncio.create_task(subscribe(f"{discovery}/#", discovered, discovery_ready))
    listener, listener_plugin = bus_listener()
    frames_topic = f"{mqtt_prefix.split('/')[0]}/cameras/porch/jpeg"
    try:
        await asyncio.wait_for(asyncio.gather(ready.wait(), discovery_ready.wait()), 10)
        config = {"mqtt_url": mqtt_url, "mqtt_prefix": mqtt_prefix, "mqtt_discovery_prefix": discovery,
                  "webhook_allow": ["127.0.0.1"]}
        with kit.servers.WebhookReceiver() as receiver:
            config["webhooks"] = [receiver.url]
            async with security_host(objects=[listener_plugin], **config) as host:
                await kit.add_camera(host, {"id": "porch", "name": "Porch", "source": "mqtt", "topic": frames_topic, "detection": FAST})
                await kit.eventually(lambda: messages.last(f"{mqtt_prefix}/status") == b"online")
                await kit.eventually(lambda: discovered.last(f"{discovery}/binary_sensor/lumina_porch/config"))
                await publish_frames(frames_topic, [f.jpeg for f in walk], fps=20)
                (event,) = await kit.eventually(lambda: kit.events(host))
                await kit.eventually(lambda: messages.last(f"{mqtt_prefix}/porch/motion") == b"OFF", timeout=10)
                await kit.eventually(lambda: receiver.bodies)
                alert = json.loads(messages.last(f"{mqtt_prefix}/porch/event"))
                sensor = json.loads(discovered.last(f"{discovery}/binary_sensor/lumina_porch/config"))
                bus = await kit.eventually(lambda: [e for e in listener.seen if e["type"] == "security.motion"])
            await kit.eventually(lambda: messages.last(f"{mqtt_prefix}/status") == b"offline")
    finally:
        listening.cancel()
        listening_ha.cancel()
    assert messages.by_topic[f"{mqtt_prefix}/porch/motion"] == [b"ON", b"OFF"]
    assert alert["event_id"] == event["id"] and alert["camera"] == "porch" and alert["boxes"] == event["boxes"]
    assert messages.last(f"{mqtt_prefix}/porch/snapshot").startswith(b"\xff\xd8")  # the thumbnail, a JPEG
    assert sensor["device_class"] == "motion" and sensor["state_topic"] == f"{mqtt_prefix}/porch/motion"
    assert sensor["availability_topic"] == f"{mqtt_prefix}/status"
    assert bus[0]["payload"]["event_id"] == event["id"] and bus[0]["source"] == "home-security"
    assert receiver.bodies == [alert]


async def test_disarmed_motion_is_recorded_without_alerts(security_host, kit, walk, mqtt_url, mqtt_prefix) -> None:
    messages, ready = Messages(), asyncio.Event()
    listening = asyncio.create_task(subscribe(f"{mqtt_prefix}/#", messages, ready))
    listener, listener_plugin = bus_listener()
    try:
        await asyncio.wait_for(ready.wait(), 10)
        with kit.servers.MjpegCamera([f.jpeg for f in walk], fps=25) as server:
            async with security_host(objects=[listener_plugin], mqtt_url=mqtt_url, mqtt_prefix=mqtt_prefix) as host:
                body = {"name": "Kitchen", "source": "mjpeg", "url": f"{server.url}/v", "detection": FAST, "arming": {"mode": "disarmed"}}
                await kit.add_camera(host, body)
                (event,) = await kit.eventually(lambda: kit.events(host))
                await asyncio.sleep(1.0)
    finally:
        listening.cancel()
    assert event["armed"] is False
    assert f"{mqtt_prefix}/kitchen/motion" not in messages.by_topic
    assert not [e for e in listener.seen if e["type"] == "security.motion"]


async def test_an_mqtt_camera_without_a_broker_says_how_to_configure_one(security_host, kit) -> None:
    async with security_host() as host:
        await kit.add_camera(host, {"name": "Porch", "source": "mqtt", "topic": "cameras/porch"})
        status = await kit.eventually(lambda: _errored(kit, host, "porch"))
        assert "set mqtt_url" in status["error"]


async def test_a_broker_that_is_away_degrades_health_and_mqtt_cameras_say_why(security_host, kit) -> None:
    async with security_host(mqtt_url="mqtt://127.0.0.1:9") as host:
        await kit.add_camera(host, {"name": "Porch", "source": "mqtt", "topic": "cameras/porch"})
        status = await kit.eventually(lambda: _errored(kit, host, "porch"), timeout=20)
        assert "127.0.0.1:9 is unreachable" in status["error"]
        checks = (await host.client.get("/health")).json()["checks"]
        assert any(c["name"].endswith("mqtt") and c["status"] == "degraded" for c in checks), checks


async def _errored(kit, host, camera_id: str) -> dict | None:
    status = await kit.camera_status(host, camera_id)
    return status if status["state"] == "error" else None
