"""The test caller against real peers (SIPp, baresip) plus its workarounds, pinned.

Every peer binds 127.0.0.1 and is stopped by the test that started it. SIPp runs with
``-m N`` and exits 0 only when every call followed its scenario, so each SIPp test also
checks our side of the dialogue (ACKs, BYE, answers to OPTIONS/re-INVITE).
"""

from __future__ import annotations

import asyncio
import itertools
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from tests.tools.peers import SIPP_PCAPS, Peer, bound_addresses, start_baresip, start_sipp
from tests.tools.rtp_audio import Pcm, load_wav, rms
from tests.tools.sip_caller import CallerAgent, CallFailed, SipCaller, dial
from tests.tools.sipp_scenarios import (
    CANCEL,
    CANCEL_TOO_LATE,
    FAR_END_REQUESTS,
    answer_scenario,
    codec_keys,
    reject_scenario,
)

pytestmark = [pytest.mark.interop, pytest.mark.timeout(90)]

# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
async def agent() -> AsyncIterator[CallerAgent]:
    async with CallerAgent() as a:
        yield a


@pytest.fixture
def sipp_dir(tmp_path: Path) -> Path:
    return tmp_path / "sipp"


def finish(peer: Peer, timeout: float = 15) -> int:
    """Wait for SIPp to end its calls and report its exit code (0: every call passed)."""
    try:
        return peer.wait(timeout)
    finally:
        peer.stop()


def dominant_hz(pcm: Pcm) -> float:
    x = pcm.samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * pcm.rate / len(x))


def loud_rms(pcm: Pcm, threshold: float = 1000) -> float:
    """RMS over the 20 ms frames above ``threshold`` (drops silence around the echo)."""
    n = pcm.rate // 50
    frames = [pcm.samples[i : i + n] for i in range(0, len(pcm.samples) - n + 1, n)]
    loud = [f for f in frames if rms(f) > threshold]
    assert loud, "no loud audio received"
    return float(np.median([rms(f) for f in loud]))


# --- calls against SIPp ----------------------------------------------------------------------


async def test_sipp_uas_answers_and_echoes_audio(agent: CallerAgent, sipp_dir: Path) -> None:
    peer = start_sipp(sipp_dir, builtin="uas", rtp_echo=True)
    try:
        call = await agent.call(peer.uri, codecs=["PCMU"])
        await call.wait_answered(5)
        assert {ip for _, ip, _ in bound_addresses(peer.proc.pid)} == {"127.0.0.1"}
        assert [e.name for e in call.events][:3] == ["invite_sent", "ringing", "answered"]
        assert call.media.remote == ("127.0.0.1", peer.media_port)
        tone = Pcm.tone(440, 1.0, 8000, amplitude=8000)
        spoken = await call.play(tone)
        onset = await call.wait_for_audio(after=0.0, timeout=3)
        assert onset <= spoken  # the echo of the first frames arrives while we still speak
        end = await call.wait_for_silence(0.4)
        assert end is not None and end >= spoken
        assert await call.hangup() == 200
        assert call.ended_by == "local"
        echo = call.received_pcm()
        assert 0.85 < loud_rms(echo) / rms(tone.samples) < 1.15
        assert abs(dominant_hz(echo) - 440) < 10
        assert finish(peer) == 0, peer.output()
    finally:
        peer.stop()


@pytest.mark.parametrize(
    ("codec", "pt", "freq"),
    [("PCMA", 8, 1000.0), ("G722", 9, 5000.0)],  # 5 kHz only survives a wideband codec
)
async def test_codec_negotiated_and_round_trips(
    agent: CallerAgent, sipp_dir: Path, codec: str, pt: int, freq: float
) -> None:
    peer = start_sipp(
        sipp_dir, scenario=answer_scenario(), rtp_echo=True, keys=codec_keys(pt, codec)
    )
    try:
        call = await agent.call(peer.uri, codecs=[codec, "PCMU"])
        await call.wait_answered(5)
        assert call.media.codec.name == codec
        assert call.media.dtmf_pt == 101
        tone = Pcm.tone(freq, 1.0, 16000, amplitude=8000)
        await call.play(tone)
        await call.wait_for_silence(0.4, after=0.0)
        assert await call.hangup() == 200
        echo = call.received_pcm()
        assert echo.rate == (16000 if codec == "G722" else 8000)
        assert abs(dominant_hz(echo) - freq) < 20
        assert 0.8 < loud_rms(echo) / rms(tone.samples) < 1.2
        assert finish(peer) == 0, peer.output()
    finally:
        peer.stop()


