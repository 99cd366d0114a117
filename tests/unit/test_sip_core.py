"""The sans-IO SIP core, driven with hand-written messages and a fake clock."""

from __future__ import annotations

import pytest
from aiosipua import SipMessage, SipResponse

from telephony.sip import events as ev
from telephony.sip.core import CoreConfig, SipCore
from telephony.sip.transaction import T1, T2, T4, Peer

UDP = Peer("udp", "127.0.0.1", 5061)
TCP = Peer("tcp", "127.0.0.1", 40000, conn=1)
LOCAL = ("127.0.0.1", 5060)
SDP = (
    b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)


def request(
    method: str,
    *,
    call_id: str = "call-1",
    cseq: int = 1,
    branch: str = "z9hG4bK-1",
    to_tag: str | None = None,
    body: bytes = b"",
    extra: str = "",
    transport: str = "UDP",
    cseq_method: str | None = None,
) -> bytes:
    to = "<sip:helpline@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    head = (
        f"{method} sip:helpline@127.0.0.1:5060 SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} 127.0.0.1:5061;branch={branch}\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:caller@127.0.0.1>;tag=caller-tag\r\n"
        f"To: {to}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {cseq_method or method}\r\n"
        "Contact: <sip:caller@127.0.0.1:5061>\r\n"
        f"{extra}"
    )
    if body:
        head += "Content-Type: application/sdp\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def responses(core: SipCore) -> list[tuple[SipResponse, Peer]]:
    out = []
    for data, peer in core.datagrams():
        msg = SipMessage.parse(data)
        assert isinstance(msg, SipResponse), data
        out.append((msg, peer))
    return out


def statuses(core: SipCore) -> list[int]:
    return [r.status_code for r, _ in responses(core)]


def invite(core: SipCore, now: float = 0.0, **kw: object) -> ev.IncomingCall:
    core.receive(request("INVITE", body=SDP, **kw), UDP, now, LOCAL)  # type: ignore[arg-type]
    events = core.events()
    assert len(events) == 1 and isinstance(events[0], ev.IncomingCall)
    return events[0]


def answered_call(core: SipCore) -> tuple[ev.IncomingCall, str]:
    call = invite(core)
    core.datagrams()
    core.accept(call.call_id, b"v=0\r\n", 0.1)
    ((ok, _),) = responses(core)
    to_tag = ok.to_addr.tag if ok.to_addr else None
    assert to_tag
    core.receive(request("ACK", to_tag=to_tag, branch="z9hG4bK-ack"), UDP, 0.2, LOCAL)
    assert isinstance(core.events()[0], ev.CallConfirmed)
    return call, to_tag


def test_invite_ring_answer_ack_bye() -> None:
    core = SipCore()
    call = invite(core)
    assert call.offer == SDP
    assert statuses(core) == [100]
    core.ring(call.call_id, 0.05)
    ((ringing, peer),) = responses(core)
    assert ringing.status_code == 180 and peer.addr == ("127.0.0.1", 5061)
    core.accept(call.call_id, b"v=0\r\n", 0.1)
    ((ok, _),) = responses(core)
    assert ok.status_code == 200 and ok.body == b"v=0\r\n"
    assert ok.get_header("contact") == "<sip:127.0.0.1:5060>"
    assert ok.to_addr is not None and ringing.to_addr is not None
    assert ok.to_addr.tag == ringing.to_addr.tag  # one dialog, one tag
    core.receive(request("ACK", to_tag=ok.to_addr.tag, branch="z9hG4bK-ack"), UDP, 0.2, LOCAL)
    assert core.events() == [ev.CallConfirmed(call.call_id, None)]
    core.receive(request("BYE", cseq=2, to_tag=ok.to_addr.tag, branch="z9hG4bK-bye"), UDP, 5, LOCAL)
    assert statuses(core) == [200]
    assert core.events() == [ev.CallEnded(call.call_id, "caller", "bye")]


