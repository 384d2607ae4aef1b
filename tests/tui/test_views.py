"""The views' shared worker guard (``View.work``)."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult
from textual.widgets import Static

from lumina_tui.views.base import View


class Label(Static):
    """Lets the answer through the moment it is unmounted: the worst timing, made certain."""

    def __init__(self, answer: asyncio.Event) -> None:
        super().__init__("waiting", id="label")
        self.answer = answer

    def on_unmount(self) -> None:
        self.answer.set()


class SlowView(View):
    """Shows an answer once it arrives, which may be while the app is closing."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield Label(self.answer)

    def on_mount(self) -> None:
        self.work(self.show_answer, "answer")

    async def show_answer(self) -> None:
        await self.answer.wait()
        self.query_one("#label", Static).update("answered")


class OneView(App):
    def compose(self) -> ComposeResult:
        yield SlowView()


async def test_an_answer_arriving_while_the_app_closes_is_dropped_not_a_crash() -> None:
    app = OneView()
    async with app.run_test() as pilot:
        await pilot.pause()
    assert app.return_code in (None, 0)  # no WorkerFailed ended the app
