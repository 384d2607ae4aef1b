"""``lumina events``: query the event log with SQL."""

from __future__ import annotations

import json

import click


@click.group()
def events() -> None:
    """Look into the event log (every event this host published)."""


@events.command("query")
@click.argument("sql")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of rows.")
def events_query(sql: str, as_json: bool) -> None:
    """Run one read-only SQL query over events(id, type, v, ts, source, payload).

    \b
    Examples:
      lumina events query "SELECT type, count(*) FROM events GROUP BY type"
      lumina events query "SELECT strftime('%Y-%m-%d %H:00', ts) AS hour, count(*) AS nodes
                           FROM events WHERE type = 'graph.node_added' GROUP BY hour"
      lumina events query "SELECT json_extract(payload, '$.kind') AS kind,
                           avg(type = 'task.completed') AS completion_rate
                           FROM events WHERE type IN ('task.completed', 'task.failed') GROUP BY kind"
    """
    from lumina_cli.main import settings_or_exit
    from lumina_core.errors import ValidationFailed
    from lumina_core.services.bus.store import query

    settings = settings_or_exit()
    try:
        columns, rows = query(settings.data_dir, sql)
    except ValidationFailed as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], indent=2, default=str))
        return
    _print_table(columns, [[("" if v is None else str(v)) for v in row] for row in rows])


def _print_table(columns: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
    click.echo("  ".join(f"{c:{w}}" for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in rows:
        click.echo("  ".join(f"{v:{w}}" for v, w in zip(row, widths, strict=True)).rstrip())
    click.echo(f"({len(rows)} row{'s' * (len(rows) != 1)})", err=True)