def test_invite_retransmission_before_answer_repeats_last_response() -> None:
    core = SipCore()
    call = invite(core)
    core.ring(call.call_id, 0.05)
    core.datagrams()
    core.receive(request("INVITE", body=SDP), UDP, 0.5, LOCAL)
    assert statuses(core) == [180]
    assert core.events() == []  # not a second call
    assert core.active_calls == 1


def test_invite_retransmission_after_200_repeats_200_not_481() -> None:
    core = SipCore()
    call = invite(core)
    core.accept(call.call_id, b"v=0\r\n", 0.1)
    core.datagrams()
    core.receive(request("INVITE", body=SDP), UDP, 0.6, LOCAL)
    assert statuses(core) == [200]
    assert core.events() == []


def test_200_is_retransmitted_with_backoff_until_ack() -> None:
    core = SipCore()
    call = invite(core)
    core.datagrams()
    core.accept(call.call_id, b"v=0\r\n", 0.0)
    ((ok, _),) = responses(core)
    sent_at = []
    now = 0.0
    for step in range(1, 200):
        now = step / 20
        core.handle_timers(now)
        if core.datagrams():
            sent_at.append(round(now, 2))
    gaps = [round(b - a, 1) for a, b in zip([0.0, *sent_at], sent_at, strict=False)]
    assert gaps[:4] == [T1, 2 * T1, 4 * T1, T2]
    assert ok.to_addr is not None
    core.receive(request("ACK", to_tag=ok.to_addr.tag, branch="z9hG4bK-ack"), UDP, now, LOCAL)
    core.events()
    core.handle_timers(now + 10)
    assert core.datagrams() == []


def test_no_ack_ends_the_call_with_bye() -> None:
    core = SipCore()
    call = invite(core)
    core.accept(call.call_id, b"v=0\r\n", 0.0)
    core.datagrams()
    core.handle_timers(64 * T1 + 0.01)
    sent = [SipMessage.parse(d) for d, _ in core.datagrams()]
    assert any(getattr(m, "method", "") == "BYE" for m in sent)
    assert ev.CallEnded(call.call_id, "timeout", "no ACK") in core.events()


def test_cancel_before_answer() -> None:
    core = SipCore()
    call = invite(core)
    core.datagrams()
    core.receive(request("CANCEL", cseq_method="CANCEL"), UDP, 1.0, LOCAL)
    got = responses(core)
    assert [(r.status_code, r.cseq.method if r.cseq else "") for r, _ in got] == [
        (200, "CANCEL"),
        (487, "INVITE"),
    ]
    events = core.events()
    assert ev.CallCancelled(call.call_id) in events
    assert ev.CallEnded(call.call_id, "caller", "cancelled") in events
    # the 487 is retransmitted until the ACK (same branch as the INVITE) arrives
    core.handle_timers(1.0 + T1 + 0.01)
    assert statuses(core) == [487]
    core.receive(request("ACK", to_tag=got[1][0].to_addr.tag), UDP, 1.6, LOCAL)  # type: ignore[union-attr]
    # retransmissions stop; Timer I (T4) absorbs ACK retransmissions, then the
    # transaction ends — the next timer is exactly that, not the cancelled resend
    assert core.next_timer() == pytest.approx(1.6 + T4)
    core.handle_timers(3.0)
    assert core.datagrams() == []
    assert core.events() == []  # the ACK is absorbed
    core.handle_timers(1.6 + T4)
    assert core.next_timer() == pytest.approx(1.0 + 64 * T1)  # the CANCEL's Timer J


def test_cancel_after_answer_only_gets_200() -> None:
    core = SipCore()
    call = invite(core)
    core.accept(call.call_id, b"v=0\r\n", 0.1)
    core.datagrams()
    core.receive(request("CANCEL"), UDP, 0.2, LOCAL)
    assert statuses(core) == [200]
    assert core.events() == []


def test_cancel_for_unknown_invite_gets_481() -> None:
    core = SipCore()
    core.receive(request("CANCEL"), UDP, 0.0, LOCAL)
    assert statuses(core) == [481]


