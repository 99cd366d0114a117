"""SIP pieces the test caller needs beyond aiosipua's UAC: SDP offer/answer, ACK for
non-2xx, responses to the far end's requests, and RFC 3261 retransmission timing.

Pure functions on aiosipua's message and SDP objects; no sockets, no clock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from aiosipua import (
    ConnectionData,
    CSeq,
    Dialog,
    MediaDescription,
    Origin,
    SdpMessage,
    SipRequest,
    SipResponse,
    TimingField,
    Via,
    generate_branch,
    generate_tag,
    parse_uri,
    stringify_cseq,
    stringify_via,
)
from aiosipua.sdp import _extract_codecs

from .rtp_audio import CODECS, CodecSpec

# RFC 3261 §17.1.1.1 / table 4
T1 = 0.5
T2 = 4.0
TIMEOUT = 64 * T1  # Timers B and F

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY"


# --- Target --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a ``sip:`` URI sends us: next hop address and transport."""

    uri: str
    host: str
    port: int
    transport: str  # "udp" or "tcp"


def parse_target(uri: str, transport: str | None = None) -> Target:
    """``sip:helpline@127.0.0.1:5060;transport=tcp`` → Target (no DNS: host must be an IP
    or resolvable name given as is)."""
    if not uri.lower().startswith(("sip:", "sips:")):
        uri = f"sip:{uri}"
    parsed = parse_uri(uri)
    if not parsed.host:
        raise ValueError(f"no host in SIP URI {uri!r}")
    tp = (transport or str(parsed.params.get("transport") or "udp")).lower()
    if tp not in ("udp", "tcp"):
        raise ValueError(f"unsupported transport {tp!r} (udp or tcp)")
    host = parsed.host.strip("[]")
    return Target(uri=uri, host=host, port=parsed.port or 5060, transport=tp)


# --- Retransmission timing -----------------------------------------------------------------


def next_gap(invite: bool, gap: float, provisional: bool, t2: float = T2) -> float | None:
    """The wait before the next retransmission, after one that waited ``gap``.

    INVITE (Timer A): doubles without cap and stops once a provisional arrived (Proceeding).
    Non-INVITE (Timer E): doubles up to T2, and is T2 once a provisional arrived.
    """
    if invite:
        return None if provisional else gap * 2
    return t2 if provisional else min(gap * 2, t2)


def retransmit_delays(
    invite: bool, *, t1: float = T1, t2: float = T2, timeout: float = TIMEOUT
) -> Iterator[float]:
    """Gaps between successive transmissions over UDP with no response, until Timer B/F
    (64·T1) fires: INVITE 0.5, 1, 2, 4, 8, 16 s; non-INVITE 0.5, 1, 2, 4, 4, … s."""
    elapsed, gap = 0.0, t1
    while elapsed + gap < timeout:
        yield gap
        elapsed += gap
        nxt = next_gap(invite, gap, False, t2)
        assert nxt is not None
        gap = nxt


# --- SDP -----------------------------------------------------------------------------------


def build_offer(
    host: str,
    port: int,
    codecs: Sequence[CodecSpec],
    *,
    dtmf_pt: int | None = 101,
    session_id: str = "0",
    version: int = 1,
    direction: str = "sendrecv",
) -> SdpMessage:
    """SDP offer: the codecs in preference order, telephone-event, ptime 20."""
    formats = [str(c.payload_type) for c in codecs]
    attrs: dict[str, list[str]] = {"rtpmap": [f"{c.payload_type} {c.name}/8000" for c in codecs]}
    if dtmf_pt is not None:
        formats.append(str(dtmf_pt))
        attrs["rtpmap"].append(f"{dtmf_pt} telephone-event/8000")
        attrs["fmtp"] = [f"{dtmf_pt} 0-16"]
    attrs["ptime"] = ["20"]
    attrs[direction] = []
    media = MediaDescription(
        media="audio", port=port, proto="RTP/AVP", formats=formats, attributes=attrs
    )
    media.codecs = _extract_codecs(media)
    return SdpMessage(
        origin=Origin(
            username="-", session_id=session_id, session_version=str(version), address=host
        ),
        session_name="loket-test-caller",
        connection=ConnectionData(address=host),
        timing=TimingField(),
        media=[media],
    )


@dataclass(frozen=True)
class MediaParams:
    """What the far end's SDP says about the audio stream."""

    codec: CodecSpec
    dtmf_pt: int | None
    remote: tuple[str, int]
    direction: str


class SdpError(ValueError):
    pass


