"""SDP offer/answer for a phone call (RFC 3264), on aiosipua's SDP model."""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiosipua import SdpNegotiationError, negotiate_sdp, parse_sdp, serialize_sdp
from aiosipua.sdp import MediaDescription, SdpMessage

# Static payload types (RFC 3551). G.722's RTP clock is 8000 though it carries 16 kHz.
CODEC_PT = {"PCMU": 0, "PCMA": 8, "G722": 9}
PT_CODEC = {pt: name for name, pt in CODEC_PT.items()}
SAMPLE_RATE = {"PCMU": 8000, "PCMA": 8000, "G722": 16000}
FRAME_MS = 20
_ANSWER_DIRECTION = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}


class SdpError(Exception):
    """The offer cannot be used; ``status`` is the SIP answer (488 or 400)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class MediaPlan:
    """What the negotiation decided for the RTP stream."""

    remote: tuple[str, int]
    payload_type: int
    codec: str
    sample_rate: int
    dtmf_pt: int | None
    ptime_ms: int
    direction: str
    """Our direction: sendrecv, or recvonly while the caller holds us."""

    @property
    def we_send(self) -> bool:
        return self.direction in ("sendrecv", "sendonly") and self.remote[0] not in ("0.0.0.0", "")

    @property
    def we_receive(self) -> bool:
        return self.direction in ("sendrecv", "recvonly")


def _parse(data: bytes) -> SdpMessage:
    try:
        sdp = parse_sdp(data.decode("utf-8", "replace"))
    except (ValueError, IndexError, KeyError) as exc:
        raise SdpError(400, f"malformed SDP: {exc}") from exc
    if sdp.audio is None:
        raise SdpError(488, "no audio stream offered")
    return sdp


def _dtmf_pt(media: MediaDescription) -> int | None:
    for codec in media.codecs:
        if codec.encoding_name.lower() == "telephone-event" and codec.clock_rate in (0, 8000):
            return codec.payload_type
    return None


def _ptime(media: MediaDescription) -> int:
    values = media.attributes.get("ptime", [])
    try:
        return max(10, min(60, int(values[0]))) if values else 20
    except ValueError:
        return 20


def answer_offer(
    offer: bytes, codecs: list[str], local_ip: str, rtp_port: int
) -> tuple[bytes, MediaPlan]:
    """Our answer to *offer*, choosing the caller's preferred codec among *codecs*."""
    sdp = _parse(offer)
    audio = sdp.audio
    assert audio is not None
    dtmf_pt = _dtmf_pt(audio)
    supported = [CODEC_PT[c] for c in codecs if c in CODEC_PT]
    try:
        answer, chosen_pt = negotiate_sdp(
            sdp,
            local_ip,
            rtp_port,
            supported_codecs=supported,
            dtmf_payload_type=dtmf_pt or 0,
            session_id=str(int(time.time())),
            session_name="Loket",
        )
    except SdpNegotiationError as exc:
        raise SdpError(488, str(exc)) from exc
    address = sdp.rtp_address
    if address is None:
        raise SdpError(400, "offer has no connection address")
    for media in answer.media:
        if media.port and media.media == "audio":
            media.attributes["ptime"] = [str(FRAME_MS)]  # what we send, whatever was asked
    codec = PT_CODEC[chosen_pt]
    plan = MediaPlan(
        remote=address,
        payload_type=chosen_pt,
        codec=codec,
        sample_rate=SAMPLE_RATE[codec],
        dtmf_pt=dtmf_pt,
        ptime_ms=_ptime(audio),
        direction=_ANSWER_DIRECTION.get(audio.direction, "sendrecv"),
    )
    return serialize_sdp(answer).encode(), plan


def make_offer(codecs: list[str], local_ip: str, rtp_port: int, dtmf_pt: int = 101) -> bytes:
    """Our offer for a late-offer INVITE (the caller answers in the ACK)."""
    pts = [str(CODEC_PT[c]) for c in codecs]
    rtpmap = [f"a=rtpmap:{CODEC_PT[c]} {c}/8000" for c in codecs]
    session = str(int(time.time()))
    lines = [
        "v=0",
        f"o=Loket {session} {session} IN IP4 {local_ip}",
        "s=Loket",
        f"c=IN IP4 {local_ip}",
        "t=0 0",
        f"m=audio {rtp_port} RTP/AVP {' '.join(pts)} {dtmf_pt}",
        *rtpmap,
        f"a=rtpmap:{dtmf_pt} telephone-event/8000",
        f"a=fmtp:{dtmf_pt} 0-16",
        "a=ptime:20",
        "a=sendrecv",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def plan_from_answer(answer: bytes, codecs: list[str]) -> MediaPlan:
    """The media plan from the caller's answer to our late offer."""
    sdp = _parse(answer)
    audio = sdp.audio
    assert audio is not None
    address = sdp.rtp_address
    if address is None:
        raise SdpError(400, "answer has no connection address")
    for fmt in audio.formats:
        pt = int(fmt) if fmt.isdigit() else -1
        codec = PT_CODEC.get(pt)
        if codec in codecs:
            return MediaPlan(
                remote=address,
                payload_type=pt,
                codec=codec,
                sample_rate=SAMPLE_RATE[codec],
                dtmf_pt=_dtmf_pt(audio),
                ptime_ms=_ptime(audio),
                direction=_ANSWER_DIRECTION.get(audio.direction, "sendrecv"),
            )
    raise SdpError(488, "answer chose no codec we offered")
