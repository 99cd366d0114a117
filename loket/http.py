"""The gateway's HTTP side: health now; the agent desk and the citizen page build on it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import FastAPI, HTTPException, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from loket.desk.accounts import SessionPolicy
from loket.desk.auth import install_auth
from loket.desk.dashboard import add_dashboard_routes
from loket.desk.routes import add_desk_routes, script_response

WEB = Path(__file__).parent / "web"


class SdpOffer(BaseModel):
    sdp: str = Field(max_length=100_000)
    type: str


if TYPE_CHECKING:
    from loket.app import Gateway


def create_app(gateway: Gateway) -> FastAPI:
    app = FastAPI(title="Loket gateway", docs_url=None, redoc_url=None, openapi_url=None)
    desk = gateway.settings.desk
    auth = install_auth(
        app,
        desk.store_path,
        secure_cookies=desk.secure_cookies,
        origins=desk.origins,
        policy=SessionPolicy(desk.session_idle_minutes * 60, desk.session_max_hours * 3600),
    )
    add_desk_routes(app, gateway.hub, auth)
    add_dashboard_routes(app, gateway.settings, lambda: gateway.records)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """Each component's readiness and the languages that can be spoken with.

        200 while the gateway takes calls (even degraded: callers are then sent
        to a human); 503 when SIP is not listening.
        """
        body: dict[str, Any] = await gateway.health()
        components = body["components"]
        # a stuck voice pool leaves every caller in silence: as dead as a deaf SIP port
        serving = components["sip"]["ready"] and not components["voice"]["pool"]["stuck"]
        status = 200 if serving else 503
        return JSONResponse(body, status_code=status)

    @app.get("/bel", response_class=HTMLResponse)
    async def citizen_page() -> HTMLResponse:
        """ "Bel ons via internet": a WebRTC call into the same voicebot as the phone line."""
        return HTMLResponse((WEB / "bel.html").read_text(encoding="utf-8"))

    @app.get("/meter.js")
    async def meter_script() -> Response:
        """The audio level meter both call pages use (public: it holds nothing)."""
        return script_response("meter.js")

    @app.post("/webrtc/offer")
    async def webrtc_offer(offer: SdpOffer) -> JSONResponse:
        try:
            sdp, call = await gateway.web.answer(offer.sdp, offer.type)
        except OverflowError as exc:
            raise HTTPException(503, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(400, f"unusable offer: {exc}") from None
        return JSONResponse({"sdp": sdp, "type": "answer", "call_id": call.id})

    @app.post("/webrtc/{call_id}/hangup", status_code=204)
    async def webrtc_hangup(call_id: str) -> Response:
        gateway.web.hangup(call_id)
        return Response(status_code=204)

    return app


class _QuietServer(uvicorn.Server):
    """The gateway owns SIGINT/SIGTERM (graceful call drain); uvicorn must not take them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], app: FastAPI) -> None:
        self.server = server
        self.task = task
        self.app = app

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(self.task, 5)
        auth = getattr(self.app.state, "desk_auth", None)
        if auth is not None:
            auth.close()


async def start_http(gateway: Gateway, host: str, port: int) -> HttpServer:
    app = create_app(gateway)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = _QuietServer(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises the bind error
        await asyncio.sleep(0.02)
    return HttpServer(server, task, app)
