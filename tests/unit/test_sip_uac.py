"""Calls the gateway places (onward transfer) and REFER, with a fake clock."""

from __future__ import annotations

from aiosipua import SipMessage, SipRequest, SipResponse

from telephony.sip import events as ev
from telephony.sip.core import SipCore
from telephony.sip.transaction import T1, Peer
from tests.unit.test_sip_core import LOCAL, SDP, UDP, answered_call, request

TARGET = Peer("udp", "127.0.0.1", 5070)


def sent(core: SipCore) -> list[SipRequest | SipResponse]:
    return [SipMessage.parse(d) for d, _ in core.datagrams()]


def reply_to(req: SipRequest, status: int, *, tag: str = "callee", body: bytes = b"") -> bytes:
    resp = SipResponse(status_code=status, reason_phrase="X")
    for name in ("via", "from", "call-id", "cseq"):
        for value in req.headers.get(name):
            resp.headers.append(name, value)
    to = req.headers.get_first("to") or ""
    resp.headers.set_single("To", f"{to};tag={tag}" if status > 100 else to)
    resp.headers.set_single("Contact", "<sip:org@127.0.0.1:5070>")
    if body:
        resp.headers.set_single("Content-Type", "application/sdp")
        resp.body = body
    return bytes(resp)


def place(core: SipCore) -> tuple[str, SipRequest]:
    call_id = core.uac.invite(
        "sip:desk@org.example", TARGET, LOCAL, SDP, 0.0, headers={"X-Loket-Summary": "AOW vraag"}
    )
    (invite,) = sent(core)
    assert isinstance(invite, SipRequest) and invite.method == "INVITE"
    return call_id, invite


def test_placed_call_answered_is_acked_and_reported() -> None:
    core = SipCore()
    call_id, invite = place(core)
    assert invite.get_header("x-loket-summary") == "AOW vraag"
    assert invite.body == SDP
    core.receive(reply_to(invite, 100), TARGET, 0.05, LOCAL)
    core.receive(reply_to(invite, 180), TARGET, 0.1, LOCAL)
    assert core.events() == [ev.OutgoingProgress(call_id, 180)]
    core.receive(reply_to(invite, 200, body=SDP), TARGET, 1.0, LOCAL)
    (ack,) = sent(core)
    assert isinstance(ack, SipRequest) and ack.method == "ACK"
    assert ack.uri == "sip:org@127.0.0.1:5070"  # the callee's Contact
    assert ack.cseq is not None and invite.cseq is not None and ack.cseq.seq == invite.cseq.seq
    assert ack.to_addr is not None and ack.to_addr.tag == "callee"
    assert core.events() == [ev.OutgoingAnswered(call_id, SDP)]
    # a retransmitted 200 (our ACK was lost) gets the same ACK again
    core.receive(reply_to(invite, 200, body=SDP), TARGET, 1.5, LOCAL)
    (again,) = sent(core)
    assert bytes(again) == bytes(ack)
    # and the dialog works like any other: we can hang up
    core.hangup(call_id, 5.0)
    (bye,) = sent(core)
    assert isinstance(bye, SipRequest) and bye.method == "BYE"
    assert bye.to_addr is not None and bye.to_addr.tag == "callee"


def test_invite_is_retransmitted_until_a_provisional_then_times_out() -> None:
    core = SipCore()
    call_id, _ = place(core)
    core.handle_timers(T1 + 0.01)
    core.handle_timers(3 * T1 + 0.02)
    assert len(core.datagrams()) == 2  # Timer A: 0.5 s, then 1 s later
    core.handle_timers(64 * T1 + 0.1)
    events = core.events()
    assert ev.OutgoingFailed(call_id, 408, "Timeout") in events
    assert any(isinstance(e, ev.CallEnded) for e in events)


def test_busy_is_acked_on_the_same_branch() -> None:
    core = SipCore()
    call_id, invite = place(core)
    core.receive(reply_to(invite, 486), TARGET, 0.2, LOCAL)
    (ack,) = sent(core)
    assert isinstance(ack, SipRequest) and ack.method == "ACK"
    assert ack.via[0].branch == invite.via[0].branch
    events = core.events()
    assert events[0] == ev.OutgoingFailed(call_id, 486, "X")
    core.receive(reply_to(invite, 486), TARGET, 0.4, LOCAL)  # retransmitted final
    assert len(sent(core)) == 1 and core.events() == []


def test_cancel_waits_for_a_provisional_then_cancels() -> None:
    core = SipCore()
    call_id, invite = place(core)
    core.hangup(call_id, 0.1)
    assert core.datagrams() == []  # §9.1: no CANCEL before a provisional response
    core.receive(reply_to(invite, 180), TARGET, 0.2, LOCAL)
    (cancel,) = sent(core)
    assert isinstance(cancel, SipRequest) and cancel.method == "CANCEL"
    assert cancel.via[0].branch == invite.via[0].branch
    core.receive(reply_to(cancel, 200), TARGET, 0.3, LOCAL)
    core.receive(reply_to(invite, 487), TARGET, 0.3, LOCAL)
    (ack,) = sent(core)
    assert isinstance(ack, SipRequest) and ack.method == "ACK"


def test_refer_and_its_notify() -> None:
    core = SipCore()
    call, tag = answered_call(core)
    core.datagrams()
    assert core.refer(call.call_id, "sip:desk@org.example", 2.0)
    (refer,) = sent(core)
    assert isinstance(refer, SipRequest) and refer.method == "REFER"
    assert refer.get_header("refer-to") == "<sip:desk@org.example>"
    core.receive(reply_to(refer, 202, tag=tag), UDP, 2.1, LOCAL)
    assert core.events() == [ev.RequestDone(call.call_id, "REFER", 202)]
    notify = request(
        "NOTIFY",
        cseq=2,
        to_tag=tag,
        branch="z9hG4bK-n1",
        body=b"SIP/2.0 100 Trying\r\n",
        extra="Event: refer\r\nSubscription-State: active;expires=60\r\n",
    ).replace(b"application/sdp", b"message/sipfrag;version=2.0")
    core.receive(notify, UDP, 2.2, LOCAL)
    final = request(
        "NOTIFY",
        cseq=3,
        to_tag=tag,
        branch="z9hG4bK-n2",
        body=b"SIP/2.0 200 OK\r\n",
        extra="Event: refer\r\nSubscription-State: terminated;reason=noresource\r\n",
    ).replace(b"application/sdp", b"message/sipfrag;version=2.0")
    core.receive(final, UDP, 2.5, LOCAL)
    statuses = [r.status_code for r in sent(core) if isinstance(r, SipResponse)]
    assert statuses == [200, 200]
    assert core.events() == [
        ev.ReferNotify(call.call_id, 100, False),
        ev.ReferNotify(call.call_id, 200, True),
    ]


def test_notify_for_another_event_package_is_489() -> None:
    core = SipCore()
    _, tag = answered_call(core)
    core.datagrams()
    core.receive(request("NOTIFY", cseq=2, to_tag=tag, extra="Event: presence\r\n"), UDP, 1, LOCAL)
    assert [r.status_code for r in sent(core) if isinstance(r, SipResponse)] == [489]
