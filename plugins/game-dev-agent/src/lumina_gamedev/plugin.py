"""The game-dev-agent plugin's hooks: project routes, the watchers, the ``lumina gamedev`` command.

A project is registered by its folder (``POST /gamedev/projects``) and belongs to the user who
registered it (another user's project answers 404). Registering indexes it in the background
(or before answering, with ``?wait=true``) and watches it from then on.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Literal

import click
from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from lumina_core.api.lists import Page
from lumina_core.auth import User, current_user
from lumina_core.context import PluginContext
from lumina_core.errors import LuminaError, NotFound, ValidationFailed
from lumina_core.hookspecs import hookimpl
from lumina_gamedev import engines, scaffold
from lumina_gamedev.cli import gamedev_group
from lumina_gamedev.explain import explain, find_class
from lumina_gamedev.indexer import Indexer
from lumina_gamedev.lint import needless_ticks
from lumina_gamedev.qa import ProjectQA
from lumina_gamedev.store import Project, ProjectStore
from lumina_gamedev.watch import Watchers

log = logging.getLogger("lumina.plugin.game-dev-agent")
MAX_K = 10


class ProjectIn(BaseModel):
    path: str = Field(min_length=1, max_length=4096, description="The project's root folder on the server.")
    name: str | None = Field(None, min_length=1, max_length=200)
    engine: Literal["unity", "unreal"] | None = Field(None, description="Detected from the folder when left out.")


class QuestionIn(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    k: int = Field(3, ge=1, le=MAX_K, description="How many places to cite.")
    phrase: bool = Field(False, description="Have the language model word the answer from the cited lines (slower).")


class ScaffoldIn(BaseModel):
    kind: Literal["monobehaviour", "scriptable_object", "editor_window", "actor", "component"]
    name: str = Field(min_length=1, max_length=64, description="The class name, PascalCase (Unreal: without A/U).")
    folder: str | None = Field(None, max_length=500, description="Relative to the project; the engine's usual place by default.")
    namespace: str | None = Field(None, max_length=200, description="Unity: the C# namespace to put the class in.")
    module: str | None = Field(None, max_length=100, description="Unreal: the module (the .uproject's first by default).")
    tick: bool = Field(False, description="Unreal: switch Tick on and override it.")
    write: bool = Field(False, description="Write the files; without it the answer is only a preview.")


class _State:
    """What the hooks share for one start of the plugin."""

    store: ProjectStore
    indexer: Indexer
    qa: ProjectQA
    watchers: Watchers
    #: Each project's first (or catch-up) indexing, running in the background.
    jobs: dict[str, asyncio.Task[None]]


_state = _State()


@hookimpl
async def startup(ctx: PluginContext) -> None:
    _state.store = ProjectStore(ctx.data_dir / "projects.sqlite")
    _state.indexer = Indexer(_state.store, lambda: ctx.service("knowledge"))
    _state.qa = ProjectQA(_state.store, lambda: ctx.service("knowledge"), lambda: ctx.llm)
    _state.watchers = Watchers(_reindex_changed)
    _state.jobs = {}
    ctx.on_stop(_state.store.close)
    for project in _state.store.all():
        _follow(project)  # catch up with what changed while the server was down


@hookimpl
async def shutdown(ctx: PluginContext) -> None:
    await _state.watchers.stop_all()
    for project_id in list(_state.jobs):
        await _cancel_job(project_id)


async def _reindex_changed(project: Project, paths: set[Path]) -> None:
    report = await _state.indexer.index(project, paths)
    if report.indexed or report.removed:
        log.info("project %s: re-indexed %d file(s), removed %d", project.id, len(report.indexed), len(report.removed))


def _follow(project: Project) -> None:
    """Index the project in the background, then watch it."""
    job = asyncio.create_task(_index_then_watch(project), name=f"gamedev-index-{project.id}")
    _state.jobs[project.id] = job
    job.add_done_callback(lambda _: _state.jobs.pop(project.id, None))


async def _index_then_watch(project: Project) -> None:
    try:
        await _index_now(project)
    except Exception:
        return  # logged, and the project's status says why
    _state.watchers.start(project)


async def _cancel_job(project_id: str) -> None:
    job = _state.jobs.pop(project_id, None)
    if job is not None:
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)


async def _index_now(project: Project) -> dict[str, Any]:
    _state.store.set_status(project.id, "indexing")
    try:
        report = await _state.indexer.index(project)
    except LuminaError as exc:
        _state.store.set_status(project.id, "error", exc.message)
        raise
    except Exception as exc:
        log.exception("indexing project %s failed", project.id)
        _state.store.set_status(project.id, "error", f"indexing failed: {exc}")
        raise
    _state.store.set_status(project.id, "ready", "; ".join(f"{f}: {why}" for f, why in report.failed.items()))
    return report.to_dict()


def _owned(project_id: str, user: User) -> Project:
    project = _state.store.get(project_id, owner=user.id)
    if project is None:
        raise NotFound(f"no project with id '{project_id}' (see GET /gamedev/projects)")
    return project


async def _describe(project: Project) -> dict[str, Any]:
    fresh = _state.store.get(project.id) or project
    return fresh.to_dict({**_state.store.counts(project.id), "pending_dense": await _state.indexer.pending_dense(project)})


def _root(path: str, ctx: PluginContext) -> Path:
    root = Path(path).expanduser()
    if not root.is_absolute():
        raise ValidationFailed(f"'{path}' is relative: give the project's absolute path on the server", field="path")
    root = root.resolve()
    if not root.is_dir():
        raise ValidationFailed(f"there is no folder at '{root}': give the root folder of a Unity or Unreal project",
                               field="path")
    allowed = [Path(r).expanduser().resolve() for r in ctx.config.get("roots", [])]
    if allowed and not any(root.is_relative_to(r) for r in allowed):
        raise ValidationFailed(f"'{root}' is outside the folders this server may read ({', '.join(map(str, allowed))})",
                               field="path")
    return root


@hookimpl
def register_routes(ctx: PluginContext) -> APIRouter:
    router = ctx.router()

    @router.get("/status", summary="Your projects and what their index holds")
    async def status(user: User = Depends(current_user)) -> dict[str, Any]:
        projects, total = _state.store.of_owner(user.id, limit=500)
        counts = [_state.store.counts(p.id) for p in projects]
        return {"projects": total, "indexing": sum(p.status == "indexing" for p in projects),
                **{key: sum(c[key] for c in counts) for key in ("files", "chunks", "findings")}}

    @router.post("/projects", status_code=202, summary="Register a Unity or Unreal project: index it, then watch it")
    async def add_project(body: ProjectIn, response: Response, wait: bool = Query(False, description="Answer once indexed."),
                          user: User = Depends(current_user)) -> dict[str, Any]:
        root = _root(body.path, ctx)
        engine = engines.ENGINES[body.engine] if body.engine else engines.detect(root)
        engines.check(root, engine)
        project = _state.store.add(user.id, body.name or root.name, root, engine.name)
        response.headers["Location"] = f"{ctx.manifest.prefix}/projects/{project.id}"
        if wait:
            report = await _index_now(project)
            _state.watchers.start(project)
            response.status_code = 201
            return {**(await _describe(project)), "report": report}
        _follow(project)
        return await _describe(project)

    @router.get("/projects", summary="Your projects, oldest first")
    async def list_projects(page: Page = Depends(), user: User = Depends(current_user)) -> dict[str, Any]:
        projects, total = _state.store.of_owner(user.id, offset=page.offset, limit=page.limit)
        more = page.offset + len(projects) < total
        return {"items": [await _describe(p) for p in projects], "next_cursor": str(page.offset + len(projects)) if more else None}

    @router.get("/projects/{project_id}", summary="One project: status and index counts")
    async def get_project(project_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        return await _describe(_owned(project_id, user))

    @router.delete("/projects/{project_id}", status_code=204, summary="Forget a project and take it out of the index")
    async def delete_project(project_id: str, user: User = Depends(current_user)) -> Response:
        project = _owned(project_id, user)
        await _cancel_job(project.id)
        await _state.watchers.stop(project.id)
        await _state.indexer.forget(project)
        _state.store.remove(project.id)
        return Response(status_code=204)

    @router.post("/projects/{project_id}/reindex", summary="Index what changed now, without waiting for the watcher")
    async def reindex(project_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        project = _owned(project_id, user)
        return {**(await _index_now(project)), "project": await _describe(project)}

    @router.post("/projects/{project_id}/ask", summary="A question about the project, answered with file:line citations")
    async def ask(project_id: str, body: QuestionIn, user: User = Depends(current_user)) -> dict[str, Any]:
        return await _state.qa.ask(_owned(project_id, user), body.question, body.k, phrase=body.phrase)

    @router.get("/projects/{project_id}/classes/{name}", summary="Explain a class and its engine callbacks")
    async def explain_class(project_id: str, name: str, user: User = Depends(current_user)) -> dict[str, Any]:
        project = _owned(project_id, user)
        found = find_class(_state.store, project, name)
        if found is None:
            raise NotFound(f"no class '{name}' in project '{project.name}' (is the file indexed? see its status)")
        return explain(_state.store, project, found)

    @router.get("/projects/{project_id}/lint", summary="Pitfalls found in the project, with file:line")
    async def lint(project_id: str, page: Page = Depends(), rule: str | None = Query(None, max_length=100),
                   file: str | None = Query(None, max_length=1000), user: User = Depends(current_user)) -> dict[str, Any]:
        project = _owned(project_id, user)
        findings = _state.store.findings(project.id) + needless_ticks(_state.store.symbols(project.id))
        chosen = sorted((f for f in findings if (rule is None or f.rule == rule) and (file is None or f.file == file)),
                        key=lambda f: (f.file, f.line, f.rule))
        return page.of([f.to_dict() for f in chosen])

    @router.post("/projects/{project_id}/scaffold", summary="Preview (or, with write, create) a new class")
    async def scaffold_class(project_id: str, body: ScaffoldIn, response: Response,
                             user: User = Depends(current_user)) -> dict[str, Any]:
        project = _owned(project_id, user)
        request = scaffold.Request(body.kind, body.name, body.folder, body.namespace, body.module, body.tick)
        files = scaffold.plan(project.root, project.engine, request)
        if body.write:
            scaffold.write(project.root, files)
            await _state.indexer.index(project, [project.root / f.path for f in files])
            response.status_code = 201
        return {"written": body.write, "files": [f.to_dict() for f in files]}

    return router


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(gamedev_group)

