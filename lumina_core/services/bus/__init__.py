"""The event bus: typed events, in-process by default, on Redis Streams when ``REDIS_URL`` is set."""

from __future__ import annotations

from lumina_core.services.bus.events import Event, make_event, stream_of
from lumina_core.services.bus.memory import MemoryBackend
from lumina_core.services.bus.service import EventBus
from lumina_core.services.bus.store import EventStore
from lumina_core.settings import Settings


def build_bus(settings: Settings) -> EventBus:
    """The bus these settings ask for: Redis Streams when ``REDIS_URL`` is set, else in-process."""
    store = EventStore(settings.data_dir)
    if settings.redis_url:
        from lumina_core.services.bus.redis import RedisBackend, connect

        backend = RedisBackend(
            connect(settings.redis_url),
            prefix=settings.redis_prefix,
            maxlen=settings.events_maxlen,
            claim_idle=settings.events_claim_idle,
        )
        return EventBus(backend, store, handler_timeout=settings.hook_timeout)
    return EventBus(MemoryBackend(), store, handler_timeout=settings.hook_timeout)


__all__ = ["Event", "EventBus", "EventStore", "build_bus", "make_event", "stream_of"]
