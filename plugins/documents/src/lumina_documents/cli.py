"""``lumina files add PATH...``: upload files to the running server and watch them become ready.

The files go to ``POST /files`` of the server at ``LUMINA_URL`` (signed in with ``LUMINA_TOKEN``
when set) in one multipart request; then their progress is polled from ``GET /files/{id}`` and
shown as one bar on stderr until every file is ready or failed.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
import httpx

POLL_S = 0.5
FINAL = ("ready", "failed")


@click.group("files")
def files_group() -> None:
    """Your own documents on the server: upload them, watch them become searchable."""


@files_group.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--brain", "brain_id", default="default", show_default=True, help="The brain to put them in.")
@click.option("--no-wait", is_flag=True, help="Return once uploaded; do not wait for them to be indexed.")
@click.option("--timeout", type=click.FloatRange(min=1), default=900, show_default=True,
              help="Seconds to wait for every file to be ready.")
@click.option("--json", "as_json", is_flag=True, help="Print the files' final records as JSON.")
def add_command(paths: tuple[Path, ...], brain_id: str, no_wait: bool, timeout: float, as_json: bool) -> None:
    """Upload PDF, DOCX, Markdown, HTML, CSV or text files into one of your brains.

    \b
    Example:  lumina files add report.pdf notes.md --brain work
    """
    from lumina_cli.main import server_headers, settings_or_exit

    settings = settings_or_exit()
    with httpx.Client(base_url=settings.url, headers=server_headers(settings), timeout=300.0) as client:
        try:
            accepted = _upload(client, paths, brain_id)
            records = accepted if no_wait else _watch(client, accepted, timeout)
        except httpx.TransportError as exc:
            raise click.ClickException(f"no server answers at {settings.url} ({exc}): start it with "
                                       "`lumina serve`, or set LUMINA_URL") from None
    if as_json:
        click.echo(json.dumps(records, indent=2))
    else:
        for record in records:
            reason = f": {record['reason']}" if record.get("state") == "failed" else ""
            click.echo(f"{record['name']}: {record['state']}, {record['pages']} pages, "
                       f"{record['passages']} passages{reason}")
    if any(r["state"] == "failed" for r in records) or len(records) < len(paths):
        sys.exit(1)


@files_group.command("list")
@click.option("--brain", "brain_id", default=None, help="Only the files of this brain.")
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON.")
def list_command(brain_id: str | None, as_json: bool) -> None:
    """Your files and notes on the server, newest first (the first 500).

    \b
    Example:  lumina files list --brain work
    """
    from lumina_cli.main import server_headers, settings_or_exit

    settings = settings_or_exit()
    params = {"limit": 500, **({"brain_id": brain_id} if brain_id else {})}
    try:
        response = httpx.get(f"{settings.url}/files", params=params, headers=server_headers(settings), timeout=30.0)
    except httpx.TransportError as exc:
        raise click.ClickException(f"no server answers at {settings.url} ({exc}): start it with "
                                   "`lumina serve`, or set LUMINA_URL") from None
    records = _json_or_exit(response)["items"]
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    for record in records:
        click.echo(f"{record['id']}  {record['brain_id']:<12} {record['state']:<10} {record['pages']:>4} pages "
                   f"{record['passages']:>5} passages  {record['name']}")


def _upload(client: httpx.Client, paths: Sequence[Path], brain_id: str) -> list[dict[str, Any]]:
    with ExitStack() as stack:
        files = [("files", (path.name, stack.enter_context(path.open("rb")))) for path in paths]
        response = client.post("/files", data={"brain_id": brain_id}, files=files)
    body = _json_or_exit(response)
    for refused in body.get("rejected", []):
        click.echo(f"{refused['name']}: refused: {refused['error']['message']}", err=True)
    for record in body["items"]:
        if record.get("duplicate"):
            click.echo(f"{record['name']}: already in brain '{brain_id}' (same content), not uploaded again", err=True)
    return body["items"]


def _watch(client: httpx.Client, records: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
    """Poll each file until all are final, with one progress bar (in percent of all the files)."""
    latest = {r["id"]: r for r in records}
    deadline = time.monotonic() + timeout
    with click.progressbar(length=100 * len(latest), label="indexing", file=sys.stderr, show_percent=True,
                           item_show_func=lambda shown: shown) as bar:
        shown = 0
        while True:
            for file_id, record in latest.items():
                if record["state"] not in FINAL:
                    latest[file_id] = _json_or_exit(client.get(f"/files/{file_id}"))
            done = round(sum(100 if r["state"] in FINAL else 100 * r["progress"] for r in latest.values()))
            ready = sum(r["state"] == "ready" for r in latest.values())
            bar.update(done - shown, current_item=f"{ready}/{len(latest)} ready")
            shown = done
            if all(r["state"] in FINAL for r in latest.values()):
                return list(latest.values())
            if time.monotonic() > deadline:
                raise click.ClickException(f"not every file was ready within {timeout:g} s; see `GET /files`")
            time.sleep(POLL_S)


def _json_or_exit(response: httpx.Response) -> dict[str, Any]:
    from lumina_cli.main import error_message

    if response.is_error:
        raise click.ClickException(f"the server refused: {error_message(response)}")
    return response.json()
