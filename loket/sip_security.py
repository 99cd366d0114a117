"""From ``sip.security`` settings to the SIP core's admission policy."""

from __future__ import annotations

import ipaddress
import logging

from config.sip_security import RateSettings, SipSecuritySettings
from telephony.sip.admission import Admission, AdmissionConfig, RateLimit, TransportPolicy
from telephony.sip.digest import Credentials, DigestAuth

log = logging.getLogger(__name__)

TRANSPORTS = ("udp", "tcp")


def own_addresses(sip_host: str) -> frozenset[str]:
    """Where the gateway's health check (an OPTIONS to itself) comes from."""
    if sip_host in ("", "0.0.0.0"):
        return frozenset({"127.0.0.1"})
    if sip_host == "::":
        return frozenset({"::1"})
    return frozenset({sip_host})


def _rate(value: RateSettings | None) -> RateLimit | None:
    return None if value is None else RateLimit(value.per_s, float(value.burst))


def build_admission(sec: SipSecuritySettings, sip_host: str) -> Admission:
    policies = {}
    for transport in TRANSPORTS:
        override = sec.transports.get(transport)  # type: ignore[call-overload]
        trusted = sec.trusted
        if override is not None and override.trusted is not None:
            trusted = override.trusted  # an empty list means: nobody is trusted here
        policies[transport] = TransportPolicy(
            trusted=tuple(ipaddress.ip_network(n, strict=False) for n in trusted),
            strangers=(override.strangers if override else None) or sec.strangers,
        )
    users = {}
    for user in sec.users:
        if user.password is not None:
            creds = Credentials.from_password(
                user.username, user.password, sec.realm, sec.algorithms
            )
        else:
            given = {"SHA-256": user.ha1_sha256, "MD5": user.ha1_md5}
            creds = Credentials(
                user.username, {a: h.lower() for a, h in given.items() if h is not None}
            )
        users[user.username] = creds
    config = AdmissionConfig(
        transports=policies,
        own_addresses=own_addresses(sip_host),
        requests=_rate(sec.requests),
        invites=_rate(sec.invites),
        dialog=_rate(sec.dialog_requests),
        retry_after_s=sec.retry_after_s,
        max_sources=sec.max_sources,
        scanner_agents=tuple(sec.scanner_user_agents),
    )
    digest = DigestAuth(sec.realm, users, tuple(sec.algorithms), sec.nonce_ttl_s)
    log.info(
        "sip.security",
        extra={
            "trusted": {t: len(p.trusted) for t, p in policies.items()},
            "strangers": {
                t: p.strangers if p.strangers != "digest" or users else "digest (no users: 403)"
                for t, p in policies.items()
            },
            "digest_users": len(users),
        },
    )
    return Admission(config, digest)
