"""Chat (streamed from the embedded model) and tasks, against a real ``lumina serve``, at 80x24."""

from __future__ import annotations

import httpx
from textual.widgets import DataTable, Input, Markdown, Select, Static

from tests.tui.screens import SIZE, header


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


async def test_picking_a_thread_picks_its_brain_and_the_answer_goes_into_that_thread(memory_server, dashboard, wait_until) -> None:
    async with httpx.AsyncClient(base_url=memory_server.url, timeout=60) as rest:
        thread = (await rest.post("/threads/", json={"title": "Garden", "brain_id": "home"})).json()
    app = dashboard(memory_server.url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        chat = app.query_one("ChatView")
        await wait_until(pilot, lambda: [t["id"] for t in chat.threads] == [thread["id"]], what="the thread offered")
        app.query_one("#chat-thread", Select).value = thread["id"]
        await wait_until(pilot, lambda: app.query_one("#chat-brain", Input).value == "home", what="its brain")
        app.query_one("#prompt", Input).value = "Tomatoes need sun."
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(chat.history) == 2, timeout=60, what="the answer")
    async with httpx.AsyncClient(base_url=memory_server.url, timeout=30) as rest:
        messages = (await rest.get(f"/threads/{thread['id']}/messages")).json()
    assert "Tomatoes need sun." in str(messages)
