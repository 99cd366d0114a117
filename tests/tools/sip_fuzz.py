"""Mutation fuzzing of SIP messages: seeds for every method the gateway meets, and mutators.

Pure and seeded (``random.Random``): the same seed gives the same campaign, so a
crash found by ``make fuzz`` is replayed by its seed and index. Mutations work at
three levels — bytes (flips, cuts, inserts), lines (drop, repeat, swap headers,
CRLF↔LF), and meaning (values a parser trips on: ports out of range, huge
numbers, host names where IPs are expected, bad Content-Length, SDP garbage).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0 8 9 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
    "a=sendrecv\r\n"
)


@dataclass(frozen=True)
class Addr:
    """Where the fuzzer's messages claim to come from (Via, Contact)."""

    host: str = "127.0.0.1"
    port: int = 5061
    transport: str = "UDP"


def request(
    method: str,
    addr: Addr,
    *,
    target: str = "sip:helpline@127.0.0.1:5060",
    call_id: str = "fuzz-1",
    cseq: int = 1,
    branch: str = "z9hG4bK-fuzz-1",
    to_tag: str | None = None,
    headers: str = "",
    body: str = "",
    content_type: str | None = None,
    cseq_method: str | None = None,
) -> bytes:
    to = "<sip:helpline@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    head = (
        f"{method} {target} SIP/2.0\r\n"
        f"Via: SIP/2.0/{addr.transport} {addr.host}:{addr.port};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        'From: "Fuzz" <sip:fuzz@127.0.0.1>;tag=fuzz-tag\r\n'
        f"To: {to}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {cseq_method or method}\r\n"
        f"Contact: <sip:fuzz@{addr.host}:{addr.port}>\r\n"
        "User-Agent: loket-fuzz\r\n"
        f"{headers}"
    )
    if body:
        head += f"Content-Type: {content_type or 'application/sdp'}\r\n"
    head += f"Content-Length: {len(body.encode())}\r\n\r\n"
    return head.encode() + body.encode()


def seeds(addr: Addr, call_id: str = "fuzz-1", to_tag: str = "gw-tag") -> dict[str, bytes]:
    """One well-formed message per kind the fuzzer starts from."""
    in_dialog: dict[str, Any] = {"call_id": call_id, "to_tag": to_tag}
    return {
        "INVITE": request("INVITE", addr, call_id=call_id, body=SDP),
        "INVITE-no-sdp": request("INVITE", addr, call_id=call_id),
        "ACK": request("ACK", addr, branch="z9hG4bK-fuzz-ack", cseq_method="ACK", **in_dialog),
        "BYE": request("BYE", addr, cseq=2, branch="z9hG4bK-fuzz-bye", **in_dialog),
        "CANCEL": request("CANCEL", addr, call_id=call_id),
        "OPTIONS": request("OPTIONS", addr, branch="z9hG4bK-fuzz-opt", call_id=call_id + "-o"),
        "INFO": request(
            "INFO",
            addr,
            cseq=3,
            branch="z9hG4bK-fuzz-info",
            body="Signal=5\r\nDuration=160\r\n",
            content_type="application/dtmf-relay",
            **in_dialog,
        ),
        "REFER": request(
            "REFER",
            addr,
            cseq=4,
            branch="z9hG4bK-fuzz-refer",
            headers="Refer-To: <sip:agent@127.0.0.1:5070>\r\n",
            **in_dialog,
        ),
        "NOTIFY": request(
            "NOTIFY",
            addr,
            cseq=5,
            branch="z9hG4bK-fuzz-notify",
            headers="Event: refer\r\nSubscription-State: terminated;reason=noresource\r\n",
            body="SIP/2.0 200 OK\r\n",
            content_type="message/sipfrag;version=2.0",
            **in_dialog,
        ),
        "re-INVITE": request(
            "INVITE", addr, cseq=6, branch="z9hG4bK-fuzz-reinv", body=SDP, **in_dialog
        ),
        "UPDATE": request("UPDATE", addr, cseq=7, branch="z9hG4bK-fuzz-upd", body=SDP, **in_dialog),
        "response": (
            "SIP/2.0 200 OK\r\n"
            f"Via: SIP/2.0/{addr.transport} 127.0.0.1:5060;branch=z9hG4bK-gw-1\r\n"
            "From: <sip:helpline@127.0.0.1>;tag=gw\r\nTo: <sip:fuzz@127.0.0.1>;tag=f\r\n"
            f"Call-ID: {call_id}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
        ).encode(),
    }


