"""Everything one running trainer plugin holds, and the flow from a weak answer to a served adapter.

Turns are observed (their confidence read from the request's metadata, else from the model's
own likelihood of its reply), feedback turns them into samples, samples into dataset versions,
a dataset into a training run on the task queue, and a run into an adapter version that is
promoted only when it measures not worse than the model without it, then served at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lumina_core.auth import Forbidden, User
from lumina_core.context import PluginContext
from lumina_core.contract import ChatTurn
from lumina_core.errors import LuminaError, ServiceUnavailable, ValidationFailed
from lumina_core.services.model_files import SMOLLM2_135M
from lumina_core.storage import write_atomically
from lumina_trainer.adapters import PROMOTED, REJECTED, AdapterBook, ollama_modelfile
from lumina_trainer.database import Database
from lumina_trainer.datasets import SHARED, DatasetStore
from lumina_trainer.runs import CANCELLED, FAILED, FINAL, SUCCEEDED, RunParams, RunStore
from lumina_trainer.samples import SampleBook
from lumina_trainer.serving import serve
from lumina_trainer.settings import TrainerSettings, trainer_settings
from lumina_trainer.training import unavailable_reason
from lumina_trainer.wiki import questions_file, reachable_wiki_set

log = logging.getLogger("lumina.trainer")

TASK_KIND = "trainer.train"


@dataclass
class Trainer:
    ctx: PluginContext
    db: Database
    samples: SampleBook
    datasets: DatasetStore
    runs: RunStore
    adapters: AdapterBook
    settings: TrainerSettings

    @classmethod
    def open(cls, ctx: PluginContext) -> Trainer:
        settings = trainer_settings(ctx.config)
        db = Database(ctx.data_dir / "trainer.sqlite3")
        samples = SampleBook(db, min_conf=settings.min_conf, max_age_days=settings.max_age)
        return cls(ctx, db, samples, DatasetStore(db, ctx.data_dir / "datasets"), RunStore(db), AdapterBook(db), settings)

    @property
    def runs_dir(self) -> Path:
        return self.ctx.data_dir / "runs"

    # --- samples ---------------------------------------------------------------------------

    async def observe(self, turn: ChatTurn) -> None:
        """Keep a finished turn, with how sure the model was of its reply."""
        self.samples.forget_old()
        self.samples.record_turn(turn, await self._confidence(turn))

    async def _confidence(self, turn: ChatTurn) -> float | None:
        given = turn.request.metadata.get("confidence")
        if isinstance(given, int | float) and not isinstance(given, bool):
            return float(given)
        prompt = "".join(f"{m.role}: {m.content}\n" for m in turn.request.messages) + "assistant: "
        try:
            likelihood = await self.ctx.llm.loglikelihood(prompt, turn.reply, model=turn.model)
        except LuminaError as exc:
            self.ctx.logger.info("no confidence for turn %s: %s", turn.turn_id, exc.message)
            return None
        return None if likelihood is None or not likelihood.tokens else math.exp(likelihood.per_token)

    async def keep_silver(self, user_id: str, question: str, answer: str, cite_ids: list[str]) -> dict[str, Any]:
        """A wiki_qa answer becomes a silver sample when every cite it gives resolves to a passage
        the knowledge service still holds; an uncited or unresolvable answer is refused."""
        if not cite_ids:
            raise ValidationFailed("the answer cites nothing: only wiki_qa answers whose cites resolve are silver "
                                   "targets (send the cite_ids POST /masterchat/chat gave)", field="cite_ids")
        knowledge = self.ctx.service("knowledge")
        for cite_id in cite_ids:
            if await knowledge.passage(cite_id) is None:
                raise ValidationFailed(f"cite '{cite_id}' does not resolve to a stored passage (unknown, or replaced by "
                                       "a newer revision): ask wiki_qa again and send its new answer", field="cite_ids")
        self.samples.add_silver(user_id, question, answer, cite_ids)
        return {"question": question, "sample": "silver", "cite_ids": cite_ids}

    async def wiki_answered(self, answer: Mapping[str, Any]) -> None:
        """``knowledge.answered``: a confident wiki_qa answer whose cites resolve becomes its
        user's silver sample by itself; a weak, uncited or unresolvable one is left out."""
        if answer.get("method") == "unknown" or float(answer.get("confidence") or 0.0) < self.settings.min_conf:
            return
        try:
            await self.keep_silver(answer["user_id"], answer["question"], answer["answer"], list(answer["cite_ids"]))
        except ValidationFailed as exc:
            log.info("wiki_qa's answer to %r is no silver sample: %s", answer["question"][:80], exc.message)

    def build_dataset(self, user: User, *, shared: bool) -> tuple[dict[str, Any], bool]:
        """A new dataset version from the caller's samples (everybody's for a shared one)."""
        if shared and not user.is_admin:
            raise Forbidden("only an admin may build a shared dataset from everybody's samples")
        samples = self.samples.samples(None if shared else user.id)
        return self.datasets.build(SHARED if shared else user.id, [s.chat() for s in samples])

    # --- runs ------------------------------------------------------------------------------

    async def submit_run(self, user: User, dataset_id: str, params: RunParams) -> dict[str, Any]:
        require_training()
        self.datasets.get(dataset_id, user.id)
        run = self.runs.create(user.id, dataset_id, replace(params, activate=params.activate and user.is_admin))
        task_id = await self.ctx.tasks.submit({TASK_KIND: run["id"]}, owner=self.ctx.name, user_id=user.id)
        self.runs.update(run["id"], task_id=task_id)
        return self.runs.get(run["id"])

    async def execute(self, run_id: str, job: Any) -> dict[str, Any]:
        """The task: train (resuming from a checkpoint on a re-delivery), measure, keep, serve."""
        run = self.runs.get(run_id)
        if run["state"] in FINAL:
            return _result(run)
        if self.runs.cancel_requested(run_id) and run["step"] == 0:
            self.runs.update(run_id, state=CANCELLED)
            return _result(self.runs.get(run_id))
        self.runs.started(run_id, job.id)
        try:
            examples = self.datasets.examples(run["dataset_id"], run["user_id"])
        except LuminaError as exc:  # a dataset file broken by hand does not mend itself on a retry
            self.runs.update(run_id, state=FAILED, error=exc.message)
            return _result(self.runs.get(run_id))
        wiki = await reachable_wiki_set(self.ctx, questions_file(self.settings.wiki_questions), self.settings.wiki_limit)
        try:
            result = await self._train(run_id, examples, self.runs.params(run_id), job, wiki.examples)
        except Exception as exc:  # noqa: BLE001 - the run's failure, shown on the run (a killed worker raises nothing)
            self.ctx.logger.exception("training run %s failed", run_id)
            self.runs.update(run_id, state=FAILED, error=f"{type(exc).__name__}: {exc}")
            return _result(self.runs.get(run_id))
        if result.outcome.cancelled:
            self.runs.update(run_id, state=CANCELLED)
            return _result(self.runs.get(run_id))
        version = self._keep(run, result, wiki.skipped)
        if result.promoted and self.runs.params(run_id).activate:
            await self.activate(version, run["user_id"])
        return _result(self.runs.get(run_id))

    async def _train(self, run_id: str, examples: list[Any], params: RunParams, job: Any, wiki: list[Any]) -> Any:
        from lumina_trainer.training.run import run_training

        loop = asyncio.get_running_loop()

        def on_progress(progress: Any) -> None:
            self.runs.update(run_id, step=progress.step, loss=progress.loss)
            payload = {"v": 1, "run_id": run_id, "step": progress.step, "total_steps": progress.total_steps,
                       "loss": round(progress.loss, 4), "eta_s": progress.eta_s}
            asyncio.run_coroutine_threadsafe(self._tell_progress(job, payload), loop)

        run_dir = self.runs_dir / run_id
        return await asyncio.to_thread(run_training, SMOLLM2_135M.locate(), examples, params, run_dir,
                                       on_progress=on_progress, should_stop=lambda: self.runs.cancel_requested(run_id),
                                       wiki=wiki)

    async def _tell_progress(self, job: Any, payload: dict[str, Any]) -> None:
        await job.progress(payload["step"] / payload["total_steps"], f"step {payload['step']}, loss {payload['loss']}")
        await self.ctx.publish("trainer.progress", payload)

    def _keep(self, run: dict[str, Any], result: Any, wiki_skipped: str | None) -> int:
        status = PROMOTED if result.promoted else REJECTED
        figures = result.figures() | ({"wiki_skipped": wiki_skipped} if wiki_skipped else {})
        version = self.adapters.add(run["id"], run["dataset_id"], status, figures, result.gguf)
        write_atomically(result.gguf.with_name("Modelfile"), ollama_modelfile(str(SMOLLM2_135M.locate()), result.gguf))
        self.runs.update(run["id"], state=SUCCEEDED, adapter_version=version, error=None)
        return version

    # --- adapters --------------------------------------------------------------------------

    async def activate(self, version: int | None, by_user: str) -> dict[str, Any]:
        previous, current = self.adapters.activate(version, by_user)
        return await self._announce(previous, current)

    async def rollback(self, by_user: str) -> dict[str, Any]:
        previous, current = self.adapters.rollback(by_user)
        return await self._announce(previous, current)

    async def serve_active(self) -> None:
        """Load the active adapter into this process's embedded model (at start, and when told)."""
        version = self.adapters.active()
        await serve(self.ctx.llm, self.adapters.active_path(), adapter_name(version))

    async def _announce(self, previous: int | None, current: int | None) -> dict[str, Any]:
        await self.serve_active()
        payload = {"v": 1, "version": current, "previous": previous, "name": adapter_name(current)}
        await self.ctx.publish("adapter.updated", payload)
        return {"active": current, "previous": previous, "name": adapter_name(current)}

    def close(self) -> None:
        self.db.close()


def adapter_name(version: int | None) -> str | None:
    """How the model list names the active adapter."""
    return None if version is None else f"trainer-v{version}"


def require_training() -> None:
    reason = unavailable_reason()
    if reason:
        raise ServiceUnavailable(reason)


def _result(run: dict[str, Any]) -> dict[str, Any]:
    return {"run_id": run["id"], "state": run["state"], "adapter_version": run["adapter_version"], "error": run["error"]}
