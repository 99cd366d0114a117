"""Keeping strangers out: allowlist, digest through the core, rate limits, scanners (fake clock)."""

from __future__ import annotations

import ipaddress

import pytest
from aiosipua import SipMessage, SipResponse

from telephony.sip import digest
from telephony.sip import events as ev
from telephony.sip.admission import (
    Admission,
    AdmissionConfig,
    Incoming,
    RateLimit,
    TokenBuckets,
    TransportPolicy,
)
from telephony.sip.core import SipCore
from telephony.sip.digest import Credentials, DigestAuth
from telephony.sip.transaction import Peer
from tests.unit.test_sip_core import SDP, request

LOCAL = ("127.0.0.1", 5060)
TRUNK = Peer("udp", "127.0.0.1", 5061)
STRANGER = Peer("udp", "198.51.100.7", 5061)
OTHER = Peer("udp", "203.0.113.9", 5061)
URI = "sip:helpline@127.0.0.1:5060"


def nets(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


def admission(strangers: str = "digest", users: bool = True, **kw: object) -> Admission:
    policy = TransportPolicy(trusted=nets("127.0.0.1/32"), strangers=strangers)  # type: ignore[arg-type]
    config = AdmissionConfig(transports={"udp": policy, "tcp": policy}, **kw)  # type: ignore[arg-type]
    creds = {"trunk": Credentials.from_password("trunk", "s3cret", "loket")} if users else {}
    return Admission(config, DigestAuth("loket", creds))


def core_with(adm: Admission) -> SipCore:
    return SipCore(admission=adm)


def answers(core: SipCore) -> list[tuple[SipResponse, Peer]]:
    out = []
    for data, peer in core.datagrams():
        msg = SipMessage.parse(data)
        assert isinstance(msg, SipResponse)
        out.append((msg, peer))
    return out


def authorization(challenge: str, *, password: str = "s3cret", nc: str = "00000001") -> str:
    params = digest.parse_params(challenge)
    assert params is not None
    alg = params["algorithm"]
    ha1 = digest.ha1(alg, "trunk", "loket", password)
    resp = digest.response(alg, ha1, params["nonce"], nc, "c0ffee", "INVITE", URI)
    return (
        f'Authorization: Digest username="trunk", realm="loket", nonce="{params["nonce"]}", '
        f'uri="{URI}", response="{resp}", algorithm={alg}, qop=auth, nc={nc}, cnonce="c0ffee"\r\n'
    )


# ---------------------------------------------------------------- token buckets


def test_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    buckets = TokenBuckets(RateLimit(per_s=2, burst=5), max_keys=10)
    assert [buckets.take("a", 0.0) for _ in range(6)] == [True] * 5 + [False]
    assert not buckets.take("a", 0.4)  # 0.8 of a token back
    assert buckets.take("a", 0.5) and not buckets.take("a", 0.5)
    assert buckets.take("b", 0.5)  # another key has its own bucket


def test_bucket_memory_is_bounded_and_idle_buckets_expire() -> None:
    buckets = TokenBuckets(RateLimit(per_s=1, burst=2), max_keys=100)
    for i in range(20_000):  # a scan from many (spoofed) sources
        buckets.take(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}", 0.0)
    assert len(buckets) == 100
    # beyond the cap the newcomers share one bucket: spoofing buys no fresh burst
    assert not buckets.take("192.0.2.1", 0.0)
    buckets.take("192.0.2.1", 10.0)  # all idle ≥ burst/rate: forgotten
    assert len(buckets) == 1


# ---------------------------------------------------------------- allowlist, scanners


def test_trusted_by_ip_cidr_ipv6_mapped_and_own_address() -> None:
    policy = TransportPolicy(trusted=nets("192.0.2.0/28", "2001:db8::/32"))
    tcp_only = TransportPolicy(trusted=nets("198.51.100.0/24"))
    adm = Admission(
        AdmissionConfig(
            transports={"udp": policy, "tcp": tcp_only}, own_addresses=frozenset({"10.0.0.5"})
        )
    )
    assert adm.trusted("192.0.2.14", "udp") and not adm.trusted("192.0.2.16", "udp")
    assert adm.trusted("2001:db8::1", "udp") and not adm.trusted("2001:db9::1", "udp")
    assert adm.trusted("::ffff:192.0.2.1", "udp")  # a dual-stack socket's IPv4 peer
    assert adm.trusted("10.0.0.5", "udp") and adm.trusted("10.0.0.5", "tcp")  # health check
    assert not adm.trusted("192.0.2.1", "tcp") and adm.trusted("198.51.100.9", "tcp")
    assert not adm.trusted("not-an-ip", "udp")


@pytest.mark.parametrize(
    ("agent", "dropped"),
    [
        ("friendly-scanner", True),
        ("sipvicious 0.3.4", True),
        ("SIPVicious", True),
        ("VaxSIPUserAgent/3.1", True),
        ("sundayddr", True),
        ("iWar", True),
        ("sipcli/v1.8", True),
        ("pplsip", True),
        ("sip-scan", True),
        ("Asterisk PBX 20.1", False),
        ("Linphone/5.2 (belle-sip)", False),
        ("SIPp", False),
        ("baresip v1.0.0", False),
    ],
)
def test_scanner_user_agents_are_dropped_even_from_trusted_sources(
    agent: str, dropped: bool
) -> None:
    adm = admission()
    for source in ("127.0.0.1", "198.51.100.7"):
        decision = adm.check(Incoming(source, "udp", "OPTIONS", user_agent=agent), 0.0)
        assert (decision.action == "drop") is dropped, (agent, source, decision)


def test_scanner_gets_no_answer_from_the_core() -> None:
    core = core_with(admission())
    core.receive(request("OPTIONS", extra="User-Agent: friendly-scanner\r\n"), TRUNK, 0.0, LOCAL)
    assert core.datagrams() == [] and core.admission is not None
    assert core.admission.counts == {"scanner": 1}


# ---------------------------------------------------------------- digest through the core


def test_stranger_is_challenged_sha256_first_then_md5() -> None:
    core = core_with(admission())
    core.receive(request("INVITE", body=SDP), STRANGER, 0.0, LOCAL)
    ((resp, dest),) = answers(core)
    assert resp.status_code == 401 and dest.host == STRANGER.host
    challenges = resp.headers.get("www-authenticate")
    assert [c.split("algorithm=")[1].split(",")[0] for c in challenges] == ["SHA-256", "MD5"]
    assert core.events() == [] and core.dialogs == {}
    # a retransmission gets the same 401 from the transaction; the ACK is absorbed
    core.receive(request("INVITE", body=SDP), STRANGER, 0.1, LOCAL)
    ((again, _),) = answers(core)
    assert again.headers.get("www-authenticate") == challenges
    tag = resp.to_addr.tag if resp.to_addr else ""
    core.receive(request("ACK", to_tag=tag), STRANGER, 0.2, LOCAL)
    assert core.datagrams() == []


@pytest.mark.parametrize("which", [0, 1])
def test_stranger_with_credentials_gets_the_call(which: int) -> None:
    core = core_with(admission())
    core.receive(request("INVITE", body=SDP), STRANGER, 0.0, LOCAL)
    challenge = answers(core)[0][0].headers.get("www-authenticate")[which]
    core.receive(
        request("INVITE", body=SDP, cseq=2, branch="z9hG4bK-2", extra=authorization(challenge)),
        STRANGER,
        1.0,
        LOCAL,
    )
    assert [r.status_code for r, _ in answers(core)] == [100]
    (event,) = core.events()
    assert isinstance(event, ev.IncomingCall)
    # its retransmission is not a replay: answered from the transaction
    core.receive(
        request("INVITE", body=SDP, cseq=2, branch="z9hG4bK-2", extra=authorization(challenge)),
        STRANGER,
        1.1,
        LOCAL,
    )
    assert [r.status_code for r, _ in answers(core)] == [100]


def test_wrong_password_and_stale_nonce_get_a_new_challenge() -> None:
    core = core_with(admission())
    core.receive(request("INVITE", body=SDP), STRANGER, 0.0, LOCAL)
    challenge = answers(core)[0][0].headers.get("www-authenticate")[0]
    bad = request(
        "INVITE", body=SDP, branch="z9hG4bK-2", extra=authorization(challenge, password="x")
    )
    core.receive(bad, STRANGER, 1.0, LOCAL)
    ((resp, _),) = answers(core)
    assert resp.status_code == 401 and "stale" not in resp.headers.get("www-authenticate")[0]
    late = request("INVITE", body=SDP, branch="z9hG4bK-3", extra=authorization(challenge))
    core.receive(late, STRANGER, 400.0, LOCAL)  # nonce_ttl_s 300 by default
    ((resp, _),) = answers(core)
    assert resp.status_code == 401 and "stale=true" in resp.headers.get("www-authenticate")[0]
    assert core.events() == []


def test_trusted_source_needs_no_credentials() -> None:
    core = core_with(admission())
    core.receive(request("INVITE", body=SDP), TRUNK, 0.0, LOCAL)
    assert [r.status_code for r, _ in answers(core)] == [100]
    assert isinstance(core.events()[0], ev.IncomingCall)


@pytest.mark.parametrize(
    ("strangers", "users", "expect"),
    [("reject", True, [403]), ("drop", True, []), ("digest", False, [403])],
)
def test_other_stranger_policies(strangers: str, users: bool, expect: list[int]) -> None:
    core = core_with(admission(strangers, users))
    core.receive(request("OPTIONS"), STRANGER, 0.0, LOCAL)
    assert [r.status_code for r, _ in answers(core)] == expect
    core.receive(request("CANCEL", branch="z9hG4bK-x"), STRANGER, 0.0, LOCAL)
    assert [r.status_code for r, _ in answers(core)] == [481]  # CANCEL is never challenged


# ---------------------------------------------------------------- floods


def established(core: SipCore, peer: Peer, call_id: str, now: float) -> str:
    """A confirmed call from *peer* (trusted, or admitted via a test-only trust)."""
    core.receive(
        request("INVITE", body=SDP, call_id=call_id, branch=f"z9hG4bK-{call_id}"), peer, now, LOCAL
    )
    core.datagrams()
    core.events()
    core.accept(call_id, b"v=0\r\n", now)
    ((ok, _),) = answers(core)
    tag = ok.to_addr.tag if ok.to_addr else ""
    ack = request("ACK", call_id=call_id, to_tag=tag, branch=f"z9hG4bK-ack-{call_id}")
    core.receive(ack, peer, now, LOCAL)
    assert isinstance(core.events()[0], ev.CallConfirmed)
    return tag


def test_invite_flood_gets_one_503_a_second_then_silence_and_calls_go_on() -> None:
    adm = admission("digest", own_addresses=frozenset({STRANGER.host, "127.0.0.1"}))
    core = core_with(adm)
    tag = established(core, STRANGER, "call-up", 0.0)  # a call up from the flooding source
    adm2 = admission()
    core.admission = adm2  # from now on the source is a stranger, like the flood
    codes: list[int] = []
    for i in range(200):  # 200 new INVITEs in one second
        core.receive(
            request("INVITE", body=SDP, call_id=f"f{i}", branch=f"z9hG4bK-f{i}"),
            STRANGER,
            1.0 + i / 200,
            LOCAL,
        )
        codes += [r.status_code for r, _ in answers(core)]
    assert 20 <= codes.count(401) <= 25  # the INVITE burst (20) and 1 s at 5/s, challenged
    assert 1 <= codes.count(503) <= 4 and len(codes) < 30  # the rest: mostly silence
    assert adm2.counts["rate_invites"] + adm2.counts["rate_requests"] >= 170
    # the call in progress is not starved, by its own source's flood nor another's
    for peer in (STRANGER, OTHER):
        for i in range(100):
            core.receive(
                request("OPTIONS", call_id=f"o{i}", branch=f"z9hG4bK-o{i}"), peer, 1.5, LOCAL
            )
    core.datagrams()
    bye = request("BYE", call_id="call-up", to_tag=tag, cseq=2, branch="z9hG4bK-bye")
    core.receive(bye, STRANGER, 1.6, LOCAL)
    assert [r.status_code for r, _ in answers(core)] == [200]
    assert any(isinstance(e, ev.CallEnded) for e in core.events())


def test_503_carries_retry_after_and_is_stateless() -> None:
    adm = admission(invites=RateLimit(1, 1), busy=RateLimit(1, 1), retry_after_s=7)
    core = core_with(adm)
    core.receive(request("INVITE", body=SDP, branch="z9hG4bK-a"), STRANGER, 0.0, LOCAL)
    core.datagrams()
    core.receive(
        request("INVITE", body=SDP, call_id="c2", branch="z9hG4bK-b"), STRANGER, 0.0, LOCAL
    )
    ((resp, _),) = answers(core)
    assert resp.status_code == 503 and resp.headers.get_first("retry-after") == "7"
    assert not core.next_timer() or len(core._server_tx) == 1  # only the 401's transaction


def test_trusted_trunk_at_200_setups_a_second_is_never_limited() -> None:
    adm = admission()
    core = core_with(adm)
    for i in range(2000):  # 10 s at 200 call set-ups per second
        now = i / 200
        core.receive(
            request("INVITE", body=SDP, call_id=f"t{i}", branch=f"z9hG4bK-t{i}"), TRUNK, now, LOCAL
        )
        core.datagrams()
        (event,) = core.events()
        assert isinstance(event, ev.IncomingCall)
        core.reject(event.call_id, 486, now)  # keep max_calls free
        core.events()
        core.forget(event.call_id)
        core.datagrams()
    assert adm.counts == {}


def test_in_dialog_requests_have_a_generous_limit_of_their_own() -> None:
    adm = admission(dialog=RateLimit(10, 20))
    core = core_with(adm)
    tag = established(core, TRUNK, "d1", 0.0)
    codes = []
    for i in range(40):
        info = request("INFO", call_id="d1", to_tag=tag, cseq=2 + i, branch=f"z9hG4bK-i{i}")
        core.receive(info, TRUNK, 1.0, LOCAL)
        codes += [r.status_code for r, _ in answers(core)]
    assert codes.count(200) == 20 and adm.counts["rate_dialog"] == 20


def test_tracked_sources_stay_bounded_under_a_spoofed_scan() -> None:
    adm = admission(max_sources=500)
    core = core_with(adm)
    for i in range(5000):
        peer = Peer("udp", f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}", 5061)
        core.receive(
            request("OPTIONS", call_id=f"s{i}", branch=f"z9hG4bK-s{i}"), peer, i / 1000, LOCAL
        )
        core.datagrams()
    tracked = adm.tracked()
    assert tracked["requests"] <= 500 and tracked["busy"] <= 500
    assert adm.digest is not None and tracked["nonces"] <= adm.digest.max_nonces
