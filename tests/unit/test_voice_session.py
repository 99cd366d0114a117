"""The per-call conversation logic with fakes for media, engines and Rasa.

These are the session's own decisions (what is said, recorded and handed off
when); real SIP, Rasa and models are exercised by the integration and e2e tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings, load_settings
from dialogue.rasa_client import BotTurn, DialogueError, Handoff
from records.store import Records
from telephony.acd_model import AcdConfig
from telephony.agent_queue import InProcessQueue
from tests.tools.scripted_dialogue import ScriptedDialogue
from voice.contracts import AudioChunk, Recognizer, SttEngine, Transcript
from voice.listener import Utterance
from voice.prompt_cache import PromptCache
from voice.session import CallSession, NoInput, VoiceServices
from voice.speaker import Speaker, Spoken
from voice.speech_text import for_speech
from voice.waiting import Connected

RATE = 8000


def _finish(fut: asyncio.Future[bool]) -> None:
    if not fut.done():
        fut.set_result(True)


class FakeStream:
    """Plays instantly (next loop turn); remembers what was played."""

    sample_rate = RATE

    def __init__(self) -> None:
        self.on_audio: Callable[[bytes], None] | None = None
        self.played: list[bytes] = []
        self.flushes = 0
        self._pending: list[asyncio.Future[bool]] = []
        self.hold_time = 0.0
        self.paused = False

    def play(self, pcm: bytes) -> asyncio.Future[bool]:
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.played.append(pcm)
        self._pending.append(fut)
        delay = self.hold_time if len(pcm) > 20000 else 0.0
        asyncio.get_running_loop().call_later(delay, _finish, fut)
        return fut

    def backlog_samples(self) -> int:
        return 0

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def flush(self) -> int:
        self.flushes += 1
        dropped = 0
        for fut in self._pending:
            if not fut.done():
                fut.set_result(False)
                dropped += 1
        return dropped


@dataclass(eq=False)
class FakeCall:
    id: str = "call-1"
    caller: str = "+31201234567"
    channel: str = "sip"
    stream: FakeStream = field(default_factory=FakeStream)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    ended_by: str | None = None
    end_reason: str | None = None
    ended_at: float | None = None
    on_dtmf: Callable[[str], None] | None = None

    def hangup(self, reason: str = "bot") -> None:
        if not self.ended.is_set():
            self.ended_by, self.end_reason = "gateway", reason
            self.ended.set()

    def caller_hangs_up(self) -> None:
        self.ended_by, self.end_reason = "caller", "bye"
        self.ended.set()


class FakeTts:
    name = "fake"
    sample_rate = RATE

    def __init__(self, language: str, fail: bool = False) -> None:
        self.language = language
        self.fail = fail
        self.texts: list[str] = []

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        if self.fail:
            raise RuntimeError("voice broken")
        self.texts.append(text)
        yield AudioChunk(b"\x10\x00" * 800, RATE)


class FakeRecognizer:
    async def accept(self, pcm: bytes) -> str:
        return ""

    async def finish(self) -> Transcript:
        return Transcript("")

    async def peek(self) -> Transcript:
        return Transcript("")

    def close(self) -> None:
        pass


class FakeStt:
    name = "fake-stt"

    def __init__(self, language: str) -> None:
        self.language = language

    def recognizer(self) -> Recognizer:
        return FakeRecognizer()


@dataclass
class Harness:
    session: CallSession
    call: FakeCall
    dialogue: ScriptedDialogue
    records: Records
    voices: dict[str, FakeTts]
    queue: InProcessQueue
    task: asyncio.Task[None] | None = None

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.records.events(self.call.id)]

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.records.events(self.call.id) if e["kind"] == kind]

    def spoken(self) -> str:
        """Everything said, sentence by sentence, in one string."""
        return " ".join(t for v in self.voices.values() for t in v.texts)

    async def start(self) -> None:
        self.task = asyncio.ensure_future(self.session.run())
        await self.until(lambda: "disclosure" in self.kinds())

    async def until(self, cond: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not cond():
                await asyncio.sleep(0.01)

    async def finish(self) -> None:
        if not self.call.ended.is_set():
            self.call.caller_hangs_up()
        assert self.task is not None
        await asyncio.wait_for(self.task, 5)


def settings(**env: str) -> Settings:
    base = {"LOKET_QUEUE__HOLD_ANNOUNCEMENT_EVERY_S": "5"}
    base.update({f"LOKET_{k}": v for k, v in env.items()})
    return load_settings(base)


def harness(
    tmp_path: Path,
    *,
    replies: dict[str, BotTurn | Exception] | None = None,
    stt_languages: tuple[str, ...] = ("nl", "en"),
    broken_voice: bool = False,
    conf: Settings | None = None,
) -> Harness:
    voices = {lang: FakeTts(lang, fail=broken_voice) for lang in ("nl", "en")}
    stts: dict[str, SttEngine] = {lang: FakeStt(lang) for lang in stt_languages}
    records = Records(tmp_path / "r.sqlite", "salt")
    dialogue = ScriptedDialogue(replies)
    conf = conf or settings()
    queue = InProcessQueue(AcdConfig.from_mapping(conf.queue.model_dump()))
    services = VoiceServices(
        settings=conf,
        speaker=Speaker(lambda lang: [voices[lang]], PromptCache()),
        stt=stts.get,
        dialogue=dialogue,
        records=records,
        queue=queue,
        hold_audio=lambda rate: b"\x01\x00" * rate * 5,
    )
    call = FakeCall()
    return Harness(CallSession(call, services), call, dialogue, records, voices, queue)


def heard(text: str) -> Utterance:
    return Utterance(text, 0.9, 1.2, 0.0, 0.0, 0.05)


async def test_greeting_is_the_ai_disclosure_and_is_recorded(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    assert h.spoken().startswith("U spreekt met de digitale assistent")
    assert h.events("disclosure") == [
        {"at": pytest.approx(0, abs=1e10), "kind": "disclosure", "language": "nl", "complete": True}
    ]
    await h.finish()
    call = h.records.call("call-1")
    assert call is not None and call["ended_by"] == "caller"
    assert call["caller_hash"] and "31201234567" not in str(call)


async def test_an_utterance_goes_to_rasa_and_the_answer_is_spoken(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    h.session.inputs.put_nowait(heard("wanneer wordt de aow betaald"))
    await h.until(lambda: "bot_said" in h.kinds())
    assert h.dialogue.sent == [("wanneer wordt de aow betaald", "nl")]
    assert h.dialogue.asr_confidences == [0.9]  # the recogniser's, for "klopt dat?"
    assert "answer to wanneer wordt de aow betaald" in h.spoken()
    assert h.events("caller_said")[0]["text"] == "wanneer wordt de aow betaald"
    assert "turn" in h.kinds()
    await h.finish()


async def test_rasa_down_means_apology_and_the_queue_not_silence(tmp_path: Path) -> None:
    h = harness(tmp_path, replies={"hallo": DialogueError("Rasa unreachable")})
    await h.start()
    h.session.inputs.put_nowait(heard("hallo"))
    await h.until(lambda: "queued" in h.kinds())
    conf = h.session.settings.languages["nl"]
    told = h.spoken()
    assert conf.apology in told and conf.handoff in told
    assert conf.queue_wait_unknown in told  # nobody logged in: no made-up number
    (handoff,) = h.events("handoff")
    assert handoff["reason"] == "assistant unavailable"
    assert "niet beschikbaar" in handoff["summary"]["spoken"]
    assert "hallo" in handoff["summary"]["spoken"]  # the caller's own last words
    assert [t.call_id for t in h.queue.waiting()] == ["call-1"]
    await h.finish()
    assert h.queue.waiting() == []  # leaving the call leaves the queue
    assert h.records.call("call-1")["outcome"] == "handoff"  # type: ignore[index]


async def test_key_0_asks_rasa_for_a_human_and_obeys_its_handoff(tmp_path: Path) -> None:
    turn = BotTurn(
        ["Ik verbind u door."],
        handoff=Handoff("toeslagen", "caller asked", "normal", {"spoken": "Beller wil mens."}),
    )
    h = harness(tmp_path, replies={"/request_human": turn})
    await h.start()
    h.session._on_dtmf("0")
    await h.until(lambda: "queued" in h.kinds())
    assert h.dialogue.sent == [("/request_human", "nl")]
    assert h.events("handoff")[0]["queue"] == "toeslagen"
    # Rasa already told the caller: the gateway's own handoff text is not added
    assert h.session.settings.languages["nl"].handoff not in h.spoken()
    await h.finish()


async def test_key_0_with_rasa_down_still_reaches_a_human(tmp_path: Path) -> None:
    h = harness(tmp_path, replies={"/request_human": DialogueError("down")})
    await h.start()
    h.session._on_dtmf("0")
    await h.until(lambda: "queued" in h.kinds())
    assert h.events("handoff")[0]["reason"] == "caller asked for a human"
    await h.finish()


async def test_key_9_switches_to_english_with_an_english_disclosure(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    h.session._on_dtmf("9")
    await h.until(lambda: len(h.events("disclosure")) == 2 and len(h.dialogue.sent) == 1)
    assert h.dialogue.sent == [('/set_language{"language": "en"}', "en")]
    assert h.voices["en"].texts[0].startswith("You are speaking with the digital assistant")
    assert h.events("language")[0]["language"] == "en"
    h.session.inputs.put_nowait(heard("when is the pension paid"))
    await h.until(lambda: len(h.dialogue.sent) == 2)
    assert h.dialogue.sent[1] == ("when is the pension paid", "en")
    await h.finish()
    assert h.records.call("call-1")["language"] == "en"  # type: ignore[index]


async def test_an_english_caller_the_gateway_hands_off_waits_for_english_agents(
    tmp_path: Path,
) -> None:
    h = harness(tmp_path, replies={"/request_human": DialogueError("down")})
    await h.start()
    h.session._on_dtmf("9")
    await h.until(lambda: len(h.events("disclosure")) == 2)
    h.session._on_dtmf("0")
    await h.until(lambda: "queued" in h.kinds())
    assert h.events("handoff")[0]["queue"] == "english"
    assert [t.queue for t in h.queue.waiting()] == ["english"]
    await h.finish()


async def test_other_keys_go_to_rasa_as_an_intent(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    h.session._on_dtmf("5")
    await h.until(lambda: len(h.dialogue.sent) == 1)
    assert h.dialogue.sent == [('/dtmf{"digit": "5"}', "nl")]
    await h.finish()


async def test_two_misses_in_a_row_hand_off_as_not_understood(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    h.session.inputs.put_nowait(heard(""))
    await h.until(lambda: h.session.settings.languages["nl"].not_heard in h.spoken())
    h.session.inputs.put_nowait(heard(""))
    await h.until(lambda: "handoff" in h.kinds())
    assert h.events("handoff")[0]["reason"] == "not understood"
    assert h.dialogue.sent == []
    await h.finish()


async def test_rasa_hangup_ends_the_call_after_speaking(tmp_path: Path) -> None:
    h = harness(tmp_path, replies={"dank je": BotTurn(["Tot ziens."], hangup=True)})
    await h.start()
    h.session.inputs.put_nowait(heard("dank je"))
    assert h.task is not None
    await asyncio.wait_for(h.task, 5)
    assert h.call.ended_by == "gateway" and "Tot ziens." in h.spoken()
    assert h.records.call("call-1")["outcome"] == "answered"  # type: ignore[index]


async def test_rasa_language_payload_switches_the_voice(tmp_path: Path) -> None:
    h = harness(tmp_path, replies={"can i speak english": BotTurn(["Of course."], language="en")})
    await h.start()
    h.session.inputs.put_nowait(heard("can i speak english"))
    await h.until(lambda: "Of course." in h.voices["en"].texts)
    assert h.session.language == "en"
    await h.finish()


async def test_no_recogniser_for_the_language_hands_speech_to_an_agent(tmp_path: Path) -> None:
    h = harness(tmp_path, stt_languages=("en",))
    await h.start()
    h.session.inputs.put_nowait(Utterance("", None, 1.5, 0.0, 0.0, 0.0, recognized=False))
    await h.until(lambda: "queued" in h.kinds())
    assert h.events("handoff")[0]["reason"] == "no speech recognition"
    assert "geen spraakherkenning" in h.events("handoff")[0]["summary"]["spoken"]
    await h.finish()


async def test_no_voice_at_all_still_queues_the_caller(tmp_path: Path) -> None:
    h = harness(tmp_path, broken_voice=True)
    h.task = asyncio.ensure_future(h.session.run())
    await h.until(lambda: "queued" in h.kinds())
    # the voice's own failure, then the call's: no voice could speak
    assert [e["component"] for e in h.events("error")] == ["tts", "voice"]
    assert h.events("error")[0]["detail"] == "fake failed: RuntimeError"
    assert h.call.stream.played  # hold audio: not dead silence
    await h.finish()


async def test_silence_prompts_then_hands_off(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    for _ in range(3):
        h.session.inputs.put_nowait(NoInput())
    await h.until(lambda: "handoff" in h.kinds())
    assert [m for m, _ in h.dialogue.sent] == ["/no_input", "/no_input"]
    assert h.events("handoff")[0]["reason"] == "no input"
    await h.finish()


async def test_hold_announces_position_and_ends_politely_after_twice_max_wait(
    tmp_path: Path,
) -> None:
    conf = settings(QUEUE__HOLD_ANNOUNCEMENT_EVERY_S="5", QUEUE__MAX_WAIT_S="0.3")
    h = harness(tmp_path, replies={"help": DialogueError("down")}, conf=conf)
    h.call.stream.hold_time = 0.1
    await h.start()
    h.session.inputs.put_nowait(heard("help"))
    assert h.task is not None
    await asyncio.wait_for(h.task, 5)
    told = h.spoken()  # what the voice was given: the spoken form ("nummer één")
    nl = conf.languages["nl"]
    position = for_speech(nl.queue_position.format(position=1), "nl")
    assert position in told  # max wait: announced at once
    assert for_speech(nl.callback_offer, "nl") in told
    assert "queue_timeout" in h.kinds() and for_speech(nl.no_agent, "nl") in told
    assert h.call.ended_by == "gateway"
    assert h.records.call("call-1")["outcome"] == "no_agent"  # type: ignore[index]


async def test_key_1_after_the_announcement_asks_for_a_callback(tmp_path: Path) -> None:
    conf = settings(QUEUE__HOLD_ANNOUNCEMENT_EVERY_S="5", QUEUE__MAX_WAIT_S="0.2")
    h = harness(tmp_path, replies={"help": DialogueError("down")}, conf=conf)
    h.call.stream.hold_time = 0.05
    await h.start()
    h.session.inputs.put_nowait(heard("help"))
    await h.until(lambda: "announced" in h.kinds())
    h.session._on_dtmf("1")
    assert h.task is not None
    await asyncio.wait_for(h.task, 5)
    assert "callback_requested" in h.kinds()
    assert conf.languages["nl"].callback_confirmed in h.spoken()
    (task,) = h.queue.callbacks()
    assert task.caller_ref == "+31201234567" and task.queue == "algemeen"
    assert h.records.call("call-1")["outcome"] == "callback"  # type: ignore[index]


async def test_key_1_before_any_announcement_does_nothing(tmp_path: Path) -> None:
    h = harness(tmp_path, replies={"help": DialogueError("down")})
    h.call.stream.hold_time = 0.05
    await h.start()
    h.session.inputs.put_nowait(heard("help"))
    await h.until(lambda: "queued" in h.kinds())
    h.session._on_dtmf("1")
    await asyncio.sleep(0.3)
    assert "callback_requested" not in h.kinds() and h.queue.callbacks() == []
    await h.finish()


class FakeAgents:
    """A desk whose agent's connection drops on the first call and holds on the second."""

    def __init__(self, queue: InProcessQueue, outcomes: list[str]) -> None:
        self.queue = queue
        self.outcomes = outcomes
        self.connected: list[str] = []

    async def connect(self, call: Any, ticket: Any, agent_id: str, language: str) -> Connected:
        self.connected.append(agent_id)
        outcome = self.outcomes.pop(0)
        if outcome == "requeued":
            self.queue.disconnect(agent_id)  # what the desk does when the socket drops
            await ticket.requeued
            self.queue.login(agent_id, ["algemeen"], ready=True)
            return Connected("requeued")
        if outcome.startswith("transfer:"):
            return Connected("transfer", queue=outcome.split(":", 1)[1], note="wil een DigiD")
        return Connected("ended")


