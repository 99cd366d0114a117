"""SIP message syntax: parsing with exact errors, and building responses.

The header-level codecs come from aiosipua (`SipMessage.parse`, Via/CSeq/
address parsers); this module adds the strict checks a UAS needs to answer
bad input with the right 4xx instead of dropping it or crashing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from aiosipua import SipMessage, SipRequest, SipResponse
from aiosipua.headers import Address, CSeq, Via, parse_address, parse_cseq, parse_via

# RFC 3261 §21 reason phrases for the codes we send
REASONS: dict[int, str] = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    486: "Busy Here",
    487: "Request Terminated",
    489: "Bad Event",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "Version Not Supported",
}

MAGIC_COOKIE = "z9hG4bK"
KNOWN_METHODS = frozenset(
    "INVITE ACK CANCEL BYE OPTIONS INFO UPDATE REGISTER PRACK SUBSCRIBE NOTIFY PUBLISH "
    "MESSAGE REFER".split()
)
_TOKEN_CHARS = r"[A-Za-z0-9.!%*_+`'~-]"
_TOKEN = re.compile(rf"^{_TOKEN_CHARS}+$")
_HEADER_LINE = re.compile(r"^([A-Za-z0-9.!%*_+`'~-]+)[ \t]*:(.*)$")
_REQUIRED = ("via", "from", "to", "call-id", "cseq")
MAX_VIAS = 71
"""Vias copied into a response: a path of Max-Forwards' 70 proxies plus the caller. More
only come with a broken or hostile request, and copying them all (the fuzzer sent 272)
made a 400 that no parser with a header limit reads; the first Via routes it back."""
_VIA = re.compile(r"^SIP\s*/\s*2\.0\s*/\s*[A-Za-z]+\s+[^;\s,]+", re.IGNORECASE)
_CSEQ = re.compile(rf"^\s*\d{{1,10}}\s+{_TOKEN_CHARS}+\s*$")
# RFC 3261 §7.3.1: these appear at most once (RFC 4475 multi01, mcl01)
_SINGLE = ("call-id", "cseq", "from", "to", "max-forwards", "content-length", "content-type")
# display-name before "<": empty, a quoted-string, or tokens separated by LWS (§25.1)
_DISPLAY = re.compile(
    rf'^\s*(?:"(?:[^"\\]|\\.)*"|{_TOKEN_CHARS}+(?:\s+{_TOKEN_CHARS}+)*)?\s*$', re.S
)

# aiosipua logs a warning for every body shorter than its Content-Length; we answer
# such requests 400 ourselves, and a flood of them must not become a flood of log lines.
logging.getLogger("aiosipua.message").setLevel(logging.ERROR)
# any absolute URI: an unknown scheme in From/To is valid syntax (RFC 4475 unksm2). The
# lookbehind starts a scheme only where one can start: without it a 60 KB From of letters
# took the search 5 s (a scheme tried from every letter), stalling every call's audio.
_ADDR = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*:[^\s>]+")


class SipSyntaxError(Exception):
    """A request we can answer, but only with an error status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A request that passed the checks, with its routing fields pre-parsed."""

    msg: SipRequest
    top_via: Via
    cseq: CSeq
    call_id: str
    from_addr: Address
    to_addr: Address

    @property
    def method(self) -> str:
        return self.msg.method

    @property
    def branch(self) -> str:
        return self.top_via.branch or ""

    @property
    def from_tag(self) -> str:
        return self.from_addr.tag or ""

    @property
    def to_tag(self) -> str:
        return self.to_addr.tag or ""


def split_raw(data: bytes) -> tuple[bytes, bytes]:
    """Header block and body of a raw message (CRLF or bare LF)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, body = data.partition(sep)
        if found:
            return head, body
    return data, b""


