"""The test caller's pieces without a peer, and the aiosipua/aiortp behaviours it works
around, pinned: when an upgrade fixes one of them, its ``test_upstream_*`` fails and the
workaround it names can go."""

from __future__ import annotations

import asyncio
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from aiortp import RtpPacket
from aiortp.dtmf import DtmfSender
from aiosipua import SipRequest, SipResponse, SipTransport, SipUAC, UdpSipTransport, parse_sdp
from aiosipua import serialize_sdp as sdp_text
from aiosipua.transport import _UdpProtocol

from tests.tools.rtp_audio import (
    CODECS,
    TS_STEP,
    Pcm,
    ReceivedAudio,
    ReceivedFrame,
    dtmf_event_packets,
    load_wav,
    rms,
    split_frames,
)
from tests.tools.rtp_media import MediaStream
from tests.tools.sip_agent import TcpTransport, _QuietUdpProtocol
from tests.tools.sip_messages import (
    SdpError,
    build_non2xx_ack,
    build_offer,
    build_response,
    next_gap,
    parse_target,
    read_remote_sdp,
    retransmit_delays,
)

# --- fakes for in-memory runs ----------------------------------------------------------------


@dataclass
class RecordingTransport(SipTransport):
    sent: list[SipRequest | SipResponse] = field(default_factory=list)

    def send(self, message: SipRequest | SipResponse, addr: tuple[str, int]) -> None:
        self.sent.append(message)


class FakeDatagram:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sent.append(data)

    def close(self) -> None:
        pass


def answer_to(request: SipRequest, status: int, reason: str, body: str = "") -> SipResponse:
    resp = build_response(request, status, reason, to_tag="far")
    resp.headers.set_single("Contact", "<sip:far@127.0.0.1:5099>")
    if body:
        resp.text = body
        resp.headers.set_single("Content-Type", "application/sdp")
    return resp


def offer() -> str:
    return sdp_text(build_offer("127.0.0.1", 40000, [CODECS["PCMU"]]))


# --- upstream behaviours the caller works around --------------------------------------------


