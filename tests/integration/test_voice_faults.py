"""The recogniser or the synthesizer failing on one call, heard by a real SIP caller.

An in-process gateway with the real engines (Whisper tiny.en, Piper, espeak-ng) takes
two calls from the test's SIP caller. The engines are wrapped here, in the test, so one
call's recogniser raises or blocks its pool thread, or the voices raise or hang while
one call is greeted: nothing in the production configuration can inject a fault. The
faulty call must hear the apology and go to the queue (or go on in the fallback voice),
what it heard is transcribed with Whisper tiny.en, the records must say what happened,
and the other call, on the same gateway at the same time, must go on normally. Rasa is
a scripted stand-in: the layer under test is the session's handling of engine faults.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialogue.rasa_client import BotTurn
from tests import phone_helpers as ph
from tests.gateway_fixture import RunningGateway, gateway_env, running_gateway
from tests.tools.rtp_audio import Pcm
from tests.tools.scripted_dialogue import ScriptedDialogue
from tests.tools.sip_caller import SipCaller, dial
from voice import workers
from voice.contracts import AudioChunk, Recognizer, SttEngine, Transcript, TtsEngine
from voice.stt_whisper import WhisperStt

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]

ANSWER = "The state pension is paid on the twenty third of every month."
HOLD_S = 60.0  # a hung job holds its thread this long unless the test lets it go


class FaultyRecognizer:
    """A real recogniser whose peek/finish raise, or block a pool thread ("hang")."""

    def __init__(self, inner: Recognizer, mode: str, release: threading.Event) -> None:
        self.inner = inner
        self.mode = mode
        self.release = release

    async def accept(self, pcm: bytes) -> str:
        return await self.inner.accept(pcm)

    async def _fault(self) -> Transcript:
        if self.mode == "raise":
            raise RuntimeError("injected recogniser fault")
        await workers.run(self.release.wait, HOLD_S)  # a decode that never returns
        return Transcript("")

    async def peek(self) -> Transcript:
        return await self._fault()

    async def finish(self) -> Transcript:
        return await self._fault()

    def close(self) -> None:
        self.inner.close()


class FaultySttEngine:
    """The loaded engine; the recognisers it hands to the calls numbered in *faulty* fail."""

    def __init__(self, inner: SttEngine, mode: str, faulty: set[int]) -> None:
        self.inner = inner
        self.name = inner.name
        self.language = inner.language
        self.mode = mode
        self.faulty = faulty
        self.made = 0
        self.release = threading.Event()

    def recognizer(self) -> Recognizer:
        n, self.made = self.made, self.made + 1
        rec = self.inner.recognizer()
        return FaultyRecognizer(rec, self.mode, self.release) if n in self.faulty else rec


class FaultyVoice:
    """A loaded voice that raises or hangs while ``armed``."""

    def __init__(self, inner: TtsEngine, mode: str) -> None:
        self.inner = inner
        self.name = inner.name
        self.language = inner.language
        self.mode = mode
        self.armed = True
        self.release = threading.Event()

    @property
    def sample_rate(self) -> int:
        return self.inner.sample_rate

    @property
    def cache_key(self) -> str:
        return f"faulty:{getattr(self.inner, 'cache_key', self.inner.name)}"

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        if self.armed and self.mode == "raise":
            raise RuntimeError("injected voice fault")
        if self.armed:
            await workers.run(self.release.wait, HOLD_S)
        async for chunk in self.inner.synthesize(text):
            yield chunk


@pytest.fixture(scope="module")
def whisper() -> WhisperStt:
    return ph.whisper_tiny()


@pytest.fixture(scope="module")
def question() -> Pcm:
    return ph.spoken(ph.piper_voice())


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    # one pool thread: a hung job that kept it would silence every other call
    yield gateway_env(
        tmp_path,
        DEFAULT_LANGUAGE="en",
        voice__threads="1",
        voice__stt_timeout_s="3",
        voice__tts_timeout_s="2",
        voice__tts_cache_dir=str(tmp_path / "tts-cache"),  # every text synthesized here
    )


def by_answer(gw: RunningGateway) -> list[str]:
    """Call ids in the order they were answered."""
    calls = sorted(gw.calls(), key=lambda c: float(c["started_at"]))  # type: ignore[arg-type]
    return [str(c["id"]) for c in calls]


def events(gw: RunningGateway, call_id: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in gw.records.events(call_id) if e["kind"] == kind]


async def greeted(gw: RunningGateway, calls: int) -> SipCaller:
    """A new call, once its greeting has been played (the *calls*-th disclosure)."""
    call = await dial(gw.uri, codecs=["PCMU"])
    await call.wait_answered()
    db = gw.settings.records.path
    await ph.until_recorded(db, "disclosure", calls, 0, timeout=40)
    await call.wait_for_silence(0.8, timeout=20)
    return call


def assert_went_on(gw: RunningGateway, call_id: str, *, faults: int = 0) -> None:
    """The call was heard and answered, with no handoff (and *faults* errors)."""
    kinds = gw.kinds(call_id)
    said = [str(e["text"]) for e in events(gw, call_id, "caller_said")]
    assert any("pension" in s.lower() for s in said), (said, kinds)
    assert "bot_said" in kinds and "handoff" not in kinds, kinds
    assert kinds.count("error") == faults, kinds


async def pool_health(gw: RunningGateway) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        r = await client.get(f"http://127.0.0.1:{gw.settings.http.port}/healthz")
    pool = r.json()["components"]["voice"]["pool"]
    assert isinstance(pool, dict)
    return pool


@pytest.mark.parametrize("mode", ["raise", "hang"])
async def test_a_failing_recogniser_hands_that_call_off_and_the_other_goes_on(
    env: dict[str, str], whisper: WhisperStt, question: Pcm, mode: str
) -> None:
    async with running_gateway(env) as gw:
        gw.gateway.services.dialogue = ScriptedDialogue(default=BotTurn([ANSWER]))
        stt = FaultySttEngine(gw.gateway.voices.stt["en"], mode, faulty={0})
        gw.gateway.voices.stt["en"] = stt
        a = b = None
        try:
            a = await greeted(gw, 1)
            b = await greeted(gw, 2)
            first, second = by_answer(gw)
            asked = await a.play(question)  # the faulty call's question …
            turn = await b.ask(question, reply_timeout=25)  # … and the other's, meanwhile
            await ph.until_recorded(gw.settings.records.path, "queued", 1, 0, timeout=20)
            if mode == "hang":
                pool = await pool_health(gw)
                assert pool["hung"] == 1 and pool["pool"]["ok"], pool  # room was made
            await asyncio.sleep(9)  # the apology and the handoff sentence
            heard = ph.decode(whisper, *ph.heard_since(a, asked)).text
            b_heard = ph.decode(whisper, *ph.heard_since(b, turn.speech_end)).text
        finally:
            stt.release.set()
            for call in (a, b):
                if call is not None:
                    await call.close()
        assert re.search(r"sorry", heard, re.I), heard
        assert re.search(r"agent|transfer", heard, re.I), heard
        error = events(gw, first, "error")
        detail = "failed: RuntimeError" if mode == "raise" else "took longer than 3 s"
        assert [e["component"] for e in error] == ["stt"] and detail in error[0]["detail"], error
        assert events(gw, first, "handoff")[0]["reason"] == "speech recognition failure"
        assert "queued" in gw.kinds(first)
        assert_went_on(gw, second)
        assert ph.heard_share(ANSWER, b_heard) >= 0.6, b_heard
    async with asyncio.timeout(10):  # the released thread ends: nothing is left running
        while workers.stats().hung:
            await asyncio.sleep(0.05)


async def test_a_hanging_voice_gives_way_to_espeak_and_the_call_goes_on(
    env: dict[str, str], whisper: WhisperStt, question: Pcm
) -> None:
    async with running_gateway(env) as gw:
        gw.gateway.services.dialogue = ScriptedDialogue(default=BotTurn([ANSWER]))
        voices = gw.gateway.voices.tts["en"]
        assert [v.name for v in voices] == ["piper", "espeak"]
        piper = FaultyVoice(voices[0], "hang")
        voices[0] = piper
        a = b = None
        try:
            a = await greeted(gw, 1)  # greeted by espeak-ng, after Piper's 2 s
            piper.armed = False
            piper.release.set()
            greeting = ph.decode(whisper, *ph.heard_since(a, 0.0)).text
            b = await greeted(gw, 2)
            first, second = by_answer(gw)
            a_turn, _ = await asyncio.gather(
                a.ask(question, reply_timeout=25), b.ask(question, reply_timeout=25)
            )
            await ph.until_recorded(gw.settings.records.path, "bot_said", 2, 0, timeout=30)
            reply = ph.decode(whisper, *ph.heard_since(a, a_turn.speech_end)).text
        finally:
            piper.release.set()
            for call in (a, b):
                if call is not None:
                    await call.close()
        assert re.search(r"assistant|government|help", greeting, re.I), greeting
        error = events(gw, first, "error")
        assert [(e["component"], e["detail"]) for e in error] == [
            ("tts", "piper took longer than 2 s")
        ], error
        assert events(gw, first, "disclosure")[0]["complete"]
        assert_went_on(gw, first, faults=1)  # the faulty call goes on: its question answered
        assert ph.heard_share(ANSWER, reply) >= 0.6, reply
        assert_went_on(gw, second)


async def test_no_voice_at_all_means_hold_audio_and_the_queue(
    env: dict[str, str], whisper: WhisperStt, question: Pcm
) -> None:
    async with running_gateway(env) as gw:
        gw.gateway.services.dialogue = ScriptedDialogue(default=BotTurn([ANSWER]))
        voices = gw.gateway.voices.tts["en"]
        faulty = [FaultyVoice(v, "raise") for v in voices]
        voices[:] = faulty
        a = b = None
        try:
            a = await dial(gw.uri, codecs=["PCMU"])
            await a.wait_answered()
            db = gw.settings.records.path
            await ph.until_recorded(db, "queued", 1, 0, timeout=20)
            for voice in faulty:
                voice.armed = False
            b = await greeted(gw, 2)  # the next call: greeted as ever
            first, second = by_answer(gw)
            await b.ask(question, reply_timeout=25)
            await ph.until_recorded(db, "bot_said", 1, 0, timeout=30)
            since = time.monotonic() - 3.0
            a_tail = [f.level for f in a.media.received.frames if f.arrival >= since]
        finally:
            for call in (a, b):
                if call is not None:
                    await call.close()
        # the first caller hears hold audio, all along, never dead silence
        assert a_tail and sum(level > 100 for level in a_tail) / len(a_tail) > 0.9, a_tail
        components = [e["component"] for e in events(gw, first, "error")]
        assert components == ["tts", "tts", "voice"], components
        assert events(gw, first, "handoff")[0]["reason"] == "voice failure"
        assert "queued" in gw.kinds(first)
        assert_went_on(gw, second)
