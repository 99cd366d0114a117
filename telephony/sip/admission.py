"""Who may talk to the SIP core: scanners, floods and strangers are stopped here, sans-IO.

:meth:`Admission.check` looks at one request that parsed (the core calls it first thing
for every request) and says admit, drop, or answer with a status. The rules, in order:

1. a known scanner ``User-Agent`` is dropped silently (an answer only confirms a target);
2. requests of a dialog in progress are limited per dialog only (generously), so
   nobody's flood — not even their own source's — starves a call that is up;
3. any other request from a source outside the trusted list is limited per source IP,
   all requests and new INVITEs apart; trusted sources (trunks, proxies, this machine)
   are not limited per source, ``max_calls`` bounds their work;
4. an out-of-dialog request (but ACK and CANCEL, which cannot be challenged, RFC 3261
   §22.1) from outside the trusted list is, per transport, dropped, refused (403), or
   challenged for digest credentials (401, :mod:`telephony.sip.digest`).

Over a limit, a source gets a stateless ``503`` with ``Retry-After`` at most once a
second or so, and everything else is dropped: under a flood, answering costs the sender
nothing and us a packet each, and no transaction state is kept for it, while the one
503 tells a well-behaved proxy to fail over and back off.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from telephony.sip.digest import DigestAuth

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Strangers = Literal["digest", "reject", "drop"]

SCANNER_AGENTS = (
    "friendly-scanner",
    "friendly-request",
    "sipvicious",
    "sipcli",
    "sundayddr",
    "vaxsipuseragent",
    "iwar",
    "sip-scan",
    "sipscan",
    "pplsip",
    "sivus",
    "smap",
)
"""User-Agents of SIP scanners and war-diallers, matched as words, case-insensitively."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    per_s: float
    burst: float


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """Token buckets by key, in bounded memory.

    A bucket idle long enough to be full again holds no information, so it is
    forgotten; past *max_keys* live buckets, new keys share one overflow bucket, so a
    flood from spoofed sources is limited as one source instead of evicting real ones.
    """

    def __init__(self, limit: RateLimit, max_keys: int) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._overflow = _Bucket(limit.burst, 0.0)
        self._refill_s = limit.burst / limit.per_s

    def take(self, key: str, now: float) -> bool:
        self._expire(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                bucket = self._overflow
            else:
                bucket = self._buckets[key] = _Bucket(self.limit.burst, now)
        else:
            self._buckets.move_to_end(key)
        bucket.tokens = min(
            self.limit.burst, bucket.tokens + max(0.0, now - bucket.at) * self.limit.per_s
        )
        bucket.at = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def _expire(self, now: float) -> None:
        # least recently used first: stop at the first one still refilling
        while self._buckets:
            bucket = next(iter(self._buckets.values()))
            if now - bucket.at < self._refill_s:
                return
            self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)


@dataclass(frozen=True, slots=True)
class TransportPolicy:
    trusted: tuple[Network, ...] = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    strangers: Strangers = "digest"


@dataclass(frozen=True, slots=True)
class AdmissionConfig:
    transports: Mapping[str, TransportPolicy] = field(default_factory=dict)
    """Per transport (``udp``, ``tcp``); a transport not named gets the defaults."""
    own_addresses: frozenset[str] = frozenset({"127.0.0.1"})
    """Always trusted: the address the gateway's own health check comes from."""
    requests: RateLimit | None = RateLimit(20, 60)
    """All requests per untrusted source (but those of a dialog in progress)."""
    invites: RateLimit | None = RateLimit(5, 20)
    """New INVITEs per untrusted source."""
    dialog: RateLimit | None = RateLimit(20, 100)
    """Requests within one dialog in progress (any source)."""
    busy: RateLimit = RateLimit(1, 3)
    """503 answers per source when over a limit; the rest is dropped."""
    retry_after_s: int = 5
    max_sources: int = 10_000
    scanner_agents: Sequence[str] = SCANNER_AGENTS


@dataclass(frozen=True, slots=True)
class Incoming:
    """What the policy needs to know of one request (the core fills it in)."""

    source: str
    transport: str
    method: str
    user_agent: str = ""
    dialog: str | None = None
    """The Call-ID, when the request belongs to a dialog in progress."""
    retransmission: bool = False
    """A transaction for it exists already (it was admitted before)."""
    authorization: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    action: Literal["admit", "drop", "reply"]
    reason: str = ""
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    stateless: bool = False
    """Answer outside any transaction (floods: no state kept)."""

    @property
    def phrase(self) -> str:
        return _PHRASES.get(self.status, "")