def read_remote_sdp(sdp: SdpMessage, acceptable: Sequence[CodecSpec]) -> MediaParams:
    """Pick the first codec in the remote list that we accept (the answerer's choice for an
    answer, the offerer's preference for an offer). Raises SdpError when none fits."""
    audio = sdp.audio
    if audio is None or audio.port == 0:
        raise SdpError("no active audio stream in SDP")
    conn = audio.connection or sdp.connection
    if conn is None:
        raise SdpError("no c= line for the audio stream")
    names = {c.name for c in acceptable}
    chosen: CodecSpec | None = None
    dtmf_pt: int | None = None
    for c in audio.codecs:
        name = c.encoding_name.upper()
        if name == "TELEPHONE-EVENT" and c.clock_rate in (8000, 0) and dtmf_pt is None:
            dtmf_pt = c.payload_type
        elif chosen is None and name in names and name in CODECS:
            spec = CODECS[name]
            if c.payload_type == spec.payload_type:
                chosen = spec
    if chosen is None:
        offered = ", ".join(c.encoding_name or str(c.payload_type) for c in audio.codecs)
        raise SdpError(f"no common codec: remote has [{offered}]")
    return MediaParams(chosen, dtmf_pt, (conn.address, audio.port), audio.direction)


ANSWER_DIRECTION = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}


# --- Requests and responses ----------------------------------------------------------------


def build_non2xx_ack(invite: SipRequest, response: SipResponse) -> SipRequest:
    """ACK for a 3xx-6xx final response: part of the INVITE client transaction
    (RFC 3261 §17.1.1.3): same Request-URI, top Via (branch), From, Call-ID and CSeq number,
    To from the response (with its tag)."""
    ack = SipRequest(method="ACK", uri=invite.uri)
    top_via = invite.headers.get_first("via")
    if top_via:
        ack.headers.append("Via", top_via)
    for name in ("From", "Call-ID"):
        value = invite.headers.get_first(name)
        if value:
            ack.headers.set_single(name, value)
    to = response.headers.get_first("to") or invite.headers.get_first("to") or ""
    ack.headers.set_single("To", to)
    cseq = invite.cseq
    ack.headers.set_single("CSeq", stringify_cseq(CSeq(seq=cseq.seq if cseq else 1, method="ACK")))
    ack.headers.set_single("Max-Forwards", "70")
    for route in invite.headers.get("route"):
        ack.headers.append("Route", route)
    return ack


def build_response(
    request: SipRequest,
    status: int,
    reason: str,
    *,
    to_tag: str | None = None,
    headers: dict[str, str] | None = None,
    body: str = "",
    content_type: str = "",
) -> SipResponse:
    """A response that copies Via/From/To/Call-ID/CSeq (RFC 3261 §8.2.6), adding our To tag
    when the request had none (and a fresh one for out-of-dialog requests)."""
    resp = SipResponse(status_code=status, reason_phrase=reason)
    for via in request.headers.get("via"):
        resp.headers.append("Via", via)
    for name in ("From", "Call-ID", "CSeq"):
        value = request.headers.get_first(name)
        if value is not None:
            resp.headers.set_single(name, value)
    to = request.headers.get_first("to") or ""
    if ";tag=" not in to.replace(" ", "").lower() and status > 100:
        to += f";tag={to_tag or generate_tag()}"
    resp.headers.set_single("To", to)
    for name, value in (headers or {}).items():
        resp.headers.set_single(name, value)
    if body:
        resp.text = body
        resp.headers.set_single("Content-Type", content_type)
    return resp


def build_2xx_ack(
    dialog: Dialog, cseq: int, via_host: str, via_port: int, transport: str
) -> SipRequest:
    """ACK for a retransmitted 2xx that aiosipua's UAC no longer tracks (it forgets a call on
    BYE and CANCEL): a new transaction, CSeq number of the INVITE (RFC 3261 §13.2.2.4)."""
    ack = SipRequest(method="ACK", uri=dialog.remote_target or dialog.remote_uri)
    via = Via(
        transport=transport.upper(),
        host=via_host,
        port=via_port,
        params={"branch": generate_branch(), "rport": None},
    )
    ack.headers.append("Via", stringify_via(via))
    ack.headers.set_single("From", f"<{dialog.local_uri}>;tag={dialog.local_tag}")
    to = f"<{dialog.remote_uri}>" + (f";tag={dialog.remote_tag}" if dialog.remote_tag else "")
    ack.headers.set_single("To", to)
    ack.headers.set_single("Call-ID", dialog.call_id)
    ack.headers.set_single("CSeq", stringify_cseq(CSeq(seq=cseq, method="ACK")))
    ack.headers.set_single("Max-Forwards", "70")
    for route in dialog.route_set:
        ack.headers.append("Route", route)
    return ack


def dtmf_info_body(digit: str, duration_ms: int) -> str:
    """SIP INFO body for application/dtmf-relay (the de-facto Cisco format)."""
    return f"Signal={digit}\r\nDuration={duration_ms}\r\n"


def parse_dtmf_info(body: str) -> str | None:
    for line in body.splitlines():
        key, _, value = line.partition("=")
        if key.strip().lower() == "signal" and value.strip():
            return value.strip()
    return None
