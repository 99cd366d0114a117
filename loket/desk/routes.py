"""The agent desk and supervisor view over HTTP and one WebSocket per screen.

Pages and scripts are plain files in ``loket/web`` (no front-end build). Every route
here sits behind the access gate; the dependencies name who is asking.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from loket.desk.auth import CurrentUser, DeskAuth, SupervisorUser, WsUser
from loket.desk.gate import CLOSE_UNAUTHENTICATED

if TYPE_CHECKING:
    from loket.desk.hub import DeskHub

log = logging.getLogger(__name__)

WEB = Path(__file__).resolve().parent.parent / "web"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
SESSION_CHECK_S = 30.0


class MediaOffer(BaseModel):
    sdp: str = Field(max_length=100_000)
    type: str


def _page(name: str) -> HTMLResponse:
    html = (WEB / name).read_text(encoding="utf-8")
    return HTMLResponse(
        html, headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}
    )


def script_response(name: str) -> Response:
    return Response(
        (WEB / name).read_text(encoding="utf-8"),
        media_type="text/javascript",
        headers={"Cache-Control": "no-store"},
    )


def add_desk_routes(app: FastAPI, hub: DeskHub, auth: DeskAuth) -> None:
    @app.get("/desk", response_class=HTMLResponse)
    async def desk_page(user: CurrentUser) -> HTMLResponse:
        return _page("desk.html")

    @app.get("/desk.js")
    async def desk_script(user: CurrentUser) -> Response:
        return script_response("desk.js")

    @app.get("/supervisor", response_class=HTMLResponse)
    async def supervisor_page(user: SupervisorUser) -> HTMLResponse:
        return _page("supervisor.html")

    @app.get("/supervisor.js")
    async def supervisor_script(user: SupervisorUser) -> Response:
        return script_response("supervisor.js")

    @app.get("/api/desk/view")
    async def desk_view(user: CurrentUser) -> JSONResponse:
        desk = hub.desks.get(user.name)
        if desk is None:
            raise HTTPException(409, "open the desk first")
        return JSONResponse(hub.view_for(desk))

    @app.get("/api/supervisor/overview")
    async def overview(user: SupervisorUser) -> JSONResponse:
        return JSONResponse(hub.supervisor_view())

    @app.post("/api/desk/media")
    async def desk_media(offer: MediaOffer, user: CurrentUser) -> JSONResponse:
        """The agent's browser audio: one WebRTC connection kept while the desk is open."""
        if offer.type != "offer":
            raise HTTPException(400, "expected an SDP offer")
        try:
            answer = await hub.open_media(user.name, offer.sdp)
        except LookupError as exc:
            raise HTTPException(409, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(400, f"unusable offer: {exc}") from None
        return JSONResponse({"sdp": answer, "type": "answer"})

    @app.websocket("/ws/desk")
    async def desk_socket(websocket: WebSocket, user: WsUser) -> None:
        await websocket.accept()
        supervisor_only = user.role == "supervisor" and not user.skills
        await hub.connect(
            user.name, user.role, user.skills if not supervisor_only else (), websocket
        )
        try:
            while True:
                try:
                    raw = await asyncio.wait_for(websocket.receive_text(), SESSION_CHECK_S)
                except TimeoutError:
                    raw = None
                if not auth.session_alive(user):
                    await websocket.close(CLOSE_UNAUTHENTICATED)
                    return
                if raw is None:
                    continue
                try:
                    message = json.loads(raw)
                except ValueError:
                    message = None
                if not isinstance(message, dict):
                    await websocket.send_json({"type": "error", "error": "not a JSON object"})
                    continue
                if message.get("type") == "ping":
                    continue
                if supervisor_only:
                    await websocket.send_json({"type": "error", "error": "read-only view"})
                    continue
                error = hub.command(user.name, message)
                if error is not None:
                    await websocket.send_json({"type": "error", "error": error})
        except WebSocketDisconnect:
            pass
        finally:
            with contextlib.suppress(Exception):
                await hub.disconnect(user.name, websocket)
