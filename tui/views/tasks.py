"""Tasks: queued, running, failed and scheduled tasks (``GET /tasks``), with retry and cancel.

Which actions exist is read from the live OpenAPI document (``POST /tasks/{id}/retry``,
``POST /tasks/{id}/cancel`` or ``DELETE /tasks/{id}``), so the keys only act where the server
allows them. The ``scheduler`` part of ``/health`` tells the queue backend and its workers.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.markup import escape
from textual.widgets import DataTable, Static

from lumina_tui.client import ApiProblem
from lumina_tui.dialogs import ConfirmScreen
from lumina_tui.tables import sync_table
from lumina_tui.views.base import Notice, PolledView

COLUMNS = (("id", "Id"), ("kind", "Kind"), ("state", "State"), ("attempts", "Tries"), ("when", "When"), ("error", "Error"))
ID_CHARS = 8
STATE_STYLE = {"queued": "cyan", "running": "yellow", "retrying": "magenta", "failed": "red", "succeeded": "green"}
ACTION_ROUTES = {
    "retry": (("POST", "/tasks/{id}/retry"),),
    "cancel": (("POST", "/tasks/{id}/cancel"), ("DELETE", "/tasks/{id}")),
}


@dataclass
class TaskBoard:
    tasks: list[Any]
    scheduler: str
    actions: dict[str, tuple[str, str]] = field(default_factory=dict)


def task_row(task: Mapping[str, Any]) -> dict[str, str]:
    state = str(task.get("state") or "?")
    tries = f"{task.get('attempts', '?')}/{task['max_attempts']}" if "max_attempts" in task else str(task.get("attempts", ""))
    when = str(task.get("next_attempt_at") or task.get("updated_at") or task.get("created_at") or "")
    return {
        "id": escape(str(task.get("id", "?"))[:ID_CHARS]),
        "kind": escape(str(task.get("kind") or next(iter(task.get("task") or {}), "?"))),
        "state": f"[{STATE_STYLE.get(state, 'white')}]{escape(state)}[/]",
        "attempts": tries,
        "when": escape(when[11:19] if len(when) >= 19 else when),
        "error": escape(str(task.get("error") or "")[:80]),
    }


def allowed_actions(document: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """``{"retry": ("POST", "/tasks/{id}/retry"), ...}`` for the routes the server has."""
    paths = document.get("paths") or {}
    found = {}
    for action, candidates in ACTION_ROUTES.items():
        for method, template in candidates:
            for path, item in paths.items():
                if _same_template(path, template) and method.lower() in item:
                    found[action] = (method, path)
    return found


def _same_template(path: str, template: str) -> bool:
    parts, wanted = path.split("/"), template.split("/")
    return len(parts) == len(wanted) and all(
        a == b or (a.startswith("{") and b.startswith("{")) for a, b in zip(parts, wanted, strict=True)
    )


class TasksView(PolledView):
    """The Tasks tab."""

    interval = 2.0
    DEFAULT_CSS = """
    TasksView #tasks-summary { height: auto; padding: 0 1; }
    TasksView #tasks-table { height: 1fr; }
    """
    BINDINGS = [
        Binding("t", "act('retry')", "Retry", id="tasks.retry"),
        Binding("x", "act('cancel')", "Cancel", id="tasks.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.board: TaskBoard | None = None

    def compose(self) -> ComposeResult:
        yield Notice()
        yield Static("", id="tasks-summary")
        table: DataTable = DataTable(id="tasks-table", cursor_type="row", zebra_stripes=True)
        for key, title in COLUMNS:
            table.add_column(title, key=key)
        yield table

    async def fetch(self) -> TaskBoard:
        tasks, document, health = await asyncio.gather(
            self.client.get_items("/tasks", {"limit": 200}),
            self.client.get_json("/openapi.json"),
            self.client.health(),
        )
        checks = health.get("checks", []) if isinstance(health, Mapping) else []
        scheduler = next((str(c.get("detail") or c.get("status")) for c in checks if c.get("name") == "scheduler"), "")
        return TaskBoard(tasks, scheduler, allowed_actions(document))

    def show(self, board: TaskBoard) -> None:
        self.board = board
        tasks = [t for t in board.tasks if isinstance(t, Mapping)]
        with self.app.batch_update():
            sync_table(self.query_one("#tasks-table", DataTable), {str(t.get("id")): task_row(t) for t in tasks})
        counts = Counter(str(t.get("state")) for t in tasks)
        line = " · ".join(f"{state} {n}" for state, n in sorted(counts.items())) or "no tasks"
        actions = ", ".join(board.actions) or "none offered by this server"
        scheduler = f"\nscheduler: {board.scheduler}" if board.scheduler else ""
        self.query_one("#tasks-summary", Static).update(escape(f"{line} · actions: {actions}{scheduler}"))

    @property
    def selected(self) -> str | None:
        table = self.query_one("#tasks-table", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_act(self, action: str) -> None:
        route = self.board.actions.get(action) if self.board else None
        task_id = self.selected
        if route is None or task_id is None:
            self.say(f"{action}: {'no task selected' if route else 'this server does not offer it'}")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.work(partial(self._act, action, route, task_id), "task-action", exclusive=False)

        self.app.push_screen(ConfirmScreen(f"{action} task {task_id}?"), confirmed)

    async def _act(self, action: str, route: tuple[str, str], task_id: str) -> None:
        method, template = route
        path = template.split("{")[0] + task_id + template.split("}", 1)[1]
        try:
            reply = await self.client.exchange(method, path)
        except ApiProblem as problem:
            self.app.notify(f"{action} {task_id}: {problem}", severity="error", markup=False)
            return
        failed = reply.status >= 400
        outcome = f"failed ({reply.status}): {reply.text[:200]}" if failed else "done"
        self.app.notify(f"{action} {task_id}: {outcome}", severity="error" if failed else "information", markup=False)
        self.refresh_now()

    def commands(self) -> Iterable[SystemCommand]:
        for action, key in (("retry", "t"), ("cancel", "x")):
            yield SystemCommand(f"Tasks: {action} selected task", f"Where the server allows it ({key})", lambda a=action: self.action_act(a))
