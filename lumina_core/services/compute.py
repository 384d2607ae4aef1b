"""The thread on which the process's embedded models compute, one computation at a time.

llama.cpp computes with an OpenMP team kept by the thread that asks, and onnxruntime with a pool
of its own; each wants every core. Asked from several threads at once they oversubscribe the
cores, and OpenMP's workers, which spin at every operator's barrier, lose most to a preempted
peer: on this machine's two cores a graph computed from a second thread took 1.4-3x as long (22
tokens 102 ms against 75, one token 30 ms against 10), and the embedded model's scoring of a
question took 3.4-3.8 s instead of ~0.6 s while passages were being embedded beside it. So the
embedded LLM and the embedder take turns here. Callers queue short pieces (a batch of passages,
one generation), and work started :func:`in_background` (embedding what was just crawled,
reflecting on it) goes after what someone waits for: a question's embedding and answer are
never stuck behind a whole article's passages.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_background: ContextVar[bool] = ContextVar("lumina_model_work_in_background", default=False)


@contextmanager
def in_background() -> Iterator[None]:
    """Model work queued inside this block (in this task and what it awaits) yields to the rest."""
    token = _background.set(True)
    try:
        yield
    finally:
        _background.reset(token)


class _ModelThread:
    """One long-lived thread running queued calls, what someone waits for first, then in order.

    It is a one-worker executor, joined at exit like any (no computation is cut off while the
    interpreter tears down the libraries it runs in); each job it runs is whichever queued call
    comes first at that moment."""

    def __init__(self) -> None:
        self._queued: list[tuple[int, int, Future[Any], Callable[..., Any], tuple[Any, ...]]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lumina-model")

    def submit(self, call: Callable[..., Any], args: tuple[Any, ...]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            heapq.heappush(self._queued, (int(_background.get()), next(self._order), future, call, args))
        self._executor.submit(self._run_first)
        return future

    def _run_first(self) -> None:
        with self._lock:
            _, _, future, call, args = heapq.heappop(self._queued)
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(call(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever awaits the future
            future.set_exception(exc)


_thread = _ModelThread()


async def on_model_thread(call: Callable[..., Any], *args: Any) -> Any:
    """``call(*args)`` on the model thread, after the computations queued before it."""
    return await asyncio.wrap_future(_thread.submit(call, args))


def submit_to_model_thread(call: Callable[..., Any], *args: Any) -> Future[Any]:
    """Queue ``call(*args)`` on the model thread without waiting (a generation that hands its
    tokens over as it goes)."""
    return _thread.submit(call, args)
