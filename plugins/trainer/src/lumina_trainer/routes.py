"""HTTP: feedback in, datasets, training runs and adapter versions out.

Every route acts for the authenticated caller: samples, datasets and runs are the caller's own
(another user's answer 404), shared datasets are built by admins and seen by everybody, and the
served adapter, which changes the model for everyone, is switched by admins only.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from lumina_core.api.lists import Page
from lumina_core.auth import User, current_user, require_admin
from lumina_core.context import PluginContext
from lumina_core.errors import ValidationFailed
from lumina_trainer.adapters import parse_version
from lumina_trainer.datasets import parse_lines
from lumina_trainer.runs import RunParams
from lumina_trainer.trainer import Trainer
from lumina_trainer.training import unavailable_reason

MAX_IMPORT_BYTES = 5_000_000
_DEFAULTS = RunParams()


class FeedbackIn(BaseModel):
    turn_id: str = Field(min_length=1, max_length=100, description="The turn_id a chat reply carries.")
    rating: int = Field(ge=1, le=5, description="1 (wrong) to 5 (right); 1-2 mark the answer weak, 4-5 good.")
    correction: str | None = Field(None, max_length=20_000, description="The answer it should have been: the target.")


class SilverIn(BaseModel):
    question: str = Field(min_length=1, max_length=4000, description="The question asked of wiki_qa.")
    answer: str = Field(min_length=1, max_length=20_000, description="wiki_qa's answer: the silver target.")
    cite_ids: list[str] = Field(max_length=20, description="The answer's cite ids; every one must resolve.")


class DatasetIn(BaseModel):
    shared: bool = Field(False, description="Build from everybody's samples, for everybody (admins only).")


class RunIn(BaseModel):
    dataset_id: str = Field(min_length=1, max_length=100)
    steps: int = Field(_DEFAULTS.steps, ge=1, le=5000)
    batch_size: int = Field(_DEFAULTS.batch_size, ge=1, le=32)
    learning_rate: float = Field(_DEFAULTS.learning_rate, gt=0, le=1)
    rank: int = Field(_DEFAULTS.rank, ge=1, le=64)
    alpha: int = Field(_DEFAULTS.alpha, ge=1, le=512)
    max_tokens: int = Field(_DEFAULTS.max_tokens, ge=16, le=2048, description="Tokens of one example, at most.")
    checkpoint_every: int = Field(_DEFAULTS.checkpoint_every, ge=1, le=5000)
    seed: int = Field(_DEFAULTS.seed, ge=0)
    activate: bool = Field(True, description="Serve the adapter once promoted (admins; others leave it to an admin).")


def build_router(ctx: PluginContext, trainer: Trainer) -> APIRouter:
    router = ctx.router()

    @router.post("/feedback", summary="Rate a recent answer of yours, and correct it")
    async def feedback(body: FeedbackIn, user: User = Depends(current_user)) -> dict[str, Any]:
        return trainer.samples.give_feedback(user.id, body.turn_id, body.rating, body.correction)

    @router.post("/silver", status_code=201, summary="Keep a wiki_qa answer whose cites resolve as a silver sample")
    async def silver(body: SilverIn, user: User = Depends(current_user)) -> dict[str, Any]:
        return await trainer.keep_silver(user.id, body.question, body.answer, body.cite_ids)

    @router.get("/status", summary="Your samples, and what the trainer serves")
    async def status(user: User = Depends(current_user)) -> dict[str, Any]:
        return {"samples": trainer.samples.counts(user.id), "training": unavailable_reason() or "available",
                "active_adapter": trainer.adapters.active()}

    @router.post("/datasets", summary="Build the next dataset version from your samples")
    async def build_dataset(body: DatasetIn, user: User = Depends(current_user)) -> JSONResponse:
        dataset, new = trainer.build_dataset(user, shared=body.shared)
        return JSONResponse(dataset, status_code=201 if new else 200)

    @router.post("/datasets/import", summary="Add a dataset version from a JSONL body (chat format)")
    async def import_dataset(request: Request, user: User = Depends(current_user)) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_IMPORT_BYTES:
            raise ValidationFailed(f"the upload is {len(body)} bytes; at most {MAX_IMPORT_BYTES} are taken", field="body")
        lines = body.decode("utf-8", errors="replace").splitlines()
        parse_lines(lines, "the upload")
        records = [{**json.loads(line), "source": "imported"} for line in lines if line.strip()]
        dataset, new = trainer.datasets.build(user.id, records)
        return JSONResponse(dataset, status_code=201 if new else 200)

    @router.get("/datasets", summary="Your dataset versions and the shared ones, newest first")
    async def datasets(page: Page = Depends(), user: User = Depends(current_user)) -> dict[str, Any]:
        return page.of(trainer.datasets.list(user.id))

    @router.get("/datasets/{dataset_id}", summary="One dataset: its counts and a sample of its lines")
    async def dataset(dataset_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        return trainer.datasets.get(dataset_id, user.id, sample=True)

    @router.post("/runs", status_code=202, summary="Train a LoRA adapter on a dataset (a task on the queue)")
    async def start_run(body: RunIn, user: User = Depends(current_user)) -> JSONResponse:
        params = RunParams(**body.model_dump(exclude={"dataset_id"}))
        run = await trainer.submit_run(user, body.dataset_id, params)
        return JSONResponse(run, status_code=202, headers={"Location": f"/trainer/runs/{run['id']}"})

    @router.get("/runs", summary="Your training runs, newest first")
    async def runs(page: Page = Depends(), user: User = Depends(current_user)) -> dict[str, Any]:
        items = trainer.runs.list(user.id, page.offset, page.limit + 1)
        more = len(items) > page.limit
        return {"items": items[: page.limit], "next_cursor": str(page.offset + page.limit) if more else None}

    @router.get("/runs/{run_id}", summary="One run: its state, step, loss and adapter")
    async def run(run_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        found = trainer.runs.get(run_id, user.id)
        adapter = trainer.adapters.for_run(run_id)
        return {**found, "adapter": adapter}

    @router.post("/runs/{run_id}/cancel", summary="Stop a run at its next step")
    async def cancel(run_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        return trainer.runs.cancel(run_id, user.id)

    @router.get("/adapters", summary="Adapter versions, promoted or rejected with their figures")
    async def adapters(page: Page = Depends(), user: User = Depends(current_user)) -> dict[str, Any]:
        items = trainer.adapters.list(page.offset, page.limit + 1)
        more = len(items) > page.limit
        return {"items": items[: page.limit], "active": trainer.adapters.active(),
                "next_cursor": str(page.offset + page.limit) if more else None}

    @router.post("/adapters/{version}/activate", summary="Serve this version (or 'base': none), no restart")
    async def activate(version: str, user: User = Depends(require_admin)) -> dict[str, Any]:
        return await trainer.activate(parse_version(version), user.id)

    @router.post("/adapters/rollback", summary="Serve the version active before the current one")
    async def rollback(user: User = Depends(require_admin)) -> dict[str, Any]:
        return await trainer.rollback(user.id)

    return router