# Values that have broken parsers somewhere: out-of-range numbers, empty and huge
# fields, separators, host names where addresses are expected, non-ASCII, NULs.
NASTY = [
    "", " ", "0", "-1", "65536", "70000", "99999999999999999999", "4294967296", "1e9",
    "NaN", "a" * 300, "a" * 5000, ";", ",", ":", "<", ">", '"', "\\", "%00", "\x00",
    "\x7f", "é", "\udcff", "€€€", "\r", "\n", " \r\n ", "sip:", "sip:@", "sip:a@b:c",
    "sip:x@[::1]:5060", "sip:x@256.256.256.256", "sip:x@evil.invalid:5060",
    "<sip:x@127.0.0.1:0>", "<sip:x@127.0.0.1:99999>", "SIP/2.0/UDP host.invalid:5060",
    "SIP/2.0/UDP 127.0.0.1:70000", "SIP/2.0/UDP 127.0.0.1:0", "SIP/2.0/UDP 0.0.0.0:5060",
    "SIP/2.0/UDP 255.255.255.255:5060", "SIP/2.0/UDP [::1]:5060;branch=z9hG4bK-x",
    "SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK-x;received=evil;rport=99999",
    "1 INVITE", "4294967296 INVITE", "-5 BYE", "1 FOO", "1", "INVITE",
    "application/sdp", "multipart/mixed;boundary=x", "message/sipfrag",
]  # fmt: skip

HEADER_NAMES = [
    "Via", "v", "From", "f", "To", "t", "Call-ID", "i", "CSeq", "Contact", "m",
    "Content-Length", "l", "Content-Type", "c", "Max-Forwards", "Require", "Supported",
    "Record-Route", "Route", "Refer-To", "Event", "Subscription-State", "Expires",
    "Session-Expires", "Authorization", "Proxy-Require", "Allow", "User-Agent", "X-Junk",
]  # fmt: skip

SDP_LINES = [
    "c=IN IP4 evil.invalid", "c=IN IP6 ::1", "c=IN IP4 999.1.1.1", "c=", "m=audio 99999 RTP/AVP 0",
    "m=audio -1 RTP/AVP 0", "m=audio 6000 RTP/AVP", "m=video 6000 RTP/AVP 96",
    "m=audio 0 RTP/AVP 0", "a=rtpmap:0", "a=rtpmap:101 telephone-event/0", "a=rtpmap:x y/z",
    "a=fmtp:101 0-99999", "a=sendonly", "a=inactive", "a=ptime:0", "a=ptime:100000",
    "m=audio 6000 RTP/SAVP 0", "m=audio 6000/2 RTP/AVP 0", "v=1", "o=", "t=a b",
]  # fmt: skip


def _pick_split(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1) if data else 0


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def insert_bytes(rng: random.Random, data: bytes) -> bytes:
    at = _pick_split(rng, data)
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    return data[:at] + junk + data[at:]


def delete_range(rng: random.Random, data: bytes) -> bytes:
    a = _pick_split(rng, data)
    b = min(len(data), a + rng.randint(1, 80))
    return data[:a] + data[b:]


def duplicate_range(rng: random.Random, data: bytes) -> bytes:
    a = _pick_split(rng, data)
    b = min(len(data), a + rng.randint(1, 200))
    return data[:b] + data[a:b] * rng.randint(1, 20) + data[b:]


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: _pick_split(rng, data)]


def _lines(data: bytes) -> tuple[list[bytes], bytes]:
    head, sep, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), (sep + body) if sep else b""


def drop_header(rng: random.Random, data: bytes) -> bytes:
    lines, rest = _lines(data)
    if len(lines) > 1:
        del lines[rng.randrange(1, len(lines))]
    return b"\r\n".join(lines) + rest


def repeat_header(rng: random.Random, data: bytes) -> bytes:
    lines, rest = _lines(data)
    if len(lines) > 1:
        i = rng.randrange(1, len(lines))
        lines[i:i] = [lines[i]] * rng.randint(1, 50)
    return b"\r\n".join(lines) + rest


def swap_lines(rng: random.Random, data: bytes) -> bytes:
    lines, rest = _lines(data)
    if len(lines) > 2:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return b"\r\n".join(lines) + rest


