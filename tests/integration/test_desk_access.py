"""Desk access, integration: every route and WebSocket refuses without a session; a real server.

The route walk iterates ``app.routes``: a route added later is checked without
editing this file, and only the explicit ``PUBLIC_ROUTES`` may answer without a
session. ``test_gateway_app_routes_are_all_protected`` walks the gateway's own
``loket.http.create_app`` the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from loket.desk.auth import (
    CurrentUser,
    DeskAuth,
    SupervisorUser,
    WsSupervisor,
    WsUser,
    install_auth,
)
from loket.desk.gate import CLOSE_FORBIDDEN, CLOSE_POLICY, CLOSE_UNAUTHENTICATED
from loket.desk.passwords import ScryptCost, hash_password
from tests.tools.peers import free_port

ROOT = Path(__file__).resolve().parents[2]
CHEAP = ScryptCost(10, 8, 1)
PASSWORD = "correct horse battery"

PUBLIC_ROUTES = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/healthz"),
    ("GET", "/bel"),
    ("GET", "/meter.js"),  # the level meter script of the call pages: code, no data
    ("POST", "/webrtc/offer"),
    ("POST", "/webrtc/{call_id}/hangup"),
}
"""The only (method, path) pairs that may answer without a session. Widening it is a decision."""


# --------------------------------------------------------------------------- the route walk


@dataclass(frozen=True)
class Endpoint:
    kind: str  # "http" or "websocket"
    method: str
    template: str
    path: str  # the template with its parameters filled in

    @property
    def public(self) -> bool:
        method = "GET" if self.method == "HEAD" else self.method
        return self.kind == "http" and (method, self.template) in PUBLIC_ROUTES


def _fill(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", template)


def _routes(app: FastAPI) -> Iterator[tuple[BaseRoute, str]]:
    """Each route with its full path, routers included with ``include_router`` opened up."""
    for ctx in iter_route_contexts(app.routes):
        path = ctx.path
        assert path is not None, f"a route without a path: {ctx!r}"
        yield ctx.original_route, path


def endpoints(app: FastAPI) -> Iterator[Endpoint]:
    """Every endpoint the app serves; a kind of route this test does not know fails it."""
    for route, path in _routes(app):
        if isinstance(route, (APIRoute, Route)):
            for method in sorted(route.methods or ()):
                yield Endpoint("http", method, path, _fill(path))
        elif isinstance(route, (APIWebSocketRoute, WebSocketRoute)):
            yield Endpoint("websocket", "GET", path, _fill(path))
        elif isinstance(route, Mount):
            yield Endpoint("http", "GET", path + "/", _fill(path) + "/any.js")
        else:
            raise AssertionError(f"unknown kind of route {route!r}: teach endpoints() about it")


def assert_every_route_refuses(app: FastAPI, auth: DeskAuth, origin: str) -> list[Endpoint]:
    """Without a valid session every non-public endpoint refuses: 401 for HTTP (403 when the
    request also fails CSRF), close 4401 for a WebSocket, 1008 for a foreign Origin."""
    checked: list[Endpoint] = []
    with TestClient(app, base_url=origin) as client:
        dead = _dead_session_cookie(client, auth, origin)
        for ep in endpoints(app):
            if ep.public:
                assert ep.path in auth.public, f"{ep} is listed public but the gate guards it"
                continue
            assert ep.path not in auth.public, f"{ep} is public in the gate but not in the test"
            if ep.kind == "http":
                for cookies in ({}, {auth.cookie_name: "forged-token"}, dead):
                    client.cookies.clear()
                    client.cookies.update(cookies)
                    r = client.request(
                        ep.method,
                        ep.path,
                        headers={"origin": origin, "accept": "application/json"},
                    )
                    assert r.status_code == 401, f"{ep} answered {r.status_code} with {cookies}"
            else:
                for cookies in ({}, {auth.cookie_name: "forged-token"}, dead):
                    client.cookies.clear()
                    client.cookies.update(cookies)
                    assert _ws_close_code(client, ep.path, origin) == CLOSE_UNAUTHENTICATED, ep
                assert _ws_close_code(client, ep.path, "https://evil.example") == CLOSE_POLICY
            checked.append(ep)
    return checked


def _dead_session_cookie(client: TestClient, auth: DeskAuth, origin: str) -> dict[str, str]:
    """A cookie that was a real session until logout."""
    auth.store.add("ghost", "supervisor", (), hash_password(PASSWORD, CHEAP), 0.0)
    r = client.post(
        "/login", json={"username": "ghost", "password": PASSWORD}, headers={"origin": origin}
    )
    assert r.status_code == 200, r.text
    token = client.cookies[auth.cookie_name]
    csrf = r.json()["csrf_token"]
    assert (
        client.post("/logout", headers={"origin": origin, "x-csrf-token": csrf}).status_code == 204
    )
    auth.store.remove("ghost")
    client.cookies.clear()
    return {auth.cookie_name: token}


def _ws_close_code(client: TestClient, path: str, origin: str) -> int:
    try:
        with client.websocket_connect(path, headers={"origin": origin}) as ws:
            message = ws.receive()
    except WebSocketDisconnect as exc:  # refused before the handshake completed
        return exc.code
    assert message["type"] == "websocket.close", f"{path} sent {message} without a session"
    return int(message["code"])


# --------------------------------------------------------------------------- a desk-like app


def desk_app(store: Path, **options: Any) -> tuple[FastAPI, DeskAuth]:
    """The gateway's public routes, install_auth, and protected routes of every kind —
    including ones that forgot their dependency (the gate must still refuse them)."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/bel", response_class=HTMLResponse)
    async def bel() -> str:
        return "<p>bel ons</p>"

    @app.get("/meter.js")
    async def meter() -> str:
        return "function levelMeter() {}"

    @app.post("/webrtc/offer")
    async def offer() -> dict[str, str]:
        return {"sdp": "v=0"}

    @app.post("/webrtc/{call_id}/hangup")
    async def hangup(call_id: str) -> dict[str, str]:
        return {"call": call_id}

    auth = install_auth(app, store, secure_cookies=False, cost=CHEAP, **options)

    @app.get("/desk", response_class=HTMLResponse)
    async def desk(user: CurrentUser) -> str:
        return f"<h1 id='desk'>Bureau van {user.name}</h1>"

    @app.get("/api/queue")
    async def queue(user: CurrentUser) -> dict[str, Any]:
        return {"waiting": [], "skills": list(user.skills)}

    @app.post("/api/agent/state")
    async def agent_state(user: CurrentUser) -> dict[str, str]:
        return {"agent": user.name, "state": "available"}

    @app.put("/api/calls/{call_id}/note")
    async def note(call_id: str, user: CurrentUser) -> dict[str, str]:
        return {"call": call_id}

    @app.patch("/api/calls/{call_id}")
    async def patch_call(call_id: str, user: SupervisorUser) -> dict[str, str]:
        return {"call": call_id}

    @app.delete("/api/callbacks/{task_id}")
    async def delete_callback(task_id: str, user: SupervisorUser) -> dict[str, str]:
        return {"task": task_id}

    @app.get("/api/forgot-its-dependency")
    async def forgot() -> dict[str, str]:
        return {"secret": "would leak without the gate"}

    app.mount("/desk/static", StaticFiles(directory=store.parent), name="static")

    supervisor = APIRouter(prefix="/api/supervisor")

    @supervisor.get("/overview")
    async def overview(user: SupervisorUser) -> dict[str, int]:
        return {"queues": 0}

    @supervisor.post("/broadcast")
    async def broadcast() -> dict[str, str]:  # forgot its dependency as well
        return {"sent": "yes"}

    app.include_router(supervisor)

    @app.websocket("/ws/desk")
    async def desk_ws(websocket: WebSocket, user: WsUser) -> None:
        await websocket.accept()
        await websocket.send_json({"hello": user.name})
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                text = await websocket.receive_text()
                # long-lived sockets re-check the session: logout and expiry reach them too
                if not auth.session_alive(user):
                    await websocket.close(CLOSE_UNAUTHENTICATED, "login")
                    return
                await websocket.send_json({"echo": text})

    @app.websocket("/ws/supervisor")
    async def supervisor_ws(websocket: WebSocket, user: WsSupervisor) -> None:
        await websocket.accept()
        await websocket.send_json({"hello": user.name})
        await websocket.close()

    @app.websocket("/ws/forgot/{room}")
    async def forgot_ws(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_json({"secret": room})
        await websocket.close()

    return app, auth


def test_every_route_and_websocket_refuses_without_a_session(tmp_path: Path) -> None:
    app, auth = desk_app(tmp_path / "desk.sqlite")
    checked = assert_every_route_refuses(app, auth, "http://testserver")
    kinds = {(ep.kind, ep.method) for ep in checked}
    assert {("http", m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")} <= kinds
    assert ("websocket", "GET") in kinds
    templates = {ep.template for ep in checked}
    assert {
        "/logout",
        "/api/me",
        "/api/forgot-its-dependency",
        "/ws/forgot/{room}",
        "/api/supervisor/overview",
        "/api/supervisor/broadcast",
        "/desk/static/",
    } <= templates
    public = {(ep.method, ep.template) for ep in endpoints(app) if ep.public}
    assert public == PUBLIC_ROUTES  # the allow-list names no route that is gone
    auth.close()


def test_the_same_requests_pass_with_a_session(tmp_path: Path) -> None:
    """The control for the walk above: with a supervisor's session and CSRF token nothing is
    refused, so the refusals there come from the missing session."""
    app, auth = desk_app(tmp_path / "desk.sqlite")
    auth.store.add("bert", "supervisor", (), hash_password(PASSWORD, CHEAP), 0.0)
    origin = "http://testserver"
    with TestClient(app) as client:
        r = client.post(
            "/login", json={"username": "bert", "password": PASSWORD}, headers={"origin": origin}
        )
        headers = {"origin": origin, "x-csrf-token": r.json()["csrf_token"]}
        for ep in endpoints(app):
            if ep.public or ep.template in ("/logout", "/login"):
                continue
            if ep.kind == "http":
                status = client.request(ep.method, ep.path, headers=headers).status_code
                assert status not in (401, 403), f"{ep}: {status}"
            else:
                with client.websocket_connect(ep.path, headers={"origin": origin}) as ws:
                    assert ws.receive_json()
    auth.close()


def test_a_browser_navigation_is_sent_to_the_login_page(tmp_path: Path) -> None:
    app, auth = desk_app(tmp_path / "desk.sqlite")
    with TestClient(app) as client:
        r = client.get("/desk", headers={"accept": "text/html"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
    auth.close()


def test_agent_is_refused_supervisor_routes_and_sockets(tmp_path: Path) -> None:
    app, auth = desk_app(tmp_path / "desk.sqlite")
    auth.store.add("anna", "agent", ("toeslagen",), hash_password(PASSWORD, CHEAP), 0.0)
    origin = "http://testserver"
    with TestClient(app) as client:
        r = client.post(
            "/login", json={"username": "anna", "password": PASSWORD}, headers={"origin": origin}
        )
        headers = {"origin": origin, "x-csrf-token": r.json()["csrf_token"]}
        assert client.patch("/api/calls/c1", headers=headers).status_code == 403
        assert client.delete("/api/callbacks/t1", headers=headers).status_code == 403
        assert client.get("/api/queue").json() == {"waiting": [], "skills": ["toeslagen"]}
        assert _ws_close_code(client, "/ws/supervisor", origin) == CLOSE_FORBIDDEN
    auth.close()


def test_gateway_app_routes_are_all_protected(tmp_path: Path) -> None:
    """The gateway's real app: whatever routes create_app has now or gets later."""
    from config.settings import Settings, load_settings
    from loket.http import create_app

    env = {"LOKET_RECORDS__PATH": str(tmp_path / "records.sqlite")}
    if "desk" in Settings.model_fields:
        env["LOKET_DESK__STORE_PATH"] = str(tmp_path / "desk.sqlite")
    # create_app only keeps the gateway for its handlers; none runs without a session
    gateway = SimpleNamespace(settings=load_settings(env), hub=SimpleNamespace())
    app = create_app(cast(Any, gateway))
    auth = getattr(app.state, "desk_auth", None)
    if auth is None:  # not wired into create_app yet: wire it the way the gateway will
        auth = install_auth(app, tmp_path / "desk.sqlite", secure_cookies=False, cost=CHEAP)
    checked = assert_every_route_refuses(app, auth, "http://testserver")
    assert {"/logout", "/api/me"} <= {ep.template for ep in checked}
    auth.close()


# --------------------------------------------------------------------------- real server


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # leave pytest's signal handling alone
        yield


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """The app on a real loopback socket; yields ``host:port``."""
    port = free_port("tcp")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = _Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def users_cli(store: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``loket users`` in a subprocess, as an administrator or a provisioning script runs it."""
    return subprocess.run(
        [sys.executable, "-m", "loket.users_cli", "users", *args, "--store", str(store)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_cli_adds_lists_and_refuses_bad_input(tmp_path: Path) -> None:
    store = tmp_path / "desk.sqlite"
    added = users_cli(
        store, "add", "Anna", "--role", "agent", "--skills", "Toeslagen,algemeen",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added anna" in added.stdout and PASSWORD not in added.stdout + added.stderr
    listed = users_cli(store, "list", "--json")
    assert listed.stdout.strip() == (
        '{"name": "anna", "role": "agent", "skills": ["algemeen", "toeslagen"], "sessions": 0}'
    )
    short = users_cli(store, "add", "bert", "--role", "agent", "--password-stdin", stdin="kort\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    again = users_cli(store, "add", "anna", "--role", "agent", "--password-stdin", stdin=PASSWORD)
    assert again.returncode == 1 and "exists already" in again.stderr
    bad = users_cli(store, "add", "x y", "--role", "agent", "--password-stdin", stdin=PASSWORD)
    assert bad.returncode == 2 and "invalid username" in bad.stderr
    role = users_cli(store, "add", "cees", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    assert role.returncode == 2 and "invalid choice" in role.stderr
    no_tty = users_cli(store, "add", "dirk", "--role", "agent")
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr
    gone = users_cli(store, "remove", "nobody")
    assert gone.returncode == 1 and "no account" in gone.stderr


async def test_real_server_login_cookie_csrf_websocket_logout(tmp_path: Path) -> None:
    store = tmp_path / "desk.sqlite"
    added = users_cli(
        store, "add", "anna", "--role", "agent", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert added.returncode == 0, added.stderr
    app, auth = desk_app(store)
    async with (
        serving(app) as host,
        httpx.AsyncClient(base_url=f"http://{host}", trust_env=False) as http,
    ):
        origin = f"http://{host}"
        assert (await http.get("/api/queue")).status_code == 401
        r = await http.post(
            "/login", json={"username": "anna", "password": PASSWORD}, headers={"origin": origin}
        )
        assert r.status_code == 200, r.text
        set_cookie = r.headers["set-cookie"]
        assert set_cookie.startswith("loket-desk=")
        for attribute in ("HttpOnly", "SameSite=strict", "Path=/"):
            assert attribute in set_cookie
        token = http.cookies["loket-desk"]
        csrf = r.json()["csrf_token"]

        assert (await http.get("/api/me")).json()["name"] == "anna"
        state = await http.post("/api/agent/state", headers={"origin": origin})
        assert state.status_code == 403  # no CSRF token
        state = await http.post(
            "/api/agent/state", headers={"origin": origin, "x-csrf-token": csrf}
        )
        assert state.json() == {"agent": "anna", "state": "available"}

        ws_url = f"ws://{host}/ws/desk"
        cookie = {"cookie": f"loket-desk={token}"}
        async with ws_connect(
            ws_url, origin=Origin(origin), additional_headers=cookie, proxy=None
        ) as ws:
            assert await ws.recv() == '{"hello":"anna"}'
            await ws.send("ping")
            assert await ws.recv() == '{"echo":"ping"}'

            # without a session: accepted, then closed 4401 so a page script sees why
            async with ws_connect(ws_url, origin=Origin(origin), proxy=None) as anonymous:
                with pytest.raises(ConnectionClosed) as closed:
                    await anonymous.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == CLOSE_UNAUTHENTICATED

            # another site's page, even with the victim's cookie: refused at the handshake
            with pytest.raises(InvalidStatus) as refused:
                async with ws_connect(
                    ws_url,
                    origin=Origin("https://evil.example"),
                    additional_headers=cookie,
                    proxy=None,
                ):
                    pass
            assert refused.value.response.status_code == 403

            # logout ends the session server-side, and the open socket learns it
            out = await http.post("/logout", headers={"origin": origin, "x-csrf-token": csrf})
            assert out.status_code == 204
            await ws.send("still there?")
            with pytest.raises(ConnectionClosed) as ended:
                await ws.recv()
            assert ended.value.rcvd is not None
            assert ended.value.rcvd.code == CLOSE_UNAUTHENTICATED

        http.cookies.set("loket-desk", token)  # the old cookie, replayed
        assert (await http.get("/api/me")).status_code == 401
    auth.close()


async def test_real_server_password_change_ends_sessions_and_login_is_throttled(
    tmp_path: Path,
) -> None:
    store = tmp_path / "desk.sqlite"
    assert (
        users_cli(
            store, "add", "anna", "--role", "agent", "--password-stdin", stdin=PASSWORD
        ).returncode
        == 0
    )
    app, auth = desk_app(store)
    async with (
        serving(app) as host,
        httpx.AsyncClient(base_url=f"http://{host}", trust_env=False) as http,
    ):
        origin = {"origin": f"http://{host}"}
        ok = await http.post(
            "/login", json={"username": "anna", "password": PASSWORD}, headers=origin
        )
        assert ok.status_code == 200
        changed = users_cli(
            store, "passwd", "anna", "--password-stdin", stdin="a brand new passphrase\n"
        )
        assert changed.returncode == 0 and "1 session(s) ended" in changed.stdout
        assert (await http.get("/api/me")).status_code == 401
        assert (
            await http.post(
                "/login", json={"username": "anna", "password": PASSWORD}, headers=origin
            )
        ).json() == {"detail": "Gebruikersnaam of wachtwoord onjuist."}

        statuses = []
        for _ in range(5):
            r = await http.post(
                "/login", json={"username": "anna", "password": "guess number n"}, headers=origin
            )
            statuses.append(r.status_code)
        assert statuses == [401, 401, 401, 401, 429]  # the first wrong try came just before
        assert int(r.headers["retry-after"]) >= 1
        # even the right password waits out the back-off
        r = await http.post(
            "/login",
            json={"username": "anna", "password": "a brand new passphrase"},
            headers=origin,
        )
        assert r.status_code == 429
    auth.close()


# --------------------------------------------------------------------------- the login page

CHROMIUM = shutil.which("chromium")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium")
async def test_login_page_in_a_real_browser(tmp_path: Path) -> None:
    """Headless Chromium: the page's script runs under its CSP, errors are announced, and a
    login lands on the desk with an HttpOnly cookie the page's script cannot read."""
    from playwright.async_api import async_playwright

    app, auth = desk_app(tmp_path / "desk.sqlite")
    auth.store.add("anna", "agent", (), hash_password(PASSWORD, CHEAP), 0.0)
    async with serving(app) as host, async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page()
            console: list[str] = []
            page.on("console", lambda m: console.append(m.text))
            await page.goto(f"http://{host}/desk")
            assert page.url.endswith("/login")  # sent to the login page
            assert await page.evaluate("document.activeElement.id") == "gebruikersnaam"

            await page.click("#verstuur")  # empty form
            # arrow functions: a predicate string would be eval'd, which the page's CSP forbids
            await page.wait_for_function("() => window.loketLogin.state === 'error'")
            assert await page.text_content("#melding") == "Vul uw gebruikersnaam en wachtwoord in."

            await page.get_by_label("Gebruikersnaam").fill("anna")
            await page.get_by_label("Wachtwoord").fill("not the password")
            await page.click("#verstuur")
            await page.wait_for_function(
                "() => document.getElementById('melding').textContent.includes('onjuist')"
            )
            assert await page.get_attribute("#melding", "aria-live") == "assertive"
            assert await page.get_attribute("#wachtwoord", "aria-invalid") == "true"
            assert await page.input_value("#wachtwoord") == ""

            await page.get_by_label("Wachtwoord").fill(PASSWORD)
            await page.keyboard.press("Enter")
            await page.wait_for_url(f"http://{host}/desk")
            assert await page.text_content("#desk") == "Bureau van anna"
            assert await page.evaluate("document.cookie") == ""  # HttpOnly
            assert not [c for c in console if "Content Security Policy" in c], console
        finally:
            await browser.close()
    auth.close()