async def test_answerer_choice_wins(agent: CallerAgent, sipp_dir: Path) -> None:
    """We prefer G.722; SIPp's built-in uas answers PCMU only, so PCMU it is."""
    peer = start_sipp(sipp_dir, builtin="uas")
    try:
        call = await agent.call(peer.uri, codecs=["G722", "PCMU"])
        await call.wait_answered(5)
        assert call.media.codec.name == "PCMU"
        assert call.media.dtmf_pt is None  # not in SIPp's answer
        with pytest.raises(RuntimeError, match="telephone-event"):
            await call.send_dtmf("1")
        assert await call.hangup() == 200
        assert finish(peer) == 0, peer.output()
    finally:
        peer.stop()


@pytest.mark.parametrize(
    ("code", "reason"),
    [(486, "Busy Here"), (488, "Not Acceptable Here"), (503, "Service Unavailable")],
)
async def test_final_error_status_is_exposed_and_acked(
    agent: CallerAgent, sipp_dir: Path, code: int, reason: str
) -> None:
    peer = start_sipp(sipp_dir, scenario=reject_scenario(code, reason))
    try:
        call = await agent.call(peer.uri)
        with pytest.raises(CallFailed) as failed:
            await call.wait_answered(5)
        assert failed.value.status == code
        assert call.status == code and call.reason == reason
        assert call.ended_by == "rejected"
        assert [e.name for e in call.events] == ["invite_sent", "trying", "rejected", "ended"]
        assert finish(peer) == 0, peer.output()  # SIPp got its ACK
        assert call.media.transport is None  # RTP port released
    finally:
        peer.stop()


async def test_cancel_before_answer_gives_487(agent: CallerAgent, sipp_dir: Path) -> None:
    peer = start_sipp(sipp_dir, scenario=CANCEL)
    try:
        call = await agent.call(peer.uri)
        await call.wait_ringing(5)
        assert await call.cancel(5) == 487
        assert call.cancel_status == 200
        assert call.ended_by == "cancel"
        names = [e.name for e in call.events]
        assert names == [
            "invite_sent",
            "ringing",
            "cancel_sent",
            "cancel_answered",
            "cancelled",
            "ended",
        ] or names == [
            "invite_sent",
            "ringing",
            "cancel_sent",
            "cancelled",
            "ended",
            "cancel_answered",
        ]
        assert finish(peer) == 0, peer.output()
    finally:
        peer.stop()


async def test_answer_crossing_cancel_is_acked_and_hung_up(
    agent: CallerAgent, sipp_dir: Path
) -> None:
    peer = start_sipp(sipp_dir, scenario=CANCEL_TOO_LATE)
    try:
        call = await agent.call(peer.uri)
        await call.wait_ringing(5)
        assert await call.cancel(5) == 200
        assert call.cancel_status == 200
        assert await call.wait_ended(5) == "local"
        assert call.bye_status == 200
        assert finish(peer) == 0, peer.output()
    finally:
        peer.stop()


async def test_far_end_options_hold_resume_and_bye(agent: CallerAgent, sipp_dir: Path) -> None:
    peer = start_sipp(sipp_dir, scenario=FAR_END_REQUESTS, rtp_echo=True, keys=codec_keys())
    try:
        call = await agent.call(peer.uri)
        await call.wait_answered(5)
        held = False
        while not call.ended:
            held = held or not call.media.sending
            await asyncio.sleep(0.02)
        assert await call.wait_ended(10) == "remote"
        names = [e.name for e in call.events]
        assert names.count("reinvite_received") == 2
        assert "bye_received" in names
        assert held and call.media.sending  # we stopped sending while held, resumed after
        assert await call.hangup() is None  # already over
        assert finish(peer) == 0, peer.output()
    finally:
        peer.stop()