async def test_upstream_aiosipua_udp_protocol_asserts_on_py311() -> None:
    """Workaround: sip_agent._QuietUdpProtocol (aiosipua transport.py:138)."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    try:
        owner = UdpSipTransport()
        with pytest.raises(AssertionError):
            _UdpProtocol(owner).connection_made(transport)
        _QuietUdpProtocol(owner).connection_made(transport)
        assert owner._udp_transport is transport
    finally:
        transport.close()


async def test_upstream_aiosipua_uac_sends_once_and_forgets_call_on_bye() -> None:
    """Workaround: sip_caller._ClientTxn retransmits and matches BYE/CANCEL responses."""
    transport = RecordingTransport()
    uac = SipUAC(transport)
    call = uac.send_invite("sip:a@127.0.0.1", "sip:b@127.0.0.1", ("127.0.0.1", 5099))
    await asyncio.sleep(0.6)  # longer than T1: a compliant UAC would have retransmitted
    assert [m.method for m in transport.sent if isinstance(m, SipRequest)] == ["INVITE"]
    uac.handle_response(answer_to(call.invite, 200, "OK", offer()), ("127.0.0.1", 5099))
    assert transport.sent[-1].method == "ACK"  # type: ignore[union-attr]
    # It keeps the To-URI as the remote target even though the 200 had a Contact.
    assert call.dialog.remote_target == "sip:b@127.0.0.1"
    uac.send_bye(call.dialog, ("127.0.0.1", 5099))
    assert uac.get_call(call.call_id) is None  # the BYE's 200 has nowhere to go


def test_upstream_aiosipua_uac_does_not_ack_a_non2xx_final() -> None:
    """Workaround: sip_caller sends build_non2xx_ack for every 3xx-6xx."""
    transport = RecordingTransport()
    uac = SipUAC(transport)
    call = uac.send_invite("sip:a@127.0.0.1", "sip:b@127.0.0.1", ("127.0.0.1", 5099))
    uac.handle_response(answer_to(call.invite, 486, "Busy Here"), ("127.0.0.1", 5099))
    assert [m.method for m in transport.sent if isinstance(m, SipRequest)] == ["INVITE"]


def test_upstream_aiosipua_uac_writes_udp_in_via_whatever_the_transport() -> None:
    """Workaround: sip_agent.TcpTransport rewrites Via/Contact for TCP."""
    transport = RecordingTransport()
    call = SipUAC(transport).send_invite("sip:a@h", "sip:b@h", ("127.0.0.1", 5099))
    assert (call.invite.headers.get_first("via") or "").startswith("SIP/2.0/UDP ")


async def test_tcp_transport_fixes_via_and_contact() -> None:
    sent: list[SipRequest | SipResponse] = []
    probe = TcpTransport()
    # Bypass the socket: capture what the parent would write.
    probe._connections[("127.0.0.1", 5099)] = (None, _Writer(sent))  # type: ignore[assignment]
    req = SipUAC(RecordingTransport()).send_invite("sip:a@h", "sip:b@h", ("127.0.0.1", 5099))
    probe.send(req.invite, ("127.0.0.1", 5099))
    await asyncio.sleep(0)  # let the transport's flush task finish
    text = sent[0].serialize() if sent else ""
    assert "Via: SIP/2.0/TCP " in text
    assert ";transport=tcp>" in text


class _Writer:
    def __init__(self, sink: list[SipRequest | SipResponse]) -> None:
        self.sink = sink

    def write(self, data: bytes) -> None:
        self.sink.append(SipRequest.parse(data))

    async def drain(self) -> None:
        pass


def test_upstream_aiortp_dtmf_sender_bursts_and_marks_the_end() -> None:
    """Workaround: rtp_audio.dtmf_event_packets + MediaStream pacing (aiortp dtmf.py)."""
    sent: list[tuple[int, int, int]] = []

    class Sender:
        def send_raw(
            self, pt: int, payload: bytes, ts: int, marker: int = 0, addr: object = None
        ) -> None:
            sent.append((ts, marker, payload[1] & 0x80))

    DtmfSender(Sender()).send_digit("5", duration_ms=100)  # type: ignore[arg-type]
    assert {ts for ts, _, _ in sent} == {0}  # no timestamp given: every event at 0
    marked = [i for i, (_, m, _) in enumerate(sent) if m]
    first_end = next(i for i, (_, _, end) in enumerate(sent) if end)
    assert marked == [first_end] != [0]  # marker on the first END packet, not the first


# --- the caller's own pieces -----------------------------------------------------------------


def test_retransmission_schedule() -> None:
    assert list(retransmit_delays(True)) == [0.5, 1, 2, 4, 8, 16]
    assert list(retransmit_delays(False)) == [0.5, 1, 2, 4, 4, 4, 4, 4, 4, 4]
    assert next_gap(True, 1.0, provisional=True) is None  # INVITE: Proceeding stops Timer A
    assert next_gap(False, 0.5, provisional=True) == 4.0  # non-INVITE: T2 after a 1xx


def test_target_parsing() -> None:
    t = parse_target("sip:helpline@127.0.0.1:5070;transport=tcp")
    assert (t.host, t.port, t.transport) == ("127.0.0.1", 5070, "tcp")
    assert parse_target("helpline@127.0.0.1").port == 5060
    with pytest.raises(ValueError, match="transport"):
        parse_target("sip:h@127.0.0.1", "tls")


def test_offer_answer() -> None:
    sdp = parse_sdp(sdp_text(build_offer("127.0.0.1", 40000, [CODECS["G722"], CODECS["PCMU"]])))
    audio = sdp.audio
    assert audio is not None and audio.formats == ["9", "0", "101"]
    assert "20" in audio.attributes["ptime"] and "sendrecv" in audio.attributes
    # The answer's order decides; telephone-event found by name, not number.
    answer = parse_sdp(
        "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n"
        "m=audio 7000 RTP/AVP 0 9 96\r\na=rtpmap:96 telephone-event/8000\r\na=sendonly\r\n"
    )
    got = read_remote_sdp(answer, [CODECS["G722"], CODECS["PCMU"]])
    assert (got.codec.name, got.dtmf_pt, got.remote, got.direction) == (
        "PCMU",
        96,
        ("10.0.0.9", 7000),
        "sendonly",
    )
    with pytest.raises(SdpError, match="no common codec"):
        read_remote_sdp(answer, [CODECS["PCMA"]])


def test_non2xx_ack_belongs_to_the_invite_transaction() -> None:
    call = SipUAC(RecordingTransport()).send_invite("sip:a@h", "sip:b@h", ("127.0.0.1", 5099))
    busy = answer_to(call.invite, 486, "Busy Here")
    ack = build_non2xx_ack(call.invite, busy)
    assert ack.uri == call.invite.uri
    assert ack.headers.get_first("via") == call.invite.headers.get_first("via")
    assert ack.headers.get_first("to") == busy.headers.get_first("to")
    assert ack.cseq is not None and call.invite.cseq is not None
    assert (ack.cseq.seq, ack.cseq.method) == (call.invite.cseq.seq, "ACK")


def test_dtmf_event_packets() -> None:
    pkts = dtmf_event_packets("#", duration_ms=100)
    assert [p.marker for p in pkts] == [True] + [False] * 7
    assert [p.end for p in pkts] == [False] * 5 + [True] * 3
    assert all(p.payload[0] == 11 for p in pkts)
    with pytest.raises(ValueError):
        dtmf_event_packets("x")


async def test_media_stream_ticks_one_packet_per_tick() -> None:
    stream = MediaStream(CODECS["PCMU"], dtmf_pt=101)
    fake = FakeDatagram()
    stream.transport = fake  # type: ignore[assignment]
    stream.remote = ("127.0.0.1", 9)
    tone = split_frames(Pcm.tone(440, 0.06, 8000), 160)
    spoken = stream.enqueue_audio(tone, speech_rms=100)
    digits = stream.enqueue_dtmf(dtmf_event_packets("1", 60))
    for i in range(12):
        stream.tick(float(i))
    assert spoken.done() and digits.done()
    pkts = [RtpPacket.parse(d) for d in fake.sent]
    assert len(pkts) == 12
    assert [p.timestamp - pkts[0].timestamp for p in pkts[:3]] == [0, TS_STEP, 2 * TS_STEP]
    assert [p.payload_type for p in pkts] == [0] * 3 + [101] * 6 + [0] * 3
    dtmf = pkts[3:9]
    assert {p.timestamp for p in dtmf} == {pkts[3].timestamp} and pkts[3].timestamp == (
        pkts[0].timestamp + 3 * TS_STEP
    )
    assert [p.marker for p in dtmf] == [1, 0, 0, 0, 0, 0]
    assert pkts[0].marker == 1 and pkts[9].timestamp == pkts[0].timestamp + 9 * TS_STEP
    assert rms(np.frombuffer(CODECS["PCMU"].make().decode(pkts[10].payload), "<i2")) == 0


def test_received_audio_timeline_fills_gaps_and_finds_onsets() -> None:
    rx = ReceivedAudio(8000)
    loud = np.full(160, 3000, dtype=np.int16)
    quiet = np.zeros(160, dtype=np.int16)
    rx.add(ReceivedFrame(10.00, 1, 1000, 0.0, quiet))
    rx.add(ReceivedFrame(10.02, 1, 1160, 3000.0, loud))
    rx.add(ReceivedFrame(10.10, 1, 1160 + 4 * 160, 3000.0, loud))  # DTX gap of 3 frames
    pcm = rx.pcm()
    assert len(pcm.samples) == 6 * 160
    assert rms(pcm.samples[320:800]) == 0 and rms(pcm.samples[800:]) == 3000
    first = rx.first_loud(10.05, 1000)
    last = rx.last_loud(0.0, 1000)
    assert first is not None and first.arrival == 10.10
    assert last is not None and last.arrival == 10.10


@pytest.mark.parametrize(("width", "channels"), [(1, 1), (2, 2), (3, 1), (4, 1)])
def test_load_wav_formats(tmp_path: Path, width: int, channels: int) -> None:
    tone = Pcm.tone(500, 0.2, 22050, amplitude=10000).samples.astype(np.int32)
    if width == 1:
        raw = ((tone >> 8) + 128).astype(np.uint8).tobytes()
    elif width == 2:
        raw = tone.astype("<i2").tobytes()
    elif width == 3:
        v = (tone << 8).astype("<i4").tobytes()
        raw = b"".join(v[i : i + 3] for i in range(0, len(v), 4))
    else:
        raw = (tone << 16).astype("<i4").tobytes()
    if channels == 2:
        raw = b"".join(raw[i : i + width] * 2 for i in range(0, len(raw), width))
    path = tmp_path / "t.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(22050)
        w.writeframes(raw)
    pcm = load_wav(path)
    assert pcm.rate == 22050 and len(pcm.samples) == len(tone)
    assert abs(rms(pcm.samples) - rms(tone.astype(np.int16))) < 150
    down = pcm.resampled(8000)
    assert down.rate == 8000 and abs(down.duration - 0.2) < 0.002