def test_options_out_of_dialog() -> None:
    core = SipCore()
    core.receive(request("OPTIONS"), UDP, 0.0, LOCAL)
    ((resp, _),) = responses(core)
    assert resp.status_code == 200
    assert "INVITE" in (resp.get_header("allow") or "")


@pytest.mark.parametrize("method", ["BYE", "INFO", "UPDATE"])
def test_request_for_unknown_dialog_gets_481(method: str) -> None:
    core = SipCore()
    core.receive(request(method, to_tag="nope"), UDP, 0.0, LOCAL)
    assert statuses(core) == [481]


def test_bye_with_wrong_tag_gets_481() -> None:
    core = SipCore()
    call, _ = answered_call(core)
    core.receive(request("BYE", cseq=2, to_tag="wrong", branch="z9hG4bK-b"), UDP, 1, LOCAL)
    assert statuses(core) == [481]
    assert core.events() == []
    assert core.dialogs[call.call_id].state.value == "confirmed"


def test_bye_retransmission_is_answered_again() -> None:
    core = SipCore()
    _, tag = answered_call(core)
    bye = request("BYE", cseq=2, to_tag=tag, branch="z9hG4bK-bye")
    core.receive(bye, UDP, 1, LOCAL)
    core.receive(bye, UDP, 1.5, LOCAL)
    assert statuses(core) == [200, 200]
    assert len([e for e in core.events() if isinstance(e, ev.CallEnded)]) == 1


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (request("INVITE").replace(b"Call-ID: call-1\r\n", b""), 400),
        (request("INVITE").replace(b"CSeq: 1 INVITE", b"CSeq: one INVITE"), 400),
        (request("INVITE").replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE"), 400),
        (request("INVITE").replace(b"SIP/2.0/UDP 127", b"SIP/3.0/UDP 127"), 400),
        (request("INVITE").replace(b"From: <sip:caller@127.0.0.1>", b"From: nobody"), 400),
        (request("INVITE").replace(b"Content-Length: 0", b"Content-Length: 500"), 400),
        (request("INVITE").replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1), 505),
        (request("INVITE").replace(b"sip:helpline@127.0.0.1:5060", b"http://x"), 416),
        (request("INVITE", extra="Require: 100rel\r\n"), 420),
        (request("REGISTER"), 405),
        (request("FROBNICATE"), 501),
        (request("INVITE").replace(b"INVITE sip:", b"INV@ITE sip:", 1), 400),
    ],
)
def test_bad_requests_get_the_right_status(raw: bytes, status: int) -> None:
    core = SipCore()
    core.receive(raw, UDP, 0.0, LOCAL)
    assert statuses(core) == [status]
    assert core.events() == []


def test_garbage_without_via_is_dropped_without_crash() -> None:
    core = SipCore()
    for junk in (b"\x00\xff\xfe garbage", b"hello world\r\n\r\n", b"\r\n\r\n", b"SIP/2.0 200"):
        core.receive(junk, UDP, 0.0, LOCAL)
    assert core.datagrams() == []


@pytest.mark.parametrize("vias", [80, 300])
def test_a_request_with_hundreds_of_vias_gets_a_400_a_parser_can_read(vias: int) -> None:
    # found by the fuzzer (seed 1003, message 69,375): 281 headers, 272 of them Via;
    # the 400 copied every Via and aiosipua refused it for its own 256-header limit
    extra = "".join(
        f"Via: SIP/2.0/UDP 10.0.0.{i % 250}:5060;branch=z9hG4bK-{i}\r\n" for i in range(vias)
    )
    core = SipCore()
    core.receive(request("OPTIONS", extra=extra), UDP, 0.0, LOCAL)
    [(resp, peer)] = responses(core)
    assert resp.status_code in (200, 400)
    got = resp.headers.get("via")
    assert len(got) == 71 and "z9hG4bK-1" in got[0]  # the caller's own Via, first
    assert peer.addr == ("127.0.0.1", 5061)