async def test_tcp_call(agent: CallerAgent, sipp_dir: Path) -> None:
    peer = start_sipp(sipp_dir, builtin="uas", transport="tcp", rtp_echo=True)
    try:
        call = await agent.call(peer.uri, transport="tcp")
        await call.wait_answered(5)
        await call.play(Pcm.tone(700, 0.4, 8000))
        await call.wait_for_audio(timeout=3)
        assert await call.hangup() == 200
        assert finish(peer) == 0, peer.output()
    finally:
        peer.stop()


async def test_pcap_audio_and_rfc2833_digit_from_sipp(agent: CallerAgent, sipp_dir: Path) -> None:
    """SIPp plays its shipped G.711 A-law recording, then DTMF '5' from its pcap."""
    middle = f"""
  <nop><action><exec play_pcap_audio="{SIPP_PCAPS / "g711a.pcap"}"/></action></nop>
  <pause milliseconds="1500"/>
  <nop><action><exec play_pcap_audio="{SIPP_PCAPS / "dtmf_2833_5.pcap"}"/></action></nop>
  <pause milliseconds="600"/>
"""
    peer = start_sipp(sipp_dir, scenario=answer_scenario(middle), keys=codec_keys(8, "PCMA"))
    try:
        call = await agent.call(peer.uri, codecs=["PCMA"])
        await call.wait_answered(5)
        answered = call.event_time("answered")
        assert answered is not None
        onset = await call.wait_for_audio(after=answered, timeout=5)
        assert onset - answered < 1.0
        for _ in range(200):
            if call.media.dtmf_received:
                break
            await asyncio.sleep(0.02)
        assert [d for d, _ in call.media.dtmf_received] == ["5"]
        await asyncio.sleep(0.7)  # let SIPp's scenario reach <recv request="BYE">
        assert await call.hangup() == 200
        heard = call.received_pcm()
        assert heard.duration > 1.0 and rms(heard.samples) > 300
        assert finish(peer) == 0, peer.output()
    finally:
        peer.stop()


class Capture(asyncio.DatagramProtocol):
    """Stands in for the far end's RTP socket and notes when each packet arrived."""

    def __init__(self) -> None:
        self.packets: list[tuple[float, bytes]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append((time.monotonic(), data))


async def test_rfc4733_dtmf_is_paced_marked_and_distinct(
    agent: CallerAgent, sipp_dir: Path
) -> None:
    """Workaround for aiortp's DtmfSender: capture what we send for "1229" and check it."""
    loop = asyncio.get_running_loop()
    cap_transport, cap = await loop.create_datagram_endpoint(Capture, local_addr=("127.0.0.1", 0))
    port = cap_transport.get_extra_info("sockname")[1]
    peer = start_sipp(sipp_dir, scenario=answer_scenario(), keys=codec_keys(rtpport=str(port)))
    try:
        call = await agent.call(peer.uri)
        await call.wait_answered(5)
        await asyncio.sleep(0.1)
        await call.send_dtmf("1229", duration_ms=100, gap_ms=60)
        await asyncio.sleep(0.1)
        assert await call.hangup() == 200
        assert finish(peer) == 0, peer.output()
    finally:
        cap_transport.close()
        peer.stop()
    packets = cap.packets
    rtp = [(t, *struct.unpack("!BBHII", d[:12]), d[12:]) for t, d in packets]
    seqs = [r[3] for r in rtp]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))
    events: dict[int, list[tuple[float, int, bytes]]] = {}
    for t, _vpxcc, mpt, _seq, ts, _ssrc, payload in rtp:
        if mpt & 0x7F == 101:
            events.setdefault(ts, []).append((t, mpt >> 7, payload))
    assert len(events) == 4  # four events, four distinct timestamps (aiortp would send all at 0)
    digits = []
    for pkts in events.values():
        digits.append("0123456789"[pkts[0][2][0]])
        assert [m for _, m, _ in pkts] == [1] + [0] * (len(pkts) - 1)  # marker on FIRST packet
        ends = [p for _, _, p in pkts if p[1] & 0x80]
        assert len(ends) == 3 and len(set(ends)) == 1  # three identical end packets, last
        assert all(not p[1] & 0x80 for _, _, p in pkts[:-3])
        durations = [struct.unpack("!H", p[2:4])[0] for _, _, p in pkts]
        assert durations[:5] == [160, 320, 480, 640, 800] and durations[-1] == 800
        gaps = np.diff([t for t, _, _ in pkts])
        assert float(np.median(gaps)) > 0.010  # paced one per 20 ms tick, not a burst
    assert digits == list("1229")