def line_endings(rng: random.Random, data: bytes) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return data.replace(b"\r\n", b"\n")
    if choice == 1:
        return data.replace(b"\r\n", b"\r")
    if choice == 2:  # header folding (obsolete, still legal in RFC 3261)
        return data.replace(b"\r\n", b"\r\n \t", rng.randint(1, 3))
    return data.replace(b": ", b"  :  \t")


def nasty_value(rng: random.Random, data: bytes) -> bytes:
    lines, rest = _lines(data)
    if len(lines) < 2:
        return data
    i = rng.randrange(1, len(lines))
    name = lines[i].split(b":", 1)[0]
    lines[i] = name + b": " + rng.choice(NASTY).encode("utf-8", "surrogateescape")
    return b"\r\n".join(lines) + rest


def new_header(rng: random.Random, data: bytes) -> bytes:
    lines, rest = _lines(data)
    at = rng.randrange(1, len(lines) + 1)
    value = rng.choice(NASTY).encode("utf-8", "surrogateescape")
    lines.insert(at, rng.choice(HEADER_NAMES).encode() + b": " + value)
    return b"\r\n".join(lines) + rest


def request_line(rng: random.Random, data: bytes) -> bytes:
    lines, rest = _lines(data)
    parts = lines[0].split(b" ")
    if parts:
        k = rng.randrange(len(parts))
        parts[k] = rng.choice(
            [
                *(b"", b"invite", b"FOO", b"SIP/3.0", b"SIP/2.0", b"sip:", b"tel:+31", b"*" * 200),
                rng.choice(NASTY).encode("utf-8", "surrogateescape"),
            ]
        )
    lines[0] = b" ".join(parts)
    return b"\r\n".join(lines) + rest


def content_length(rng: random.Random, data: bytes) -> bytes:
    value = rng.choice([b"0", b"1", b"-1", b"999999", b"99999999999999", b"x", b"", b"5 5"])
    out = []
    for line in data.split(b"\r\n"):
        if line.lower().startswith((b"content-length:", b"l:")):
            line = b"Content-Length: " + value
        out.append(line)
    return b"\r\n".join(out)


def sdp_garbage(rng: random.Random, data: bytes) -> bytes:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return data
    lines = body.split(b"\r\n") if body else [b""]
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(3)
        i = rng.randrange(len(lines))
        if op == 0:
            lines[i] = rng.choice(SDP_LINES).encode()
        elif op == 1:
            lines.insert(i, rng.choice(SDP_LINES).encode())
        elif len(lines) > 1:
            del lines[i]
    new_body = b"\r\n".join(lines)
    fixed = []
    for line in head.split(b"\r\n"):  # keep the length right, so the SDP parser is reached
        if line.lower().startswith(b"content-length:"):
            line = b"Content-Length: " + str(len(new_body)).encode()
        fixed.append(line)
    return b"\r\n".join(fixed) + sep + new_body


Mutator = Callable[[random.Random, bytes], bytes]
MUTATORS: tuple[Mutator, ...] = (
    flip_bytes, insert_bytes, delete_range, duplicate_range, truncate, drop_header,
    repeat_header, swap_lines, line_endings, nasty_value, nasty_value, new_header,
    request_line, content_length, sdp_garbage, sdp_garbage,
)  # fmt: skip


def mutate(rng: random.Random, data: bytes, max_size: int = 60_000) -> bytes:
    """One to three mutations of *data*; kept under *max_size* (a UDP datagram's room)."""
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(MUTATORS)(rng, data)
    return data[:max_size]


GW_TAG = "gw-tag"
"""The To-tag in-dialog seeds carry; a harness that knows the dialog's real tag swaps it in."""


def campaign(seed: int, count: int, addr: Addr) -> Iterator[tuple[str, str, bytes]]:
    """*count* (seed kind, Call-ID, mutated message); one in eight is sent unmutated so
    dialogs, transactions and timers get exercised, not only the parser. Sixteen
    messages in a row share a Call-ID, so in-dialog requests meet their dialog."""
    rng = random.Random(seed)
    for i in range(count):
        call_id = f"fuzz-{seed}-{i // 16}"
        base = seeds(addr, call_id=call_id)
        kind = rng.choice(sorted(base))
        data = base[kind]
        if rng.randrange(8):
            data = mutate(rng, data)
        yield kind, call_id, data