def test_unsupported_body_type_gets_415() -> None:
    core = SipCore()
    raw = request("INVITE", body=b"hello").replace(b"application/sdp", b"text/plain")
    core.receive(raw, UDP, 0.0, LOCAL)
    assert statuses(core) == [415]


def test_more_than_max_calls_gets_503() -> None:
    core = SipCore(CoreConfig(max_calls=2))
    for i in range(3):
        core.receive(
            request("INVITE", call_id=f"c{i}", branch=f"z9hG4bK-{i}", body=SDP), UDP, 0, LOCAL
        )
    assert statuses(core) == [100, 100, 503]


def test_merged_invite_gets_482() -> None:
    core = SipCore()
    invite(core)
    core.datagrams()
    core.receive(request("INVITE", branch="z9hG4bK-other", body=SDP), UDP, 0.1, LOCAL)
    assert statuses(core) == [482]


def test_reinvite_hold_is_offered_to_the_application() -> None:
    core = SipCore()
    call, tag = answered_call(core)
    core.receive(
        request("INVITE", cseq=2, to_tag=tag, branch="z9hG4bK-re", body=SDP), UDP, 1, LOCAL
    )
    (offer,) = core.events()
    assert isinstance(offer, ev.SessionOffer) and offer.offer == SDP
    core.answer_session(offer, 200, b"v=0\r\n", 1.01)
    ((ok, _),) = responses(core)
    assert ok.status_code == 200 and ok.cseq is not None and ok.cseq.seq == 2
    core.receive(request("ACK", cseq=2, to_tag=tag, branch="z9hG4bK-ack2"), UDP, 1.1, LOCAL)
    core.handle_timers(5)
    assert core.datagrams() == []  # ACK stopped the retransmissions
    assert core.dialogs[call.call_id].state.value == "confirmed"


def test_out_of_order_cseq_gets_500() -> None:
    core = SipCore()
    _, tag = answered_call(core)
    core.receive(request("INFO", cseq=1, to_tag=tag, branch="z9hG4bK-i"), UDP, 1, LOCAL)
    assert statuses(core) == [500]


def test_info_dtmf_relay() -> None:
    core = SipCore()
    call, tag = answered_call(core)
    raw = request(
        "INFO", cseq=2, to_tag=tag, branch="z9hG4bK-i", body=b"Signal=9\r\nDuration=160\r\n"
    )
    core.receive(raw.replace(b"application/sdp", b"application/dtmf-relay"), UDP, 1, LOCAL)
    assert statuses(core) == [200]
    assert core.events() == [ev.Dtmf(call.call_id, "9", 160, "info")]


def test_hangup_sends_bye_and_retransmits_until_answered() -> None:
    core = SipCore()
    call, tag = answered_call(core)
    core.datagrams()
    core.hangup(call.call_id, 10.0)
    ((data, peer),) = core.datagrams()
    bye = SipMessage.parse(data)
    assert getattr(bye, "method", "") == "BYE" and peer == UDP
    assert bye.get_header("to") == "<sip:caller@127.0.0.1>;tag=caller-tag"
    assert bye.from_addr is not None and bye.from_addr.tag == tag
    assert getattr(bye, "uri", "") == "sip:caller@127.0.0.1:5061"
    assert core.events() == [ev.CallEnded(call.call_id, "gateway", "hangup")]
    core.handle_timers(10.0 + T1 + 0.01)
    assert len(core.datagrams()) == 1  # Timer E retransmission
    ok = SipResponse(status_code=200, reason_phrase="OK", headers=bye.headers.copy())
    core.receive(bytes(ok), UDP, 11.0, LOCAL)
    assert core.events() == [ev.RequestDone(call.call_id, "BYE", 200)]
    core.handle_timers(20.0)
    assert core.datagrams() == []