async def test_an_accepted_call_is_connected_and_a_lost_agent_requeues(tmp_path: Path) -> None:
    h = harness(tmp_path, replies={"help": DialogueError("down")})
    agents = FakeAgents(h.queue, ["requeued", "ended"])
    h.session.s.agents = agents
    h.call.stream.hold_time = 10
    h.queue.login("agent-7", ["algemeen"], ready=True)
    await h.start()
    h.session.inputs.put_nowait(heard("help"))
    await h.until(lambda: "queued" in h.kinds())
    h.queue.accept("agent-7", "call-1")
    await h.until(lambda: "requeued" in h.kinds())
    assert h.session.settings.languages["nl"].agent_lost in h.spoken()
    assert h.events("agent_assigned")[0]["agent"] == "agent-7"
    await h.until(lambda: h.queue.snapshot().to_dict()["agents"][0]["state"] == "offered")
    h.queue.accept("agent-7", "call-1")
    await h.until(lambda: len(agents.connected) == 2)
    assert h.task is not None
    await asyncio.wait_for(h.task, 5)


async def test_voice_over_the_bot_pauses_it_and_a_backchannel_resumes_it(tmp_path: Path) -> None:
    h = harness(tmp_path, conf=settings(VOICE__BARGE_IN_CONFIRM_MS="100"))
    h.session.speaking, h.session.interruptible = True, False
    h.session._on_onset()
    assert not h.call.stream.paused  # the disclosure is not interrupted by voice
    h.session.interruptible = True
    h.session._on_onset()
    assert h.call.stream.paused  # at once, at the caller's voice onset
    h.session._on_gone()  # "hm": gone before it could be an interruption
    assert not h.call.stream.paused and h.call.stream.flushes == 0
    h.records.close()


