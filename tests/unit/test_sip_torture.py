"""RFC 4475 torture messages against the sans-IO core: each gets the answer the RFC asks for.

"call" means handled as a valid INVITE (100 at once, then 180/200 when the application
rings and accepts); "drop" means nothing is sent (responses, which are never answered).
Where the RFC lets an element be liberal (lwsstart, trws, escruri, baddate), Loket is:
a helpline takes the call.
"""

from __future__ import annotations

import re

import pytest
from aiosipua import SipMessage, SipResponse

from telephony.sip import events as ev
from telephony.sip.core import CoreConfig, SipCore
from telephony.sip.message import parse, response_usable
from telephony.sip.transaction import Peer
from tests.tools.rfc4475 import expand, load, names
from tests.tools.sip_fuzz import SDP, Addr, request

LOCAL = ("127.0.0.1", 5060)
CALL, DROP = "call", "drop"

# name -> (outcome, reason fragment a 400 must carry)
EXPECTED: dict[str, tuple[int | str, str]] = {
    # §3.1.1 valid messages
    "wsinv": (481, ""),  # valid, but its To-tag names a dialog we do not have
    "intmeth": (501, ""),
    "esc01": (CALL, ""),
    "escnull": (405, ""),  # REGISTER: we are no registrar
    "esc02": (501, ""),  # RE%47IST%45R is a method of its own
    "lwsdisp": (200, ""),
    "longreq": (CALL, ""),
    "dblreq": (405, ""),  # the REGISTER only; the INVITE after it is not a message
    "semiuri": (200, ""),
    "transports": (200, ""),
    "mpart01": (405, ""),  # MESSAGE
    "unreason": (DROP, ""),
    "noreason": (DROP, ""),
    # §3.1.2 invalid messages
    "badinv01": (400, "Via"),
    "clerr": (400, "Content-Length"),
    "ncl": (400, "Content-Length"),
    "scalar02": (400, "CSeq"),
    "scalarlg": (DROP, ""),
    "quotbal": (400, "quoted"),
    "ltgtruri": (400, "Request-URI"),
    "lwsruri": (400, "request line"),
    "lwsstart": (CALL, ""),
    "trws": (200, ""),
    "escruri": (CALL, ""),
    "baddate": (CALL, ""),
    "regbadct": (400, "Contact"),
    "badaspec": (400, "To"),
    "baddn": (400, "From"),
    "badvers": (505, ""),
    "mismatch01": (400, "CSeq method"),
    "mismatch02": (501, ""),  # the RFC prefers 501 to 400 for an unknown method
    "bigcode": (DROP, ""),
    # §3.2 transaction layer
    "badbranch": (200, ""),
    # §3.3 application layer
    "insuf": (400, "Missing"),
    "unkscm": (416, ""),
    "novelsc": (416, ""),
    "unksm2": (405, ""),  # unknown schemes in To/From/Contact are valid syntax
    "bext01": (420, ""),
    "invut": (415, ""),
    "regaut01": (405, ""),
    "multi01": (400, "More than one"),
    "mcl01": (400, "Content-Length"),
    "bcast": (DROP, ""),
    "zeromf": (200, ""),  # Max-Forwards 0 stops proxies, not the UAS
    "cparam01": (405, ""),
    "cparam02": (405, ""),
    "regescrt": (405, ""),
    "sdp01": (406, ""),  # our 200 would carry SDP, which Accept rules out
    # §3.4 backward compatibility
    "inv2543": (CALL, ""),
}

_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)", re.I | re.M)


def answers(core: SipCore) -> list[SipResponse]:
    out = []
    for data, _peer in core.datagrams():
        msg = SipMessage.parse(data)
        assert isinstance(msg, SipResponse), data[:80]
        out.append(msg)
    return out