_PHRASES = {401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable"}


ADMIT = Decision("admit")


class Admission:
    """The policy; counts what it refused in :attr:`counts` (by reason)."""

    LOG_EVERY_S = 60.0

    def __init__(self, config: AdmissionConfig, digest: DigestAuth | None = None) -> None:
        self.config = config
        self.digest = digest
        self.counts: dict[str, int] = {}
        self._logged: dict[str, float] = {}
        self._default = TransportPolicy()
        self._trusted_cache: dict[tuple[str, str], bool] = {}
        words = "|".join(re.escape(a) for a in config.scanner_agents)
        self._scanner = re.compile(rf"(?<![\w-])(?:{words})(?![\w-])", re.I) if words else None
        n = config.max_sources
        self._requests = TokenBuckets(config.requests, n) if config.requests else None
        self._invites = TokenBuckets(config.invites, n) if config.invites else None
        self._dialogs = TokenBuckets(config.dialog, n) if config.dialog else None
        self._busy = TokenBuckets(config.busy, n)

    def policy(self, transport: str) -> TransportPolicy:
        return self.config.transports.get(transport, self._default)

    def trusted(self, source: str, transport: str) -> bool:
        key = (source, transport)
        known = self._trusted_cache.get(key)
        if known is None:
            if len(self._trusted_cache) >= 4096:  # a scan from many sources: bounded
                self._trusted_cache.clear()
            known = self._trusted_cache[key] = self._is_trusted(source, transport)
        return known

    def _is_trusted(self, source: str, transport: str) -> bool:
        if source in self.config.own_addresses:
            return True
        try:
            addr = ipaddress.ip_address(source.strip("[]").split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
        return any(addr in net for net in self.policy(transport).trusted)

    def check(self, req: Incoming, now: float) -> Decision:
        if self._scanner is not None and req.user_agent and self._scanner.search(req.user_agent):
            return self._refused("scanner", now)
        if req.dialog is not None:
            if self._dialogs is not None and not self._dialogs.take(req.dialog, now):
                return self._over("rate_dialog", req, now)
            return ADMIT
        if self.trusted(req.source, req.transport):
            return ADMIT
        if self._requests is not None and not self._requests.take(req.source, now):
            return self._over("rate_requests", req, now)
        if req.retransmission or req.method in ("ACK", "CANCEL"):
            return ADMIT
        if (
            req.method == "INVITE"
            and self._invites is not None
            and not self._invites.take(req.source, now)
        ):
            return self._over("rate_invites", req, now)
        return self._stranger(req, now)

    def _stranger(self, req: Incoming, now: float) -> Decision:
        mode = self.policy(req.transport).strangers
        if mode == "drop":
            return self._refused("stranger_dropped", now)
        if mode == "reject" or self.digest is None or not self.digest.users:
            return self._refused("stranger_rejected", now, status=403)
        verdict = self.digest.verify(req.authorization, req.method, now)
        if verdict.ok:
            self._count("digest_ok", now, log_it=False)
            return ADMIT
        challenges = self.digest.challenges(now, stale=verdict.stale)
        return self._refused(
            f"digest_{verdict.reason}",
            now,
            status=401,
            headers=tuple(("WWW-Authenticate", c) for c in challenges),
            log_it=verdict.reason not in ("no_credentials", "stale"),  # the usual first round
        )

    def _over(self, reason: str, req: Incoming, now: float) -> Decision:
        if req.method == "ACK" or not self._busy.take(req.source, now):
            return self._refused(reason, now)  # never answer an ACK; the rest of a flood
        return self._refused(
            reason,
            now,
            status=503,
            headers=(("Retry-After", str(self.config.retry_after_s)),),
            stateless=True,
        )

    def _refused(
        self,
        reason: str,
        now: float,
        *,
        status: int = 0,
        headers: tuple[tuple[str, str], ...] = (),
        stateless: bool = False,
        log_it: bool = True,
    ) -> Decision:
        self._count(reason, now, log_it=log_it)
        if not status:
            return Decision("drop", reason)
        return Decision("reply", reason, status, headers, stateless)

    def _count(self, reason: str, now: float, *, log_it: bool) -> None:
        # counts only, at most once a minute per reason: no addresses, no log floods
        self.counts[reason] = self.counts.get(reason, 0) + 1
        last = self._logged.get(reason)
        if not log_it or (last is not None and now - last < self.LOG_EVERY_S):
            return
        self._logged[reason] = now
        log.info("sip.refused", extra={"reason": reason, "count": self.counts[reason]})

    def tracked(self) -> dict[str, int]:
        """Entries held, per table (the memory bound, for tests and health)."""
        tables = {"requests": self._requests, "invites": self._invites, "dialogs": self._dialogs}
        sizes = {name: len(t) for name, t in tables.items() if t is not None}
        sizes["busy"] = len(self._busy)
        sizes["nonces"] = len(self.digest) if self.digest is not None else 0
        return sizes
