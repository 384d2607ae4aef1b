"""HTTP: cameras, their snapshots, the event log with thumbnails, daily summaries, dashboard tables.

Every route acts for the authenticated caller: a user sees only the cameras they added (or the
configuration gave them) and those cameras' events; another user's camera or event answers 404.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from starlette.responses import FileResponse, Response

from lumina_core.api.lists import Page
from lumina_core.auth import Forbidden, User, current_user
from lumina_core.errors import NotFound, Unavailable, ValidationFailed
from lumina_home_security.arming import Arming
from lumina_home_security.cameras import Camera, CameraChange, CameraSpec, new_id
from lumina_home_security.monitor import Monitor
from lumina_home_security.summary import SummaryBook
from lumina_home_security.watch import CameraWatch

LATEST = 10


class SummaryRequest(BaseModel):
    date: dt.date | None = Field(None, description="The day (YYYY-MM-DD, in the plugin's time zone); today when absent.")


def build_router(router: APIRouter, monitor: Monitor, summaries: SummaryBook) -> APIRouter:
    _cameras(router, monitor)
    _events(router, monitor)
    _summaries(router, monitor, summaries)
    _dashboard(router, monitor)
    return router


def camera_view(watch: CameraWatch, monitor: Monitor) -> dict[str, Any]:
    camera = watch.camera
    return {**camera.public(), "arming": monitor.arming(camera).model_dump(mode="json"),
            "armed_now": monitor.armed(camera, time.time()), "status": watch.status.public()}


def _cameras(router: APIRouter, monitor: Monitor) -> None:
    @router.get("/cameras", summary="Your cameras, their arming and state")
    async def list_cameras(page: Page = Depends(), user: User = Depends(current_user)) -> dict[str, Any]:
        return page.of([camera_view(w, monitor) for w in monitor.watches(user.id)])

    @router.post("/cameras", status_code=201, summary="Add a camera: a snapshot URL, MJPEG stream, MQTT topic or folder")
    async def add_camera(spec: CameraSpec, user: User = Depends(current_user)) -> dict[str, Any]:
        if spec.source == "folder" and not user.is_admin:
            raise Forbidden("only an admin may watch a folder of this machine", field="folder")
        public, credentials = spec.split_credentials()
        camera_id = spec.id or new_id(spec.name, monitor.ids())
        camera = Camera(camera_id, user.id, public.model_copy(update={"id": camera_id}), "api", credentials, time.time())
        return camera_view(monitor.add(camera), monitor)

    @router.get("/cameras/{camera_id}", summary="One camera")
    async def get_camera(camera_id: str, user: User = Depends(current_user)) -> dict[str, Any]:
        return camera_view(monitor.watch(user.id, camera_id), monitor)

    @router.patch("/cameras/{camera_id}", summary="Change a camera's name, source address, credentials or detection")
    async def change_camera(camera_id: str, change: CameraChange, user: User = Depends(current_user)) -> dict[str, Any]:
        if change.folder is not None and not user.is_admin:
            raise Forbidden("only an admin may watch a folder of this machine", field="folder")
        return camera_view(await monitor.change(user.id, camera_id, change), monitor)

    @router.delete("/cameras/{camera_id}", status_code=204, summary="Stop watching a camera and forget it (its events stay)")
    async def delete_camera(camera_id: str, user: User = Depends(current_user)) -> Response:
        await monitor.remove(user.id, camera_id)
        return Response(status_code=204)

    @router.put("/cameras/{camera_id}/arming", summary="Arm, disarm, or arm a camera on a schedule")
    async def set_arming(camera_id: str, arming: Arming, user: User = Depends(current_user)) -> dict[str, Any]:
        monitor.set_arming(user.id, camera_id, arming)
        return camera_view(monitor.watch(user.id, camera_id), monitor)

    @router.get("/cameras/{camera_id}/snapshot", summary="The camera's latest frame, as it sent it",
                response_class=Response, responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}})
    async def snapshot(camera_id: str, user: User = Depends(current_user)) -> Response:
        watch = monitor.watch(user.id, camera_id)
        if watch.latest is None:
            reason = watch.status.error or "it has sent no frame yet; retry in a moment"
            raise Unavailable(f"camera '{camera_id}' has no picture: {reason}")
        kind = "image/png" if watch.latest.startswith(b"\x89PNG") else "image/jpeg"
        return Response(watch.latest, media_type=kind, headers={"Cache-Control": "no-store"})


def _events(router: APIRouter, monitor: Monitor) -> None:
    @router.get("/events", summary="Motion events, newest first, with their thumbnails")
    async def list_events(
        camera: str | None = Query(None, description="Only this camera's events (a removed camera's too)."),
        since: str | None = Query(None, description="Only events from this time on (ISO 8601)."),
        page: Page = Depends(), user: User = Depends(current_user),
    ) -> dict[str, Any]:
        since_ts = parse_time(since, "since") if since else None
        events, more = await asyncio.to_thread(
            monitor.events.page, user.id, camera=camera, since=since_ts, limit=page.limit, offset=page.offset)
        return {"items": [e.public() for e in events], "next_cursor": str(page.offset + page.limit) if more else None}

    @router.get("/events/{event_id}/thumbnail", summary="An event's thumbnail (JPEG)", response_class=FileResponse)
    async def event_thumbnail(event_id: str, user: User = Depends(current_user)) -> FileResponse:
        event = monitor.events.get(user.id, event_id)
        path = monitor.events.thumbnail_path(event) if event else None
        if path is None or not path.is_file():
            raise NotFound(f"you have no motion event '{event_id}' (GET /security/events lists yours)")
        return FileResponse(path, media_type="image/jpeg")


def _summaries(router: APIRouter, monitor: Monitor, summaries: SummaryBook) -> None:
    @router.post("/summaries", status_code=201, summary="Write (again) the daily summary of a day")
    async def write_summary(body: SummaryRequest, user: User = Depends(current_user)) -> dict[str, Any]:
        day = body.date or dt.datetime.now(monitor.zone).date()
        return (await summaries.write(user.id, day)).public()

    @router.get("/summaries/{day}", summary="The daily summary of a day (YYYY-MM-DD)")
    async def get_summary(day: dt.date, user: User = Depends(current_user)) -> dict[str, Any]:
        summary = summaries.get(user.id, day)
        if summary is None:
            raise NotFound(f"no summary of {day.isoformat()} yet: POST /security/summaries writes one", field="day")
        return summary.public()


def _dashboard(router: APIRouter, monitor: Monitor) -> None:
    @router.get("/overview", summary="Your cameras' states (dashboard table)")
    async def overview(user: User = Depends(current_user)) -> dict[str, Any]:
        rows = []
        for watch in monitor.watches(user.id):
            status = watch.status.public()
            rows.append({
                "camera": watch.camera.name, "state": status["state"], "armed": monitor.armed(watch.camera, time.time()),
                "fps": status["fps"], "last_motion": status["last_motion_at"] or "-", "error": status["error"] or "",
            })
        return {"items": rows, "next_cursor": None}

    @router.get("/latest", summary="Your latest motion events (dashboard table)")
    async def latest(user: User = Depends(current_user)) -> dict[str, Any]:
        events, _ = await asyncio.to_thread(monitor.events.page, user.id, camera=None, since=None, limit=LATEST, offset=0)
        rows = [{"time": e.time, "camera": e.camera_name, "score": e.score, "regions": len(e.boxes), "alerted": e.armed}
                for e in events]
        return {"items": rows, "next_cursor": None}


def parse_time(text: str, field: str) -> float:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"'{text}' is not an ISO 8601 time, e.g. 2026-05-01T08:00:00Z", field=field) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()
