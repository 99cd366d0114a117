"""``sip.security``: who may call (trusted sources, digest accounts) and how fast.

Part of the one settings object (:class:`config.settings.SipSettings` holds it); kept in
its own module so the SIP admission rules read in one place.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Strangers = Literal["digest", "reject", "drop"]
Algorithm = Literal["SHA-256", "MD5"]
_ALGORITHMS: list[Algorithm] = ["SHA-256", "MD5"]
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_SCANNERS = [
    "friendly-scanner",
    "friendly-request",
    "sipvicious",
    "sipcli",
    "sundayddr",
    "VaxSIPUserAgent",
    "iWar",
    "sip-scan",
    "sipscan",
    "pplsip",
    "sivus",
    "smap",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_networks(value: list[str] | None, key: str) -> list[str] | None:
    """Each entry an IP address or a CIDR; the error names the key, the entry and a fix."""
    for entry in value or []:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"{key}: {entry!r} is not an IP address or CIDR; write e.g. 192.0.2.10, "
                "192.0.2.0/24 or 2001:db8::/32"
            ) from None
    return value


class RateSettings(_Section):
    per_s: float = Field(gt=0, le=1_000_000)
    """Sustained rate."""
    burst: int = Field(ge=1, le=1_000_000)
    """How many at once, after a quiet spell."""


def quotable(value: str, key: str) -> str:
    """*value*, which goes inside a quoted digest parameter: no quote, backslash or newline."""
    if any(c in value for c in '"\\\r\n'):
        raise ValueError(f"{key}: no quotes, backslashes or newlines")
    return value


class DigestUser(_Section):
    username: str = Field(min_length=1, max_length=128)
    password: str | None = None
    ha1_sha256: str | None = None
    """SHA-256 of ``username:realm:password`` in hex: no password in the file."""
    ha1_md5: str | None = None
    """MD5 of ``username:realm:password`` in hex."""

    @field_validator("username")
    @classmethod
    def _plain(cls, value: str) -> str:
        return quotable(value, "sip.security.users.username")

    @model_validator(mode="after")
    def _secret(self) -> DigestUser:
        if self.password is None and self.ha1_sha256 is None and self.ha1_md5 is None:
            raise ValueError(
                f"sip.security.users: {self.username!r} needs a password, or ha1_sha256 "
                "and/or ha1_md5"
            )
        for name, value, size in (
            ("ha1_sha256", self.ha1_sha256, 64),
            ("ha1_md5", self.ha1_md5, 32),
        ):
            if value is not None and (len(value) != size or not _HEX.match(value)):
                raise ValueError(
                    f"sip.security.users.{name} of {self.username!r}: must be {size} hex digits "
                    f"(e.g. printf '%s' 'USER:REALM:PASSWORD' | {name[4:]}sum)"
                )
        return self


class TransportSecurity(_Section):
    """Overrides for one transport; what is left out comes from ``sip.security``."""

    trusted: list[str] | None = None
    strangers: Strangers | None = None

    @field_validator("trusted")
    @classmethod
    def _networks(cls, value: list[str] | None) -> list[str] | None:
        return check_networks(value, "sip.security.transports.*.trusted")


class SipSecuritySettings(_Section):
    trusted: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1"])
    """Sources (IPs, CIDRs) let in without credentials and without per-source limits:
    the trunk's and proxies' addresses. The gateway's own address always is."""
    strangers: Strangers = "digest"
    """Other sources: ``digest`` (401 challenge; with no users configured, 403),
    ``reject`` (403) or ``drop`` (silence)."""
    transports: dict[Literal["udp", "tcp"], TransportSecurity] = Field(default_factory=dict)
    realm: str = Field("loket", min_length=1, max_length=128)
    algorithms: list[Algorithm] = Field(default_factory=lambda: list(_ALGORITHMS))
    """Digest challenges offered, in this order (RFC 8760: SHA-256 first)."""
    users: list[DigestUser] = Field(default_factory=list)
    nonce_ttl_s: float = Field(300.0, ge=10, le=86_400)
    """A nonce older than this gets ``stale=true`` (the client retries by itself)."""
    requests: RateSettings | None = RateSettings(per_s=20, burst=60)
    """All requests per untrusted source (null: no limit)."""
    invites: RateSettings | None = RateSettings(per_s=5, burst=20)
    """New INVITEs per untrusted source (null: no limit)."""
    dialog_requests: RateSettings | None = RateSettings(per_s=20, burst=100)
    """Requests within one call in progress, any source (null: no limit)."""
    retry_after_s: int = Field(5, ge=1, le=3600)
    """Retry-After of the 503 a source over its limit gets (once a second at most)."""
    max_sources: int = Field(10_000, ge=10, le=1_000_000)
    """Sources tracked per limit; beyond it new sources share one bucket."""
    scanner_user_agents: list[str] = Field(default_factory=lambda: list(_SCANNERS))
    """Dropped silently wherever they appear as a word in User-Agent."""

    @field_validator("trusted")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return check_networks(value, "sip.security.trusted") or []

    @field_validator("realm")
    @classmethod
    def _realm(cls, value: str) -> str:
        return quotable(value, "sip.security.realm")

    @model_validator(mode="after")
    def _consistent(self) -> SipSecuritySettings:
        if not self.algorithms:
            raise ValueError("sip.security.algorithms: name SHA-256, MD5 or both")
        names = [u.username for u in self.users]
        if len(set(names)) != len(names):
            raise ValueError("sip.security.users: each username only once")
        for user in self.users:
            if user.password is None and not any(
                (a == "SHA-256" and user.ha1_sha256) or (a == "MD5" and user.ha1_md5)
                for a in self.algorithms
            ):
                raise ValueError(
                    f"sip.security.users: {user.username!r} has no HA1 for any of "
                    f"sip.security.algorithms {self.algorithms}; add ha1_sha256 or ha1_md5"
                )
        return self
