"""Desk access on a FastAPI app: ``install_auth`` adds /login, /logout, /api/me and the gate.

It returns a :class:`DeskAuth` whose methods are the dependencies for other routes:
``require_user`` and ``require_role(...)`` for HTTP, ``ws_user`` and ``ws_role(...)``
for WebSockets, ``session_alive`` for long-lived connections. See docs/desk-auth.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import os
import re
import secrets
import threading
import time
from base64 import b64encode
from collections.abc import Awaitable, Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import (
    Depends,
    FastAPI,
    HTTPException,
    Request,
    Response,
    WebSocket,
    WebSocketException,
)
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketState

from loket.desk.accounts import AccountStore, Expired, SessionPolicy
from loket.desk.csrf import HEADER, SAFE_METHODS, csrf_matches, csrf_token, normalize_origin
from loket.desk.csrf import origin_problem as _origin_problem
from loket.desk.gate import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    CSRF_REFUSED,
    NO_ACCESS,
    NOT_LOGGED_IN,
    AuthGate,
    PublicPaths,
)
from loket.desk.passwords import (
    DEFAULT_COST,
    Role,
    ScryptCost,
    hash_password,
    needs_rehash,
    normalize_username,
    verify_password,
)
from loket.desk.throttle import LoginThrottle

AUDIT = logging.getLogger("loket.desk.audit")
LOGIN_PAGE = Path(__file__).resolve().parent.parent / "web" / "login.html"

DEFAULT_PUBLIC = ("/login", "/healthz", "/bel", "/meter.js", "/webrtc/")
"""The login page and the citizen endpoints; everything else needs a session."""
LOGIN_FAILED = "Gebruikersnaam of wachtwoord onjuist."
LOGIN_FOREIGN = "Inloggen kan alleen via de pagina van deze site."
LOGIN_INCOMPLETE = "Vul uw gebruikersnaam en wachtwoord in."
LOGIN_THROTTLED = "Te veel mislukte pogingen. Probeer het over {wait} opnieuw."
LOGIN_BUSY = "Het systeem is even druk. Probeer het zo opnieuw."
MAX_LOGIN_BODY = 4096
MAX_WAITING_LOGINS = 16
"""Logins queued for a password hash beyond this get 503: a flood cannot pile up."""
_T = TypeVar("_T")
_STATE_USER = "loket.desk.user"
_STATE_CHECKED = "loket.desk.checked"


@dataclass(frozen=True, slots=True)
class DeskUser:
    """Who is asking: the account as it is now, and their session."""

    name: str
    role: Role
    skills: tuple[str, ...]
    session_id: str
    """SHA-256 of the session token; ``session_id[:8]`` names the session in logs."""
    csrf_token: str
    expires_at: float

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "skills": list(self.skills),
            "csrf_token": self.csrf_token,
            "expires_at": self.expires_at,
        }


def _client(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"


def _name_for_log(name: str, known: bool) -> dict[str, str]:
    """A failed login's username may be a password typed in the wrong field: unless it is a
    real account, log only a short hash (enough to see attempts repeat)."""
    if known:
        return {"user": name}
    return {"user_hash": hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]}


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconden"
    return f"{math.ceil(seconds / 60)} minuten"


def _csp_hash(html: str, tag: str) -> str:
    found = re.search(rf"<{tag}>(.*?)</{tag}>", html, re.S)
    if not found:
        return "'none'"
    digest = hashlib.sha256(found.group(1).encode("utf-8")).digest()
    return f"'sha256-{b64encode(digest).decode()}'"


class DeskAuth:
    def __init__(
        self,
        store: AccountStore,
        *,
        secure_cookies: bool,
        origins: Collection[str] = (),
        public: Collection[str] = DEFAULT_PUBLIC,
        landing: str = "/desk",
        throttle: LoginThrottle | None = None,
        clock: Callable[[], float] = time.time,
        cost: ScryptCost = DEFAULT_COST,
    ) -> None:
        self.store = store
        self.secure = secure_cookies
        # the __Host- prefix makes browsers insist on Secure, Path=/ and no Domain
        self.cookie_name = "__Host-loket-desk" if secure_cookies else "loket-desk"
        normalized = {normalize_origin(o) for o in origins}
        if None in normalized:
            raise ValueError(f"desk origins must be URLs like https://desk.example.nl: {origins}")
        self.origins = frozenset(o for o in normalized if o)
        self.public = PublicPaths(public)
        self.landing = landing
        self.throttle = throttle or LoginThrottle()
        self.clock = clock
        self.cost = cost
        self._hashing = asyncio.Semaphore(1)
        self._hasher = ThreadPoolExecutor(1, "desk-hash", initializer=_lower_priority)
        self._waiting = 0
        # a password hash for unknown users, so they cost the same time as known ones
        self._dummy_hash = hash_password(secrets.token_urlsafe(16), cost)

    def close(self) -> None:
        self._hasher.shutdown(wait=False)
        self.store.close()

    async def _in_hasher(self, func: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._hasher, func, *args)

    # ------------------------------------------------------------------ checks

    def has_cookie(self, conn: HTTPConnection) -> bool:
        return self.cookie_name in conn.cookies

    def authenticate(self, conn: HTTPConnection) -> DeskUser | None:
        """The session's user, or None; remembered for the rest of the request."""
        state = conn.scope.setdefault("state", {})
        cached = state.get(_STATE_USER)
        if isinstance(cached, DeskUser):
            return cached
        token = conn.cookies.get(self.cookie_name)
        if not token or len(token) > 128:
            return None
        found = self.store.session(token, self.clock())
        if isinstance(found, Expired):
            AUDIT.info(
                "desk.session_expired",
                extra={"user": found.user, "session": found.id[:8], "reason": found.reason},
            )
            return None
        if found is None:
            return None
        account = found.account
        user = DeskUser(
            account.name,
            account.role,
            account.skills,
            found.id,
            csrf_token(token),
            found.expires_at,
        )
        state[_STATE_USER] = user
        return user

    def origin_problem(self, conn: HTTPConnection) -> str | None:
        return _origin_problem(conn.headers, self.origins)

    def request_problem(self, conn: HTTPConnection, user: DeskUser) -> str | None:
        """For a state-changing request: why it may not be a request of this site's page."""
        state = conn.scope.setdefault("state", {})
        if state.get(_STATE_CHECKED) or conn.scope.get("method", "GET") in SAFE_METHODS:
            return None
        problem = self.origin_problem(conn)
        if problem is None and not csrf_matches(user.csrf_token, conn.headers.get(HEADER)):
            problem = "missing or wrong X-CSRF-Token"
        if problem is not None:
            self.refused(conn, user, problem)
            return problem
        state[_STATE_CHECKED] = True
        return None

    def refused(self, conn: HTTPConnection, user: DeskUser | None, reason: str) -> None:
        AUDIT.warning(
            "desk.request_refused",
            extra={
                "path": conn.url.path,
                "method": conn.scope.get("method", "WEBSOCKET"),
                "reason": reason,
                "client": _client(conn),
                **({"user": user.name} if user else {}),
            },
        )

    def session_alive(self, user: DeskUser, *, touch: bool = True) -> bool:
        """Whether the user's session still stands (call it on each WebSocket message or
        heartbeat: a logout, password change or expiry ends it); restarts the idle clock."""
        return self.store.session_alive(user.session_id, self.clock(), touch=touch)

    # ------------------------------------------------------------------ dependencies

    def require_user(self, request: Request) -> DeskUser:
        """FastAPI dependency: the logged-in user (401 without a session, 403 on a CSRF failure)."""
        user = self.authenticate(request)
        if user is None:
            raise HTTPException(
                401, NOT_LOGGED_IN, {"WWW-Authenticate": 'Session realm="loket-desk"'}
            )
        if self.request_problem(request, user) is not None:
            raise HTTPException(403, CSRF_REFUSED)
        return user

    def require_role(self, *roles: Role) -> Callable[[Request], DeskUser]:
        """FastAPI dependency: the user, if their role is one of ``roles`` (else 403)."""

        def dependency(request: Request) -> DeskUser:
            user = self.require_user(request)
            if user.role not in roles:
                raise HTTPException(403, NO_ACCESS)
            return user

        return dependency

    async def ws_user(self, websocket: WebSocket) -> DeskUser:
        """WebSocket dependency: the user, or the socket closed with 4401 (1008: foreign origin)."""
        problem = self.origin_problem(websocket)
        if problem is not None:
            self.refused(websocket, None, problem)
            raise WebSocketException(1008)
        user = self.authenticate(websocket)
        if user is None:
            await _accept(websocket)
            raise WebSocketException(CLOSE_UNAUTHENTICATED, "login")
        return user

    def ws_role(self, *roles: Role) -> Callable[[WebSocket], Awaitable[DeskUser]]:
        """WebSocket dependency: the user if their role is one of ``roles``, else closed 4403."""

        async def dependency(websocket: WebSocket) -> DeskUser:
            user = await self.ws_user(websocket)
            if user.role not in roles:
                await _accept(websocket)
                raise WebSocketException(CLOSE_FORBIDDEN, "role")
            return user

        return dependency

    # ------------------------------------------------------------------ cookies

    def _set_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            self.cookie_name,
            token,
            max_age=int(self.store.policy.max_s),
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def clear_cookie_headers(self) -> dict[str, str]:
        response = Response()
        self._clear_cookie(response)
        return {"set-cookie": response.headers["set-cookie"]}

    def _clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            self.cookie_name, path="/", secure=self.secure, httponly=True, samesite="strict"
        )

    # ------------------------------------------------------------------ routes

    def add_routes(self, app: FastAPI) -> None:
        """/login (page and form), /logout, /api/me — on the app itself, not an included router,
        so ``app.routes`` lists them plainly."""
        app.add_api_route("/login", self.login_page, methods=["GET"], include_in_schema=False)
        app.add_api_route("/login", self.login, methods=["POST"])
        app.add_api_route("/logout", self.logout, methods=["POST"])
        app.add_api_route("/api/me", self.me, methods=["GET"])

    async def login_page(self, request: Request) -> Response:
        if self.authenticate(request) is not None:
            return RedirectResponse(self.landing, status_code=303)
        html = LOGIN_PAGE.read_text(encoding="utf-8")
        csp = (
            f"default-src 'none'; script-src {_csp_hash(html, 'script')};"
            f" style-src {_csp_hash(html, 'style')}; connect-src 'self'; img-src 'self';"
            " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        return HTMLResponse(
            html,
            headers={
                "content-security-policy": csp,
                "x-frame-options": "DENY",
                "x-content-type-options": "nosniff",
                "referrer-policy": "same-origin",
                "cache-control": "no-store",
            },
        )

    async def me(self, request: Request) -> JSONResponse:
        user = self.require_user(request)
        return JSONResponse(user.public(), headers={"cache-control": "no-store"})

    async def logout(self, request: Request) -> Response:
        user = self.require_user(request)
        self.store.end_session(user.session_id)
        AUDIT.info(
            "desk.logout",
            extra={"user": user.name, "session": user.session_id[:8], "client": _client(request)},
        )
        response = Response(status_code=204, headers={"cache-control": "no-store"})
        self._clear_cookie(response)
        return response

    async def login(self, request: Request) -> Response:
        """Password login. Unknown user and wrong password get the same answer, after the same
        work (a dummy hash); throttled per username and per address."""
        client = _client(request)
        problem = self.origin_problem(request)
        if problem is not None:  # login CSRF: logging a victim into the attacker's account
            self.refused(request, None, problem)
            return _error(403, LOGIN_FOREIGN)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _error(415, "Stuur de gegevens als JSON.")
        body = await _read_json(request, MAX_LOGIN_BODY)
        username = body.get("username") if body else None
        password = body.get("password") if body else None
        if not isinstance(username, str) or not isinstance(password, str):
            return _error(400, LOGIN_INCOMPLETE)
        if not username.strip() or not password:
            return _error(400, LOGIN_INCOMPLETE)
        name = normalize_username(username)[:64]

        throttled = self._throttled(name, client)
        if throttled is not None:
            return throttled
        if self._waiting >= MAX_WAITING_LOGINS:
            return _error(503, LOGIN_BUSY, {"retry-after": "1"})
        self._waiting += 1
        try:
            async with self._hashing:  # one hash at a time, off the loop: calls keep their CPU
                throttled = self._throttled(name, client)  # strikes made while we queued
                if throttled is not None:
                    return throttled
                stored = self.store.password_hash(name)
                ok = await self._in_hasher(self._verify, password, stored)
        finally:
            self._waiting -= 1

        now = self.clock()
        if not ok or stored is None:
            self.throttle.failure(name, client, now)
            AUDIT.info(
                "desk.login_failed",
                extra={
                    **_name_for_log(name, stored is not None),
                    "client": client,
                    "failures": self.throttle.failures("user", name, now),
                },
            )
            return _error(401, LOGIN_FAILED)

        self.throttle.success(name)
        if needs_rehash(stored, self.cost):
            fresh = await self._in_hasher(hash_password, password, self.cost)
            self.store.rehash(name, stored, fresh)
        old = request.cookies.get(self.cookie_name)
        if old:  # no session fixation: a login always starts a new session
            found = self.store.session(old, now)
            if found is not None:
                self.store.end_session(found.id)
        self.store.purge_expired(now)
        token, session = self.store.create_session(name, now)
        account = session.account
        user = DeskUser(
            name, account.role, account.skills, session.id, csrf_token(token), session.expires_at
        )
        AUDIT.info(
            "desk.login",
            extra={
                "user": name,
                "role": account.role,
                "session": session.id[:8],
                "client": client,
            },
        )
        response = JSONResponse(
            {**user.public(), "landing": self.landing}, headers={"cache-control": "no-store"}
        )
        self._set_cookie(response, token)
        return response

    def _verify(self, password: str, stored: str | None) -> bool:
        try:
            return verify_password(password, stored or self._dummy_hash)
        except ValueError:
            AUDIT.error("desk.bad_password_hash", extra={"detail": "stored hash unreadable"})
            return False

    def _throttled(self, name: str, client: str) -> Response | None:
        wait = self.throttle.retry_after(name, client, self.clock())
        if wait <= 0:
            return None
        seconds = max(1, math.ceil(wait))
        AUDIT.info(
            "desk.login_throttled",
            extra={
                **_name_for_log(name, self.store.get(name) is not None),
                "client": client,
                "retry_after": seconds,
            },
        )
        return _error(
            429, LOGIN_THROTTLED.format(wait=_wait_text(seconds)), {"retry-after": str(seconds)}
        )


