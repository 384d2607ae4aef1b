"""Chat (streamed from the embedded model) and tasks, against a real ``lumina serve``, at 80x24."""

from __future__ import annotations

import httpx
from textual.widgets import DataTable, Input, Markdown, Static

SIZE = (80, 24)


def header(app) -> str:
    return app.status.describe()


async def test_chat_streams_the_answer_and_says_which_context_and_model_were_used(live_server, dashboard, wait_until) -> None:
    app = dashboard(live_server.url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: header(app).startswith("● connected"), what="connected")
        await pilot.press("5")
        prompt = app.query_one("#prompt", Input)
        assert app.focused is prompt, "the prompt has the keyboard on the Chat tab"
        prompt.value = "Say hello"
        await pilot.press("enter")
        answer = lambda: app.query_one("#transcript Markdown", Markdown).source
        await wait_until(pilot, lambda: answer() != "", timeout=30, what="first tokens")
        notes = app.query_one("#transcript .context", Static)
        await wait_until(pilot, lambda: "tokens ·" in str(notes.render()), timeout=60, what="the done event")
        assert str(notes.render()).startswith("context: ")
        chat = app.query_one("ChatView")
        await wait_until(pilot, lambda: len(chat.history) == 2, what="the turn kept for the next question")
        assert [m["role"] for m in chat.history] == ["user", "assistant"]
        assert chat.history[1]["content"] == answer()


async def test_tasks_are_listed_with_state_and_error(panels_server, dashboard, wait_until) -> None:
    async with httpx.AsyncClient(base_url=panels_server.url) as rest:
        ok = (await rest.post("/tasks", json={"tally": [1, 2, 3]})).json()["id"]
        failing = (await rest.post("/tasks", json={"tally": [1], "fail": True})).json()["id"]
    app = dashboard(panels_server.url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        table = app.query_one("#tasks-table", DataTable)
        state = lambda task: str(table.get_cell(task, "state")) if task in {k.value for k in table.rows} else ""
        await wait_until(pilot, lambda: "succeeded" in state(ok) and "asked to fail" in str(table.get_cell(failing, "error")) if state(failing) else False, what="both tasks")
        summary = str(app.query_one("#tasks-summary").render())
        assert "succeeded 1" in summary and "scheduler:" in summary
        await pilot.press("t")
        assert "retry: this server does not offer it" in str(app.query_one("TasksView Notice").render())
