"""No message may stall the event loop: the core's pattern searches stay linear in size.

Found by ``make fuzz`` (bench/fuzz.py): a 60 KB From of letters took the From/To check
5 s, an INFO body of 60k newlines took the DTMF search 44 s; every call's audio waits
while one message is handled. The bound below is generous (the fixed code takes a few
milliseconds; the old one took seconds) so a busy machine cannot make it flaky.
"""

from __future__ import annotations

import time

import pytest

from telephony.sip import events as ev
from telephony.sip.core import SipCore
from telephony.sip.transaction import Peer
from tests.tools.sip_fuzz import SDP, Addr, request

LOCAL = ("127.0.0.1", 5060)
PEER = Peer("udp", "127.0.0.1", 5061)
BOUND_S = 0.5
BIG = 60_000  # what fits in one UDP datagram


def answered(core: SipCore) -> str:
    """A confirmed call; returns the gateway's To-tag."""
    core.receive(request("INVITE", Addr(), body=SDP), PEER, 0.0, LOCAL)
    (call,) = [e for e in core.events() if isinstance(e, ev.IncomingCall)]
    core.accept(call.call_id, SDP.encode(), 0.0)
    tag = core.dialogs[call.call_id].local_tag
    ack = request("ACK", Addr(), branch="z9hG4bK-ack", cseq_method="ACK", to_tag=tag)
    core.receive(ack, PEER, 0.1, LOCAL)
    core.datagrams()
    core.events()
    return tag


def timed(core: SipCore, data: bytes) -> tuple[float, list[bytes]]:
    t0 = time.perf_counter()
    core.receive(data, PEER, 1.0, LOCAL)
    took = time.perf_counter() - t0
    return took, [d for d, _ in core.datagrams()]


@pytest.mark.parametrize("value", ["a" * BIG, "sip" * (BIG // 3), "a-" * (BIG // 2)])
def test_a_huge_from_is_answered_400_at_once(value: str) -> None:
    core = SipCore()
    data = request("OPTIONS", Addr()).replace(
        b'"Fuzz" <sip:fuzz@127.0.0.1>;tag=fuzz-tag', value.encode()
    )
    took, out = timed(core, data)
    assert took < BOUND_S, f"{took:.2f} s"
    assert out and out[0].startswith(b"SIP/2.0 400"), out[:1]


@pytest.mark.parametrize("body", ["\n" * BIG + "x", "\r\n" * (BIG // 2), " \n" * (BIG // 2)])
def test_a_huge_dtmf_body_is_answered_at_once(body: str) -> None:
    core = SipCore()
    tag = answered(core)
    info = request(
        "INFO", Addr(), cseq=3, branch="z9hG4bK-info", to_tag=tag, body=body,
        content_type="application/dtmf-relay",
    )  # fmt: skip
    took, out = timed(core, info)
    assert took < BOUND_S, f"{took:.2f} s"
    assert out and out[0].startswith(b"SIP/2.0 400"), out[:1]  # no signal in the body


def test_dtmf_relay_still_read() -> None:
    core = SipCore()
    tag = answered(core)
    info = request(
        "INFO", Addr(), cseq=3, branch="z9hG4bK-info", to_tag=tag,
        body="\r\n  Signal = 7\r\nDuration= 250\r\n", content_type="application/dtmf-relay",
    )  # fmt: skip
    core.receive(info, PEER, 1.0, LOCAL)
    assert [(e.digit, e.duration_ms) for e in core.events() if isinstance(e, ev.Dtmf)] == [
        ("7", 250)
    ]
