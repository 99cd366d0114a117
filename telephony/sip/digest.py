"""SIP digest authentication for a UAS (RFC 3261 §22, RFC 7616, RFC 8760), sans-IO.

:class:`DigestAuth` issues challenges (one ``WWW-Authenticate`` per algorithm, in the
configured order: SHA-256 before MD5, as RFC 8760 §2.4 recommends) and checks
``Authorization`` headers. Only ``qop=auth`` is offered and accepted. Nonces are random,
kept in a bounded table with their issue time and the highest nonce count seen, so an
old nonce gets ``stale=true`` (the client retries with its credentials, RFC 7616 §3.3)
and a replayed nonce count is refused. Time comes in as ``now``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

HASHES: dict[str, str] = {"SHA-256": "sha256", "MD5": "md5"}
"""RFC 8760 algorithm names and their hashlib names."""

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,"]*)\s*(?:,|$)')
_NC = re.compile(r"^[0-9A-Fa-f]{8}$")


def hexdigest(algorithm: str, text: str) -> str:
    return hashlib.new(HASHES[algorithm], text.encode("utf-8")).hexdigest()


def ha1(algorithm: str, username: str, realm: str, password: str) -> str:
    """H(username:realm:password) — what a site may store instead of the password."""
    return hexdigest(algorithm, f"{username}:{realm}:{password}")


def response(
    algorithm: str, ha1_hex: str, nonce: str, nc: str, cnonce: str, method: str, uri: str
) -> str:
    """The ``response`` value for qop=auth (RFC 7616 §3.4.1)."""
    ha2 = hexdigest(algorithm, f"{method}:{uri}")
    return hexdigest(algorithm, f"{ha1_hex}:{nonce}:{nc}:{cnonce}:auth:{ha2}")


def parse_params(value: str) -> dict[str, str] | None:
    """``Digest a=b, c="d"`` → ``{"a": "b", "c": "d"}`` (names lower-cased); None if not Digest."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        match = _PARAM.match(rest, pos)
        if match is None or match.end() == pos:
            return None
        quoted = match.group(3)
        raw = quoted if quoted is not None else match.group(2)
        params[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", raw)
        pos = match.end()
    return params


@dataclass(frozen=True, slots=True)
class Credentials:
    """One account: its HA1 per algorithm (computed from a password, or given)."""

    username: str
    ha1: Mapping[str, str]

    @classmethod
    def from_password(
        cls, username: str, password: str, realm: str, algorithms: Iterable[str] = HASHES
    ) -> Credentials:
        return cls(username, {a: ha1(a, username, realm, password) for a in algorithms})


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str
    """``ok``, or why not: ``no_credentials``, ``malformed``, ``unknown_user``, ``wrong``,
    ``stale``, ``replay``."""
    stale: bool = False
    username: str = ""


@dataclass
class _Nonce:
    issued: float
    nc: int = 0


@dataclass
class DigestAuth:
    realm: str
    users: Mapping[str, Credentials]
    algorithms: Sequence[str] = ("SHA-256", "MD5")
    nonce_ttl_s: float = 300.0
    max_nonces: int = 10_000
    """Outstanding nonces kept; beyond it the oldest is forgotten (its user gets stale=true)."""
    _nonces: OrderedDict[str, _Nonce] = field(default_factory=OrderedDict, repr=False)

    def challenges(self, now: float, *, stale: bool = False) -> list[str]:
        """``WWW-Authenticate`` values, one per algorithm, sharing one fresh nonce."""
        self._expire(now)
        nonce = secrets.token_urlsafe(24)
        self._nonces[nonce] = _Nonce(now)
        while len(self._nonces) > self.max_nonces:
            self._nonces.popitem(last=False)
        tail = ", stale=true" if stale else ""
        return [
            f'Digest realm="{self.realm}", nonce="{nonce}", algorithm={a}, qop="auth"{tail}'
            for a in self.algorithms
        ]

    def verify(self, authorizations: Sequence[str], method: str, now: float) -> Verdict:
        """Check the request's ``Authorization`` headers (the one for our realm)."""
        params = self._ours(authorizations)
        if params is None:
            return Verdict(False, "no_credentials" if not authorizations else "malformed")
        algorithm = _algorithm(params.get("algorithm", "MD5"))
        nonce, nc, cnonce = params.get("nonce", ""), params.get("nc", ""), params.get("cnonce")
        if (
            algorithm not in self.algorithms
            or params.get("qop", "").lower() != "auth"
            or not _NC.match(nc)
            or not cnonce
            or not nonce
            or not params.get("uri", "").lower().startswith(("sip:", "sips:", "tel:"))
            or "response" not in params
        ):
            return Verdict(False, "malformed")
        user = self.users.get(params.get("username", ""))
        secret = user.ha1.get(algorithm) if user is not None else None
        if user is None or secret is None:
            return Verdict(False, "unknown_user")
        # the digest signs the uri the client names; SIPp, for one, names host:port rather
        # than the Request-URI (its -auth_uri default). Replays are stopped by the nonce count.
        expected = response(algorithm, secret, nonce, nc, cnonce, method, params["uri"])
        if not hmac.compare_digest(expected, params["response"].lower()):
            return Verdict(False, "wrong")
        self._expire(now)
        issued = self._nonces.get(nonce)
        if issued is None:  # expired, forgotten, or never ours: the password was right
            return Verdict(False, "stale", stale=True)
        count = int(nc, 16)
        if count <= issued.nc:
            return Verdict(False, "replay")
        issued.nc = count
        return Verdict(True, "ok", username=user.username)

    def _ours(self, authorizations: Sequence[str]) -> dict[str, str] | None:
        for value in authorizations:
            params = parse_params(value)
            if params is not None and params.get("realm") == self.realm:
                return params
        return None

    def _expire(self, now: float) -> None:
        while self._nonces:
            oldest = next(iter(self._nonces.values()))
            if now - oldest.issued <= self.nonce_ttl_s:
                return
            self._nonces.popitem(last=False)

    def __len__(self) -> int:
        return len(self._nonces)


def _algorithm(name: str) -> str:
    upper = name.strip().upper()
    return "SHA-256" if upper == "SHA-256" else upper