def test_hangup_before_ack_waits_for_the_ack() -> None:
    core = SipCore()
    call = invite(core)
    core.datagrams()
    core.accept(call.call_id, b"v=0\r\n", 0.0)
    ((ok, _),) = responses(core)
    core.hangup(call.call_id, 0.05)
    assert core.datagrams() == []
    assert ok.to_addr is not None
    core.receive(request("ACK", to_tag=ok.to_addr.tag, branch="z9hG4bK-ack"), UDP, 0.1, LOCAL)
    sent = [SipMessage.parse(d) for d, _ in core.datagrams()]
    assert [getattr(m, "method", "") for m in sent] == ["BYE"]


def test_hangup_while_ringing_rejects_with_480() -> None:
    core = SipCore()
    call = invite(core)
    core.datagrams()
    core.hangup(call.call_id, 0.1)
    assert statuses(core) == [480]


def test_tcp_has_no_retransmissions_and_replies_on_the_connection() -> None:
    core = SipCore()
    core.receive(request("INVITE", body=SDP, transport="TCP"), TCP, 0.0, LOCAL)
    (call,) = core.events()
    assert isinstance(call, ev.IncomingCall)
    core.accept(call.call_id, b"v=0\r\n", 0.0)
    out = core.datagrams()
    assert {peer for _, peer in out} == {TCP}
    core.handle_timers(5.0)
    assert core.datagrams() == []


def test_late_offer_answer_arrives_in_ack() -> None:
    core = SipCore()
    core.receive(request("INVITE"), UDP, 0.0, LOCAL)
    (call,) = core.events()
    assert isinstance(call, ev.IncomingCall) and call.offer is None
    core.accept(call.call_id, b"v=0 offer\r\n", 0.0)
    ((ok, _),) = [r for r in responses(core) if r[0].status_code == 200]
    assert ok.to_addr is not None
    core.receive(
        request("ACK", to_tag=ok.to_addr.tag, branch="z9hG4bK-a", body=SDP), UDP, 0.1, LOCAL
    )
    assert core.events() == [ev.CallConfirmed(call.call_id, SDP)]


def test_response_uses_rport_and_received() -> None:
    core = SipCore()
    raw = request("OPTIONS").replace(b"branch=z9hG4bK-1", b"branch=z9hG4bK-1;rport")
    core.receive(raw, Peer("udp", "10.0.0.9", 33333), 0.0, LOCAL)
    ((_, peer),) = responses(core)
    assert peer.addr == ("10.0.0.9", 33333)
    core.receive(request("OPTIONS", branch="z9hG4bK-2"), Peer("udp", "10.0.0.9", 33333), 0.0, LOCAL)
    ((_, peer),) = responses(core)
    assert peer.addr == ("10.0.0.9", 5061)  # no rport: received IP, Via port


def test_record_route_is_copied_into_dialog_responses_and_becomes_the_route_set() -> None:
    # behind Kamailio: the caller's ACK/BYE and our BYE must pass the proxies (§12.1.1)
    rr = "Record-Route: <sip:10.0.0.1;lr;ftag=x>\r\nRecord-Route: <sip:10.0.0.2;lr>\r\n"
    core = SipCore()
    call = invite(core, extra=rr)
    ((trying, _),) = responses(core)
    assert trying.headers.get("record-route") == []
    core.ring(call.call_id, 0.05)
    core.accept(call.call_id, b"v=0\r\n", 0.1)
    (ringing, _), (ok, _) = responses(core)
    for resp in (ringing, ok):
        assert resp.headers.get("record-route") == ["<sip:10.0.0.1;lr;ftag=x>", "<sip:10.0.0.2;lr>"]
    assert ok.to_addr is not None
    core.receive(request("ACK", to_tag=ok.to_addr.tag, branch="z9hG4bK-ack"), UDP, 0.2, LOCAL)
    core.events()
    core.hangup(call.call_id, 1.0)
    ((data, _),) = core.datagrams()
    bye = SipMessage.parse(data)
    assert bye.headers.get("route") == ["<sip:10.0.0.1;lr;ftag=x>", "<sip:10.0.0.2;lr>"]
