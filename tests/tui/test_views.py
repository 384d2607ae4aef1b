"""The views' shared worker guard (``View.work``)."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from lumina_tui.views.base import PolledView, View


class Label(Static):
    """Lets the answer through the moment it is unmounted: the worst timing, made certain."""

    def __init__(self, answer: asyncio.Event) -> None:
        super().__init__("waiting", id="label")
        self.answer = answer

    def on_unmount(self) -> None:
        self.answer.set()


class AnswersLate(View):
    """A view whose answer is let through only as its label goes away."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield Label(self.answer)


class SlowView(AnswersLate):
    """Shows an answer from its own worker once it arrives, which may be while the app closes."""

    def on_mount(self) -> None:
        self.work(self.show_answer, "answer")

    async def show_answer(self) -> None:
        await self.answer.wait()
        self.query_one("#label", Static).update("answered")


class SlowPolledView(AnswersLate, PolledView):
    """A polled view whose answer comes as the app closes."""

    def _should_fetch(self) -> bool:
        return True  # no server to be connected to here

    async def fetch(self) -> str:
        await self.answer.wait()
        return "answered"

    def show(self, data: str) -> None:
        self.query_one("#label", Static).update(data)


class OneView(App):
    def __init__(self, view: View) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield self.view


@pytest.mark.parametrize("view", [SlowView, SlowPolledView], ids=["worker", "poll"])
async def test_an_answer_arriving_while_the_app_closes_is_dropped_not_a_crash(view: type[View]) -> None:
    app = OneView(view())
    async with app.run_test() as pilot:
        await pilot.pause()
    assert app.return_code in (None, 0)  # no WorkerFailed ended the app
