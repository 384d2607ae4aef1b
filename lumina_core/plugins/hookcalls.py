"""Calling plugin hooks with isolation: one plugin's exception, hang or slowness stays its own.

pluggy finds and orders the implementations; this module calls each one with the plugin's own
context, awaits coroutines, runs blocking functions on daemon threads (so a hung hook can be
abandoned and never blocks the event loop or exit), bounds each call by a timeout, and reports
every call to listeners (metrics, logs).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pluggy import HookImpl

#: Called after every hook call: (plugin, hook, seconds, error or None).
CallListener = Callable[[str, str, float, BaseException | None], None]


class HookTimeout(TimeoutError):
    def __init__(self, plugin: str, hook: str, seconds: float) -> None:
        super().__init__(f"hook {hook} of plugin '{plugin}' did not finish within {seconds:g} s")


@dataclass(frozen=True)
class Outcome:
    plugin: str
    value: Any = None
    error: BaseException | None = None


async def call_impl(
    impl: HookImpl,
    hook: str,
    arguments: Mapping[str, Any],
    *,
    timeout: float,
    listeners: tuple[CallListener, ...] = (),
) -> Any:
    """Call one implementation with the arguments it names; raise what it raises."""
    kwargs = {name: arguments[name] for name in impl.argnames}
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        if inspect.iscoroutinefunction(impl.function):
            return await asyncio.wait_for(impl.function(**kwargs), timeout)
        return await asyncio.wait_for(_on_daemon_thread(impl.function, kwargs), timeout)
    except TimeoutError:
        error = HookTimeout(impl.plugin_name, hook, timeout)
        raise error from None
    except BaseException as exc:
        error = exc
        raise
    finally:
        elapsed = time.perf_counter() - started
        for listener in listeners:
            listener(impl.plugin_name, hook, elapsed, error)


def call_inline(impl: HookImpl, arguments: Mapping[str, Any]) -> Any:
    """Call a declaration hook (``register_*``) directly: it only returns data."""
    return impl.function(**{name: arguments[name] for name in impl.argnames})


async def _on_daemon_thread(function: Callable[..., Any], kwargs: Mapping[str, Any]) -> Any:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(setter: Callable[[Any], None], value: Any) -> None:
        if not future.done():
            setter(value)

    def deliver(setter: Callable[[Any], None], value: Any) -> None:
        try:
            loop.call_soon_threadsafe(settle, setter, value)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            pass

    def run() -> None:
        try:
            result = function(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            deliver(future.set_exception, exc)
        else:
            deliver(future.set_result, result)

    threading.Thread(target=run, name=f"hook-{function.__qualname__}", daemon=True).start()
    return await future
