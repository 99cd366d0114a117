"""The access gate: ASGI middleware that refuses every non-public request without a session.

Deny by default, so a route added later is protected even if it forgets the
dependency. For HTTP: no valid session → 401 (a browser navigation is sent to
``/login`` with 303); a state-changing request must also pass the Origin check and
carry the CSRF token → else 403. For WebSockets: a foreign or missing ``Origin``
is refused before the handshake completes (the client sees HTTP 403; close code
1008 in Starlette's test client); no valid session → the handshake is accepted and
at once closed with code 4401, the only way a page's script can learn the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from loket.desk.auth import DeskAuth

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_POLICY = 1008

NOT_LOGGED_IN = "Niet ingelogd of sessie verlopen."
CSRF_REFUSED = "Verzoek geweigerd (CSRF-controle). Herlaad de pagina."
NO_ACCESS = "Geen toegang met deze rol."


class PublicPaths:
    """Paths open without a session: exact entries, and prefixes written with a trailing ``/``."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = tuple(entries)
        self._exact = {e for e in self.entries if not e.endswith("/")}
        self._prefixes = tuple(e for e in self.entries if e.endswith("/"))

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        if path in self._exact:
            return True
        # a dot segment or empty segment never counts as public: keep prefixes literal
        if "/./" in path or "/../" in path or path.endswith(("/.", "/..")) or "//" in path:
            return False
        return path.startswith(self._prefixes)


def route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return (path[len(root) :] or "/") if root and path.startswith(root) else path


async def _send_json(send: Send, status: int, detail: str, headers: dict[str, str]) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class AuthGate:
    def __init__(self, app: ASGIApp, auth: DeskAuth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or route_path(scope) in self.auth.public:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        else:
            await self._websocket(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        conn = HTTPConnection(scope)
        user = self.auth.authenticate(conn)
        if user is None:
            headers = self.auth.clear_cookie_headers() if self.auth.has_cookie(conn) else {}
            accept = conn.headers.get("accept", "")
            if scope["method"] in ("GET", "HEAD") and "text/html" in accept:
                raw = [(b"location", b"/login"), (b"cache-control", b"no-store")]
                raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
                await send({"type": "http.response.start", "status": 303, "headers": raw})
                await send({"type": "http.response.body", "body": b""})
                return
            headers["www-authenticate"] = 'Session realm="loket-desk"'
            await _send_json(send, 401, NOT_LOGGED_IN, headers)
            return
        problem = self.auth.request_problem(conn, user)
        if problem is not None:
            await _send_json(send, 403, CSRF_REFUSED, {})
            return

        async def send_hardened(message: Message) -> None:
            # desk responses hold personal data and must never be framed (clickjacking)
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("cache-control", "no-store")
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("x-frame-options", "DENY")
            await send(message)

        await self.app(scope, receive, send_hardened)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        conn = HTTPConnection(scope)
        problem = self.auth.origin_problem(conn)
        if problem is not None:
            self.auth.refused(conn, None, problem)
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": CLOSE_POLICY, "reason": ""})
            return
        user = self.auth.authenticate(conn)
        if user is None:
            await receive()
            await send({"type": "websocket.accept"})
            await send(
                {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED, "reason": "login"}
            )
            return
        await self.app(scope, receive, send)