def feed(name: str, peer: Peer) -> tuple[SipCore, list[SipResponse], list[ev.Event]]:
    core = SipCore(CoreConfig())
    core.receive(load(name), peer, 1000.0, LOCAL)
    return core, answers(core), core.events()


def test_all_rfc_messages_are_here_and_expand_to_their_lengths() -> None:
    assert names() == sorted(EXPECTED)
    for name in names():
        data = load(name)
        head, _, body = data.partition(b"\r\n\r\n")
        lengths = [int(v) for v in _LENGTH.findall(head)]
        if name in ("clerr", "ncl", "mcl01", "dblreq", "inv2543"):
            continue  # their lengths are the torture (or absent)
        assert lengths == [len(body)], name  # the notation expanded octet for octet


def test_notation_expands_hex_and_joined_lines() -> None:
    text = "<allOneLine>\nA: b\nc\n</allOneLine>\nX: <hex>00FF20</hex>\n"
    assert expand(text) == b"A: bc\r\nX: \x00\xff \r\n"
    assert b"\x00" in load("intmeth") and "раб".encode() in load("intmeth")


@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_torture_message_gets_the_rfc_answer(name: str, transport: str) -> None:
    outcome, detail = EXPECTED[name]
    peer = (
        Peer("udp", "127.0.0.1", 5070)
        if transport == "udp"
        else Peer("tcp", "127.0.0.1", 40000, conn=1)
    )
    core, sent, events = feed(name, peer)
    calls = [e for e in events if isinstance(e, ev.IncomingCall)]
    if outcome == CALL:
        assert [r.status_code for r in sent] == [100] and len(calls) == 1
        core.ring(calls[0].call_id, 1000.0)
        core.accept(calls[0].call_id, SDP.encode(), 1000.0)
        assert [r.status_code for r in answers(core)] == [180, 200]
    elif outcome == DROP:
        assert sent == [] and calls == []
    else:
        assert [r.status_code for r in sent] == [outcome], [
            (r.status_code, r.reason_phrase) for r in sent
        ]
        assert calls == []
        if detail:
            assert detail in sent[0].reason_phrase, sent[0].reason_phrase
    # whatever came before, the core goes on answering a plain request
    core.receive(request("OPTIONS", Addr(), call_id="after-" + name), peer, 1001.0, LOCAL)
    assert [r.status_code for r in answers(core)] == [200]


def test_valid_responses_parse_and_match_but_invalid_ones_do_not() -> None:
    for name in ("unreason", "noreason"):
        msg = parse(load(name))
        assert isinstance(msg, SipResponse) and response_usable(msg), name
    assert parse(load("noreason")).status_code == 100
    unusual = parse(load("unreason"))
    assert isinstance(unusual, SipResponse) and unusual.status_code == 200
    scalarlg = parse(load("scalarlg"))  # CSeq beyond 2**32: cannot be matched
    assert isinstance(scalarlg, SipResponse) and not response_usable(scalarlg)


def test_bext01_lists_every_unsupported_extension() -> None:
    _, sent, _ = feed("bext01", Peer("udp", "127.0.0.1", 5070))
    unsupported = ", ".join(sent[0].headers.get("unsupported"))
    assert "nothingSupportsThis" in unsupported and "nothingSupportsThisEither" in unsupported
    assert "noProxiesSupportThis" not in unsupported  # Proxy-Require is for proxies


def test_wsinv_answer_copies_every_via() -> None:
    _, sent, _ = feed("wsinv", Peer("udp", "127.0.0.1", 5070))
    assert len(sent[0].headers.get("via")) == 3


def test_require_listing_only_supported_extensions_is_accepted() -> None:
    """Require now applies to every method; a list of supported tags still passes."""
    core = SipCore(CoreConfig())
    data = request("INVITE", Addr(), headers="Require: timer, replaces\r\n", body=SDP)
    core.receive(data, Peer("udp", "127.0.0.1", 5070), 1000.0, LOCAL)
    assert [r.status_code for r in answers(core)] == [100]