async def test_sip_info_dtmf(agent: CallerAgent, sipp_dir: Path) -> None:
    middle = """
  <recv request="INFO">
    <action><ereg regexp="Signal=7" search_in="body" check_it="true" assign_to="s"/></action>
  </recv>
  <Reference variables="s"/>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
"""
    peer = start_sipp(sipp_dir, scenario=answer_scenario(middle), keys=codec_keys())
    try:
        call = await agent.call(peer.uri)
        await call.wait_answered(5)
        await call.send_dtmf("7", method="info")
        assert any(e.name == "dtmf_sent" and e.detail == "7 INFO 200" for e in call.events)
        assert await call.hangup() == 200
        assert finish(peer) == 0, peer.output()
    finally:
        peer.stop()


# --- UDP loss: retransmission against SIPp through a lossy relay -----------------------------


class LossyRelay:
    """A UDP relay between the caller and SIPp that drops the first N of some requests."""

    def __init__(self, upstream: tuple[str, int], drop: dict[str, int]) -> None:
        self.upstream = upstream
        self.drop = dict(drop)
        self.seen: list[tuple[float, str, bytes]] = []
        self.client: tuple[str, int] | None = None

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        relay = self

        class Front(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                relay.client = addr
                method = data.split(b" ", 1)[0].decode(errors="replace")
                relay.seen.append((time.monotonic(), method, data))
                if relay.drop.get(method, 0) > 0:
                    relay.drop[method] -= 1
                    return
                relay.back.sendto(data, relay.upstream)

        class Back(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                if relay.client is not None:
                    relay.front.sendto(data, relay.client)

        self.front, _ = await loop.create_datagram_endpoint(Front, local_addr=("127.0.0.1", 0))
        self.back, _ = await loop.create_datagram_endpoint(Back, local_addr=("127.0.0.1", 0))
        return int(self.front.get_extra_info("sockname")[1])

    def close(self) -> None:
        self.front.close()
        self.back.close()


async def test_invite_and_bye_are_retransmitted_over_udp(
    agent: CallerAgent, sipp_dir: Path
) -> None:
    peer = start_sipp(sipp_dir, builtin="uas")
    relay = LossyRelay(("127.0.0.1", peer.port), {"INVITE": 2, "BYE": 1})
    port = await relay.start()
    try:
        call = await agent.call(f"sip:helpline@127.0.0.1:{port}")
        await call.wait_answered(8)
        assert await call.hangup(8) == 200
        assert finish(peer) == 0, peer.output()
    finally:
        relay.close()
        peer.stop()
    invites = [(t, d) for t, m, d in relay.seen if m == "INVITE"]
    byes = [(t, d) for t, m, d in relay.seen if m == "BYE"]
    assert len(invites) == 3 and len({d for _, d in invites}) == 1  # identical copies
    gap1, gap2 = invites[1][0] - invites[0][0], invites[2][0] - invites[1][0]
    assert 0.4 < gap1 < 0.8 and 0.9 < gap2 < 1.4  # Timer A: T1, then 2·T1
    assert len(byes) == 2 and 0.4 < byes[1][0] - byes[0][0] < 0.8  # Timer E


# --- many calls ------------------------------------------------------------------------------


async def test_ten_parallel_calls_hear_their_own_echo(agent: CallerAgent, sipp_dir: Path) -> None:
    n = 10
    peer = start_sipp(sipp_dir, builtin="uas", rtp_echo=True, calls=n)
    try:
        calls = await asyncio.gather(*(agent.call(peer.uri) for _ in range(n)))
        await asyncio.gather(*(c.wait_answered(5) for c in calls))
        ports = {c.media.local_port for c in calls}
        assert len(ports) == n and all(p % 2 == 0 for p in ports)
        freqs = [300.0 + 150 * i for i in range(n)]

        async def talk(call: SipCaller, f: float) -> None:
            await call.play(Pcm.tone(f, 0.6, 8000))
            await call.wait_for_silence(0.3, after=0.0)

        await asyncio.gather(*(talk(c, f) for c, f in zip(calls, freqs, strict=True)))
        for c, f in zip(calls, freqs, strict=True):
            assert abs(dominant_hz(c.received_pcm()) - f) < 15
        assert await asyncio.gather(*(c.hangup() for c in calls)) == [200] * n
        assert finish(peer) == 0, peer.output()
    finally:
        peer.stop()


# --- baresip ---------------------------------------------------------------------------------


async def test_baresip_answers_echoes_and_relays_dtmf(tmp_path: Path) -> None:
    peer = start_baresip(tmp_path / "baresip")
    try:
        async with await dial(peer.uri, codecs=["PCMU"]) as call:
            await call.wait_answered(5)
            # SIP, RTP, RTCP and DNS sockets all on loopback (see peers.loopback_bind_library)
            addresses = bound_addresses(peer.proc.pid)
            assert len(addresses) >= 4
            assert {ip for _, ip, _ in addresses} <= {"127.0.0.1", "::1"}, addresses
            assert call.media.dtmf_pt is not None
            tone = Pcm.tone(600, 1.0, 8000, amplitude=8000)
            await call.play(tone)
            await call.wait_for_audio(timeout=3)
            await call.wait_for_silence(0.5, after=0.0)
            await call.send_dtmf("1229", duration_ms=120, gap_ms=120)
            for _ in range(100):
                if len(call.media.dtmf_received) >= 4:
                    break
                await asyncio.sleep(0.02)
            assert "".join(d for d, _ in call.media.dtmf_received) == "1229", peer.output()
            echo = call.received_pcm()
            assert abs(dominant_hz(echo) - 600) < 10
            assert 0.5 < loud_rms(echo) / rms(tone.samples) < 1.5
            assert await call.hangup() == 200
        log = peer.output(1_000_000)
        assert "echo: CALL_INCOMING" in log  # baresip's echo module answered
        assert log.count("received event: '2' (end=1)") == 2  # "22" seen as two events
    finally:
        peer.stop()


# --- recorded audio --------------------------------------------------------------------------


async def test_received_audio_saves_to_wav(
    agent: CallerAgent, sipp_dir: Path, tmp_path: Path
) -> None:
    peer = start_sipp(sipp_dir, builtin="uas", rtp_echo=True)
    try:
        call = await agent.call(peer.uri)
        await call.wait_answered(5)
        await call.play(Pcm.tone(440, 0.5, 22050))  # any rate in, resampled to 8 kHz
        await call.wait_for_silence(0.3, after=0.0)
        await call.hangup()
        out = tmp_path / "heard.wav"
        call.save_received(out, rate=16000)
        heard = load_wav(out)
        assert heard.rate == 16000
        assert abs(dominant_hz(heard) - 440) < 10
        assert finish(peer) == 0, peer.output()
    finally:
        peer.stop()


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_script_report_and_recording(sipp_dir: Path, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from tests.tools.rtp_audio import save_wav

    question = tmp_path / "q.wav"
    save_wav(
        question,
        Pcm(
            np.concatenate([Pcm.tone(440, 0.6, 16000).samples, Pcm.silence(0.2, 16000).samples]),
            16000,
        ),
    )
    out = tmp_path / "heard.wav"
    peer = start_sipp(
        sipp_dir, scenario=answer_scenario(), rtp_echo=True, calls=3, keys=codec_keys()
    )
    try:
        cmd = [
            sys.executable,
            "-m",
            "tests.tools.caller_cli",
            peer.uri,
            "--calls",
            "3",
            "--play",
            str(question),
            "--wait-audio",
            "--wait-silence",
            "0.3",
            "--dtmf",
            "5",
            "--record",
            str(out),
        ]
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2]
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert (report["answered"], report["failed"]) == (3, 0)
        assert report["turn_latency_ms"]["n"] == 3
        assert report["process"]["cpu_percent_per_call"] > 0
        assert finish(peer) == 0, peer.output()
    finally:
        peer.stop()
    for i in range(3):
        heard = load_wav(tmp_path / f"heard-{i}.wav")
        assert abs(dominant_hz(heard) - 440) < 10
