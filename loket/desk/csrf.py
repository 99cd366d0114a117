"""Cross-site request forgery defences: a same-origin check and a per-session token.

Two independent checks on every state-changing desk request (see docs/desk-auth.md):

* Origin: browsers send ``Origin`` on every POST/PUT/PATCH/DELETE and on every
  WebSocket handshake, and scripts cannot forge it. It must name this site: one of
  the configured origins, or else the host the request was sent to (``Host``).
  Without ``Origin`` the ``Referer``'s origin is used; with neither, refused.
  ``Sec-Fetch-Site: cross-site`` is refused as well.
* Token: ``X-CSRF-Token`` must equal HMAC-SHA256(session token, "loket-desk-csrf").
  It is tied to the session, needs no storage, and the page reads it from
  ``/api/me`` (the session cookie itself is HttpOnly). A header, not a form field:
  a cross-site form cannot set headers, and a cross-site fetch with one needs a
  CORS preflight that we never grant.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from urllib.parse import urlsplit

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "x-csrf-token"
_LABEL = b"loket-desk-csrf"


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode("utf-8"), _LABEL, hashlib.sha256).hexdigest()


def csrf_matches(expected: str, presented: str | None) -> bool:
    """Constant-time check of the header against the session's :func:`csrf_token`."""
    if not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "replace"))


def normalize_origin(url: str) -> str | None:
    """``scheme://host[:port]`` in lowercase, default ports dropped; None if not a URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        return None
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def _bare(netloc: str) -> str:
    """host[:port] without a default port (80 or 443: a TLS proxy may show either)."""
    netloc = netloc.strip().lower()
    for default in (":80", ":443"):
        if netloc.endswith(default):
            return netloc[: -len(default)]
    return netloc


def origin_problem(headers: Mapping[str, str], allowed: Collection[str]) -> str | None:
    """Why the request does not come from this site, or None when it does.

    ``headers`` are the request's (lowercase names); ``allowed`` normalized origins
    (empty: same host as the request, any scheme — behind a TLS proxy the scheme we
    see is not the browser's).
    """
    if headers.get("sec-fetch-site") == "cross-site":
        return "Sec-Fetch-Site: cross-site"
    raw = headers.get("origin")
    if raw is None or raw == "null":
        referer = headers.get("referer")
        if not referer:
            return "no Origin or Referer header" if raw is None else "Origin: null"
        raw = referer
    origin = normalize_origin(raw)
    if origin is None:
        return "unreadable Origin"
    if allowed:
        return None if origin in allowed else f"origin {origin} not allowed"
    host = headers.get("host", "")
    if host and _bare(host) == _bare(origin.split("://", 1)[1]):
        return None
    return f"origin {origin} is not this host"