def _lower_priority() -> None:
    """The hashing thread yields to the voice pipeline when the CPU is short (Linux: the
    nice value is per thread). scrypt releases the GIL, so the event loop runs on meanwhile."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


async def _accept(websocket: WebSocket) -> None:
    if websocket.client_state is WebSocketState.CONNECTING:
        await websocket.accept()


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"detail": detail},
        status_code=status,
        headers={"cache-control": "no-store", **(headers or {})},
    )


async def _read_json(request: Request, limit: int) -> dict[str, Any] | None:
    """The body as a JSON object, or None when too big or not an object."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _auth_of(conn: HTTPConnection) -> DeskAuth:
    auth = getattr(conn.app.state, "desk_auth", None)
    if not isinstance(auth, DeskAuth):
        raise RuntimeError("install_auth() was not called on this app")
    return auth


def current_user(request: Request) -> DeskUser:
    return _auth_of(request).require_user(request)


def current_supervisor(request: Request) -> DeskUser:
    return _auth_of(request).require_role("supervisor")(request)


async def ws_current_user(websocket: WebSocket) -> DeskUser:
    return await _auth_of(websocket).ws_user(websocket)


async def ws_current_supervisor(websocket: WebSocket) -> DeskUser:
    return await _auth_of(websocket).ws_role("supervisor")(websocket)


