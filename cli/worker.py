"""``lumina worker``: run background tasks from the shared Redis queue, without serving HTTP."""

from __future__ import annotations

import asyncio
import logging
import signal

import click

log = logging.getLogger("lumina.worker")


@click.command()
@click.option("--concurrency", "-c", type=click.IntRange(1, 256), help="Tasks run at once (LUMINA_TASK_WORKERS, default 2).")
@click.option(
    "--metrics-port", type=click.IntRange(1, 65535), envvar="LUMINA_WORKER_METRICS_PORT",
    help="Serve this worker's metrics (task counts, durations) on LUMINA_HOST:PORT/metrics for Prometheus.",
)
def worker(concurrency: int | None, metrics_port: int | None) -> None:
    """Run background tasks (and periodic jobs) from the queue in Redis.

    Start any number, on any machine pointing at the same REDIS_URL: they share the queue.
    SIGTERM or Ctrl-C finishes the running tasks (up to 10 s), handing back the rest.

    \b
    Example:  REDIS_URL=redis://127.0.0.1:6379 lumina worker --concurrency 4
    """
    from lumina_cli.main import settings_or_exit
    from lumina_core.logs import configure_logging

    settings = settings_or_exit(task_workers=concurrency)
    if not settings.redis_url:
        raise click.ClickException(
            "lumina worker needs a shared queue: set REDIS_URL (without it, tasks run inside lumina serve)"
        )
    if settings.task_workers < 1:
        raise click.ClickException("LUMINA_TASK_WORKERS is 0: give --concurrency 1 or more")
    configure_logging(settings)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=settings.host)  # a daemon thread, on LUMINA_HOST
    asyncio.run(_work(settings))


async def _work(settings) -> None:  # noqa: ANN001 - Settings, imported lazily to keep --help fast
    from lumina_core.api.app import create_app

    app = create_app(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    async with app.router.lifespan_context(app):
        queue = app.state.kernel.services.get("tasks")
        log.info("worker %s: %d task workers on %s", queue.consumer, settings.task_workers, settings.redis_url)
        await stopping.wait()
        log.info("worker %s stopping: finishing running tasks", queue.consumer)
        await queue.drain()