def parse(data: bytes) -> SipRequest | SipResponse:
    """Parse a datagram or framed stream message; raises ValueError if unusable."""
    head, body = split_raw(data)
    if not head.strip():
        raise ValueError("empty message")
    start = head.split(b"\n", 1)[0].strip()
    if not (start.startswith(b"SIP/") or b" SIP/" in start):
        raise ValueError(f"not a SIP start line: {start[:80]!r}")
    msg = SipMessage.parse(data)
    if isinstance(msg, SipRequest):
        if not start.upper().endswith(b"SIP/2.0"):
            msg.headers.set_single("X-Loket-Bad-Version", "1")
        if len(start.split()) != 3:
            # e.g. LWS inside the Request-URI (RFC 4475 lwsruri); extra SP between the
            # three parts is tolerated (lwsstart, trws: "liberal in what it accepts")
            msg.headers.set_single("X-Loket-Bad-Start", "1")
    declared = msg.headers.get_first("content-length")
    if declared is not None:
        try:
            length = int(declared.strip())
        except ValueError:
            length = -1
        if length < 0 or length > len(body):
            # Reported by check_request for requests; responses are dropped.
            msg.headers.set_single("X-Loket-Bad-Length", declared.strip() or "?")
    return msg


def response_usable(resp: SipResponse) -> bool:
    """A response we can match to a transaction (§17.1.3): a Via and a well-formed CSeq.

    Anything else is dropped: responses are never answered."""
    if resp.headers.get_first("x-loket-bad-length") is not None:
        return False
    vias = resp.headers.get("via")
    if not vias or not _VIA.match(vias[0]):
        return False
    cseq = resp.headers.get_first("cseq") or ""
    if not _CSEQ.match(cseq) or not 100 <= resp.status_code <= 699:
        return False
    try:
        parse_via(vias[0])
        parse_cseq(cseq)
    except (ValueError, IndexError):
        return False
    return True


def check_request(msg: SipRequest) -> ParsedRequest:
    """Validate a parsed request (RFC 3261 §8.2); raises SipSyntaxError."""
    if msg.headers.get_first("x-loket-bad-version") is not None:
        raise SipSyntaxError(505, "Only SIP/2.0 is supported")
    if msg.headers.get_first("x-loket-bad-length") is not None:
        raise SipSyntaxError(400, "Content-Length does not match the body")
    if (
        not _TOKEN.match(msg.method)
        or not msg.uri
        or msg.headers.get_first("x-loket-bad-start") is not None
    ):
        raise SipSyntaxError(400, "Malformed request line")
    if any(c in msg.uri for c in '<>" \t'):
        raise SipSyntaxError(400, "Malformed Request-URI")  # RFC 4475 ltgtruri
    missing = [name for name in _REQUIRED if not msg.headers.get(name)]
    if missing:
        raise SipSyntaxError(400, "Missing " + ", ".join(_pretty(m) for m in missing))
    repeated = [name for name in _SINGLE if len(msg.headers.get(name)) > 1]
    if repeated:
        raise SipSyntaxError(400, "More than one " + ", ".join(_pretty(m) for m in repeated))
    raw_vias = msg.headers.get("via")
    if not all(_VIA.match(v) for v in raw_vias):
        raise SipSyntaxError(400, "Malformed Via")
    top = parse_via(raw_vias[0])
    raw_cseq = msg.headers.get_first("cseq") or ""
    if not _CSEQ.match(raw_cseq):
        raise SipSyntaxError(400, "Malformed CSeq")
    cseq = parse_cseq(raw_cseq)
    if cseq.seq >= 2**31:
        raise SipSyntaxError(400, "CSeq number out of range")
    if cseq.method.upper() != msg.method.upper():
        if msg.method.upper() not in KNOWN_METHODS:
            # RFC 4475 mismatch02: 501 is the future-proof answer to an unknown method
            raise SipSyntaxError(501, "Not Implemented")
        raise SipSyntaxError(400, "CSeq method does not match the request line")
    raw_from = msg.headers.get_first("from") or ""
    raw_to = msg.headers.get_first("to") or ""
    if not (_ADDR.search(raw_from) and _ADDR.search(raw_to)):
        raise SipSyntaxError(400, "Malformed From or To")
    for name, value in (("From", raw_from), ("To", raw_to)):
        problem = address_problem(value)
        if problem:
            raise SipSyntaxError(400, f"Malformed {name} ({problem})")
    for value in msg.headers.get("contact"):
        problem = address_problem(value, is_list=True)
        if problem:
            raise SipSyntaxError(400, f"Malformed Contact ({problem})")
    try:
        from_addr = parse_address(raw_from)
        to_addr = parse_address(raw_to)
    except (ValueError, IndexError) as exc:
        raise SipSyntaxError(400, "Malformed From or To") from exc
    max_forwards = msg.headers.get_first("max-forwards")
    if max_forwards is not None and not max_forwards.strip().isdigit():
        raise SipSyntaxError(400, "Malformed Max-Forwards")
    scheme = msg.uri.split(":", 1)[0].lower() if ":" in msg.uri else ""
    if scheme not in ("sip", "sips", "tel"):
        raise SipSyntaxError(416, "Unsupported URI scheme")
    call_id = (msg.call_id or "").strip()
    return ParsedRequest(msg, top, cseq, call_id, from_addr, to_addr)