async def test_voice_that_goes_on_interrupts_the_bot(tmp_path: Path) -> None:
    h = harness(tmp_path, conf=settings(VOICE__BARGE_IN_CONFIRM_MS="100"))
    h.session.speaking = h.session.interruptible = True
    h.session._on_onset()
    h.session.listener._onset.active = True  # still talking when the confirmation comes
    await asyncio.sleep(0.15)
    assert h.call.stream.flushes == 1 and not h.call.stream.paused
    assert h.events("barge_in")
    h.session._on_dtmf("1")
    assert h.call.stream.flushes == 2  # keys always act at once
    h.records.close()


async def test_a_short_sound_over_the_bot_is_not_a_turn(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    h.session.inputs.put_nowait(Utterance("ja", 0.9, 0.3, 0.0, 0.0, 0.05, over_bot=True))
    await h.until(lambda: "backchannel" in h.kinds())
    h.session.inputs.put_nowait(
        Utterance("nee wacht even", 0.9, 1.2, 0.0, 0.0, 0.05, over_bot=True)
    )
    await h.until(lambda: len(h.dialogue.sent) == 1)
    assert h.dialogue.sent == [("nee wacht even", "nl")]
    await h.finish()


async def test_key_during_the_disclosure_is_acted_on(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.call.stream.hold_time = 0
    task = asyncio.ensure_future(h.session.run())
    await asyncio.sleep(0)
    h.session._on_dtmf("5")
    h.task = task
    await h.until(lambda: len(h.dialogue.sent) == 1)
    await h.finish()


async def test_an_agent_transfers_the_call_to_another_queue_with_a_note(tmp_path: Path) -> None:
    h = harness(tmp_path, replies={"help": DialogueError("down")})
    agents = FakeAgents(h.queue, ["transfer:toeslagen", "ended"])
    h.session.s.agents = agents
    h.call.stream.hold_time = 10
    h.queue.login("agent-7", ["algemeen"], ready=True)
    h.queue.login("agent-8", ["toeslagen"], ready=True)
    await h.start()
    h.session.inputs.put_nowait(heard("help"))
    await h.until(lambda: "queued" in h.kinds())
    h.queue.accept("agent-7", "call-1")
    await h.until(lambda: len(h.events("queued")) == 2)
    assert h.events("queued")[1]["queue"] == "toeslagen"
    (second,) = [t for t in h.queue.waiting() if t.call_id == "call-1"]
    assert second.summary["agent_note"] == "wil een DigiD"
    h.queue.accept("agent-8", "call-1")
    assert h.task is not None
    await asyncio.wait_for(h.task, 5)
    assert agents.connected == ["agent-7", "agent-8"]


@pytest.mark.parametrize("setting", [False, True])
async def test_whether_voice_can_cut_the_greeting_is_a_setting(
    tmp_path: Path, setting: bool
) -> None:
    h = harness(tmp_path, conf=settings(VOICE__GREETING_INTERRUPTIBLE=str(setting).lower()))
    said: list[tuple[str, bool]] = []
    say = h.session.say

    async def spy(text: str, *, interruptible: bool = True) -> Spoken:
        said.append((text, interruptible))
        return await say(text, interruptible=interruptible)

    h.session.say = spy  # type: ignore[method-assign]
    await h.start()
    assert said[0] == (h.session.texts.greeting, setting)
    await h.finish()


async def test_a_failing_recogniser_means_apology_and_an_agent(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    recognizer = h.session.listener._recognizer
    assert recognizer is not None
    # what the guard reports when the call's recogniser raises or overruns its budget
    recognizer.on_fault("finish took longer than 8 s")  # type: ignore[attr-defined]
    await h.until(lambda: "queued" in h.kinds())
    error = h.events("error")[0]
    assert (error["component"], error["detail"]) == ("stt", "finish took longer than 8 s")
    handoff = h.events("handoff")[0]
    assert handoff["reason"] == "speech recognition failure"
    assert "spraakherkenning werkte niet" in handoff["summary"]["spoken"]
    conf = h.session.settings.languages["nl"]
    assert conf.apology in h.spoken() and conf.handoff in h.spoken()
    assert h.dialogue.sent == []  # nothing went to Rasa
    await h.finish()


# ------------------------------------------------------------------ redaction

BSN = "123456782"  # passes the 11-proef
PHONE = "0612345678"


async def test_what_the_caller_said_is_recorded_raw_and_redacted(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    h.session.inputs.put_nowait(heard("mijn bsn is een twee drie vier vijf zes zeven acht twee"))
    await h.until(lambda: "bot_said" in h.kinds())
    (said,) = h.events("caller_said")
    assert said["text"] == "mijn bsn is een twee drie vier vijf zes zeven acht twee"
    assert said["redacted"] == "mijn bsn is [BSN]"
    await h.finish()


async def test_the_gateways_summary_for_the_agent_holds_no_personal_data(tmp_path: Path) -> None:
    words = f"bsn {BSN} bel {PHONE}"
    h = harness(tmp_path, replies={words: DialogueError("down")})
    await h.start()
    h.session.inputs.put_nowait(heard(words))
    await h.until(lambda: "queued" in h.kinds())
    (ticket,) = h.queue.waiting()  # what the desk, the whisper and X-Loket-Summary use
    (handoff,) = h.events("handoff")
    for summary in (ticket.summary, handoff["summary"]):
        text = str(summary)
        assert BSN not in text and PHONE not in text, text
        assert "[BSN]" in summary["last_words"] and "[TELEFOON]" in summary["last_words"]
        # the whisper to the agent: words a voice says, not brackets it would spell out
        assert "bsn BSN bel telefoonnummer" in summary["spoken"]
    await h.finish()


async def test_rasas_summary_is_redacted_before_it_reaches_the_queue(tmp_path: Path) -> None:
    summary = {
        "language": "nl",
        "last_words": f"mijn naam is Jan de Vries en mijn bsn is {BSN}",
        "spoken": f"Beller wil een medewerker. Laatste woorden: mijn bsn is {BSN}.",
        "topics": ["aow"],
    }
    turn = BotTurn(["Ik verbind u door."], handoff=Handoff("algemeen", "human", "normal", summary))
    h = harness(tmp_path, replies={"/request_human": turn})
    await h.start()
    h.session._on_dtmf("0")
    await h.until(lambda: "queued" in h.kinds())
    (ticket,) = h.queue.waiting()
    assert ticket.summary["last_words"] == "mijn naam is [NAAM] en mijn bsn is [BSN]"
    assert ticket.summary["spoken"].endswith("mijn bsn is BSN.")
    assert ticket.summary["topics"] == ["aow"]
    assert BSN not in str(h.events("handoff"))
    await h.finish()
