"""The plugin's one connection to an MQTT broker: camera frames in, alerts out.

It connects in the background (the plugin's start never waits for a broker), says
``online``/``offline`` on an availability topic (``offline`` as its last will, so Home
Assistant marks the cameras unavailable when Lumina goes away), re-subscribes the camera topics
and re-announces the cameras after every reconnect, and backs off while the broker is away.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import unquote, urlsplit

import aiomqtt

from lumina_core.errors import ConfigurationError

log = logging.getLogger("lumina.plugin.home-security.mqtt")

BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
Sink = Callable[[bytes], None]


class MqttLink:
    """A reconnecting client; ``run`` is its background task."""

    def __init__(self, url: str, *, availability_topic: str, on_connect: Callable[[], Awaitable[None]]) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ConfigurationError(
                f"mqtt_url '{url}' is not like mqtt://host:1883 (or mqtts:// for TLS)", field="mqtt_url")
        self.url = f"{parts.scheme}://{parts.hostname}:{parts.port or (8883 if parts.scheme == 'mqtts' else 1883)}"
        self._options = {
            "hostname": parts.hostname,
            "port": parts.port or (8883 if parts.scheme == "mqtts" else 1883),
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "tls_context": ssl.create_default_context() if parts.scheme == "mqtts" else None,
            "identifier": f"lumina-security-{uuid.uuid4().hex[:8]}",
            "will": aiomqtt.Will(availability_topic, b"offline", qos=1, retain=True),
        }
        self.availability_topic = availability_topic
        self._on_connect = on_connect
        self._sinks: dict[str, list[Sink]] = {}
        self._client: aiomqtt.Client | None = None
        self.problem: str | None = f"connecting to the MQTT broker at {self.url}"

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                async with aiomqtt.Client(**self._options) as client:
                    await self._serve(client)
                    attempt = 0
            except aiomqtt.MqttError as exc:
                self._client = None
                self.problem = f"the MQTT broker at {self.url} is unreachable: {exc} (is it running?)"
                log.warning("%s", self.problem)
            await asyncio.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
            attempt += 1

    async def _serve(self, client: aiomqtt.Client) -> None:
        for topic in self._sinks:
            await client.subscribe(topic)
        await client.publish(self.availability_topic, b"online", qos=1, retain=True)
        self._client, self.problem = client, None
        log.info("connected to the MQTT broker at %s", self.url)
        await self._on_connect()
        async for message in client.messages:
            for sink in self._sinks.get(str(message.topic), ()):
                sink(bytes(message.payload) if isinstance(message.payload, (bytes, bytearray)) else b"")

    def subscribe(self, topic: str, sink: Sink) -> Callable[[], None]:
        """Send every message of ``topic`` to ``sink``; returns the way to stop."""
        first = topic not in self._sinks
        self._sinks.setdefault(topic, []).append(sink)
        if first and self._client is not None:
            asyncio.get_running_loop().create_task(self._call("subscribe", topic))

        def unsubscribe() -> None:
            sinks = self._sinks.get(topic, [])
            if sink in sinks:
                sinks.remove(sink)
            if not sinks and self._sinks.pop(topic, None) is not None and self._client is not None:
                asyncio.get_running_loop().create_task(self._call("unsubscribe", topic))

        return unsubscribe

    async def publish(self, topic: str, payload: bytes | str, *, retain: bool = False) -> bool:
        """Publish now; False (logged) when the broker is away: alerts also reach the bus and the event log."""
        client = self._client
        if client is None:
            log.warning("not published to %s: %s", topic, self.problem)
            return False
        try:
            await client.publish(topic, payload, qos=1, retain=retain)
        except aiomqtt.MqttError as exc:
            log.warning("not published to %s: %s", topic, exc)
            return False
        return True

    async def _call(self, method: str, topic: str) -> None:
        client = self._client
        if client is not None:
            try:
                await getattr(client, method)(topic)
            except aiomqtt.MqttError as exc:
                log.warning("could not %s %s: %s", method, topic, exc)