def address_problem(value: str, *, is_list: bool = False) -> str | None:
    """What makes a From/To/Contact value malformed (RFC 3261 §20.10, §25.1), or None.

    Only what a parser can be sure of: an unterminated quote (RFC 4475 quotbal), a
    display-name that is neither quoted nor tokens (baddn), LWS just inside the angle
    brackets (badaspec), and a URI with headers (or, unless *is_list*, a comma) outside
    them (regbadct).
    """
    in_quote = escaped = False
    angle = -1
    for i, c in enumerate(value):
        if escaped:
            escaped = False
        elif in_quote:
            escaped = c == "\\"
            in_quote = c != '"'
        elif c == '"':
            in_quote = True
        elif c == "<":
            angle = i
            break
    if in_quote:
        return "unterminated quoted string"
    if angle < 0:
        uri = value.split(";", 1)[0]
        if "?" in uri or ("," in uri and not is_list):
            return "a URI with headers or commas must be in <>"
        return None
    if not _DISPLAY.match(value[:angle]):
        return "display name must be quoted"
    close = value.find(">", angle)
    if close < 0:
        return "no closing >"
    inner = value[angle + 1 : close]
    if inner != inner.strip():
        return "whitespace inside <>"
    return None


def salvage_request(data: bytes) -> SipRequest | None:
    """Pull the routing headers out of a request too broken for the parser.

    Enough to send a 400 back (RFC 3261 §8.2: respond when possible); None when
    even a Via is missing, in which case the message is dropped.
    """
    head, _ = split_raw(data)
    lines = head.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    start = lines[0].split()
    if len(start) < 1 or start[0].startswith("SIP/") or not _TOKEN.match(start[0]):
        return None
    req = SipRequest(method=start[0], uri=start[1] if len(start) > 1 else "")
    for line in lines[1:]:
        match = _HEADER_LINE.match(line)
        if not match:
            continue
        name = match.group(1).lower()
        name = {"v": "via", "f": "from", "t": "to", "i": "call-id"}.get(name, name)
        if name in _REQUIRED:
            try:
                req.headers.append(name, match.group(2).strip())
            except ValueError:
                continue
    return req if req.headers.get("via") else None


def build_response(
    request: SipRequest,
    status: int,
    *,
    reason: str | None = None,
    to_tag: str | None = None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    content_type: str | None = None,
) -> SipResponse:
    """A response to *request* (RFC 3261 §8.2.6): Via, From, To, Call-ID, CSeq copied."""
    resp = SipResponse(status_code=status, reason_phrase=reason or REASONS.get(status, ""))
    for via in request.headers.get("via")[:MAX_VIAS]:
        resp.headers.append("Via", via)
    for name in ("from", "to", "call-id", "cseq"):
        value = request.headers.get_first(name)
        if value is None:
            continue
        if name == "to" and to_tag and ";tag=" not in value.replace(" ", "").lower():
            value = f"{value};tag={to_tag}"
        resp.headers.set_single(_pretty(name), value)
    if 100 < status < 300:
        # §12.1.1: a response that may set up a dialog carries the request's
        # Record-Route, so that the caller's in-dialog requests pass the same proxies
        for route in request.headers.get("record-route"):
            resp.headers.append("Record-Route", route)
    for name, value in (headers or {}).items():
        resp.headers.set_single(name, value)
    if body:
        resp.headers.set_single("Content-Type", content_type or "application/sdp")
        resp.body = body
    return resp


def _pretty(name: str) -> str:
    return {"call-id": "Call-ID", "cseq": "CSeq"}.get(name, name.title())


def response_destination(via: Via, source: tuple[str, int]) -> tuple[str, int]:
    """Where a UDP response goes (RFC 3261 §18.2.2, RFC 3581 rport)."""
    host = source[0]  # the received= address: what we saw, not what it claims
    if "rport" in via.params:
        return host, source[1]
    return host, via.port or 5060