# Parameter types for routes, usable in modules with ``from __future__ import annotations``
# (FastAPI resolves them from the module's globals), e.g. ``async def f(user: CurrentUser)``.
CurrentUser = Annotated[DeskUser, Depends(current_user)]
SupervisorUser = Annotated[DeskUser, Depends(current_supervisor)]
WsUser = Annotated[DeskUser, Depends(ws_current_user)]
WsSupervisor = Annotated[DeskUser, Depends(ws_current_supervisor)]


def install_auth(
    app: FastAPI,
    store_path: Path,
    *,
    secure_cookies: bool,
    policy: SessionPolicy | None = None,
    origins: Collection[str] = (),
    public: Collection[str] = DEFAULT_PUBLIC,
    landing: str = "/desk",
    throttle: LoginThrottle | None = None,
    clock: Callable[[], float] = time.time,
    cost: ScryptCost = DEFAULT_COST,
) -> DeskAuth:
    """Put desk access on ``app``: the gate (every path but ``public`` needs a session), the
    /login, /logout and /api/me routes. Call before the app serves; ``auth.close()`` at exit."""
    auth = DeskAuth(
        AccountStore(store_path, policy),
        secure_cookies=secure_cookies,
        origins=origins,
        public=public,
        landing=landing,
        throttle=throttle,
        clock=clock,
        cost=cost,
    )
    app.add_middleware(AuthGate, auth=auth)
    auth.add_routes(app)
    app.state.desk_auth = auth
    return auth
