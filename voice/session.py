"""The per-call conversation: greet, listen, ask Rasa, speak, hand off — never strand the caller.

Every path that cannot continue the conversation (Rasa down or slow, no voice,
no recogniser for the language, a silent or misunderstood caller) ends in the
same place: the caller hears why, and waits in the agent queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from config.settings import LanguageSettings, Settings
from dialogue.rasa_client import BotTurn, DialogueError, Handoff, intent_message
from dialogue.replies import Replies
from records.recorder import Recorder
from records.redaction import redact, redact_summary
from telephony.agent_queue import AgentQueue
from voice.contracts import SttEngine
from voice.language_id import Heard, LanguageChange, change
from voice.listener import Listener, TurnTiming, Utterance
from voice.sentences import split_sentences
from voice.speaker import Speaker, Spoken
from voice.stt_guard import GuardedRecognizer
from voice.vad import VadConfig
from voice.waiting import AgentConnector, Connected, Waiting, wait_sentence

log = logging.getLogger(__name__)

LAST_WORDS_MAX = 25

# What the agent hears (in Dutch, whatever the caller's language) for reasons the
# gateway itself hands off for; Rasa's handoffs bring their own spoken summary.
REASONS_NL = {
    "caller asked for a human": "de beller vroeg om een medewerker",
    "assistant unavailable": "de digitale assistent was niet beschikbaar",
    "not understood": "de assistent begreep de beller twee keer niet",
    "no input": "de beller zei niets",
    "no speech recognition": "er is geen spraakherkenning voor deze taal",
    "voice failure": "de spraaksynthese werkte niet",
    "other language": "de beller spreekt een taal die de assistent niet spreekt",
    "speech recognition failure": "de spraakherkenning werkte niet",
}
LANGUAGE_NAMES_NL = {"nl": "Nederlands", "en": "Engels"}


class Media(Protocol):
    """A call's audio: RTP today, WebRTC tomorrow."""

    on_audio: Callable[[bytes], None] | None

    @property
    def sample_rate(self) -> int: ...

    def play(self, pcm: bytes) -> asyncio.Future[bool]: ...

    def flush(self) -> int: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def backlog_samples(self) -> int: ...


class CallLike(Protocol):
    id: str
    caller: str
    channel: str
    ended: asyncio.Event
    ended_by: str | None
    end_reason: str | None
    ended_at: float | None
    on_dtmf: Callable[[str], None] | None

    @property
    def stream(self) -> Media: ...

    def hangup(self, reason: str = ...) -> None: ...


class Dialogue(Protocol):
    async def send(
        self,
        sender: str,
        message: str,
        *,
        language: str,
        channel: str = ...,
        asr_confidence: float | None = ...,
    ) -> BotTurn: ...


@dataclass
class VoiceServices:
    """What every call shares: settings, voices, recognisers, Rasa, records, the queue."""

    settings: Settings
    speaker: Speaker
    stt: Callable[[str], SttEngine | None]
    dialogue: Dialogue
    records: Recorder
    queue: AgentQueue
    hold_audio: Callable[[int], bytes]
    vad_config: VadConfig = field(default_factory=VadConfig)
    agents: AgentConnector | None = None
    """Puts accepted calls through to agents (the desk); None: nobody takes calls."""
    replies: Replies = field(default_factory=Replies)
    """Which bot texts are answers (topic) or misses, for the records; empty: none known."""


@dataclass(frozen=True, slots=True)
class Key:
    digit: str


@dataclass(frozen=True, slots=True)
class NoInput:
    pass


@dataclass(frozen=True, slots=True)
class RecognizerFailed:
    detail: str


Input = Utterance | Key | NoInput | RecognizerFailed


class CallEnded(Exception):
    """The caller hung up (or we did): stop the conversation."""


class CallSession:
    def __init__(self, call: CallLike, services: VoiceServices) -> None:
        self.call = call
        self.s = services
        self.settings = services.settings
        self.language = self.settings.default_language
        self.inputs: asyncio.Queue[Input] = asyncio.Queue()
        self.listener = Listener(
            call.stream.sample_rate,
            services.vad_config,
            max_turn_s=self.settings.voice.max_turn_s,
            on_utterance=self.inputs.put_nowait,
            on_onset=self._on_onset,
            on_gone=self._on_gone,
            bot_speaking=lambda: self.speaking,
            timing=TurnTiming(
                early_ms=self.settings.voice.end_of_turn_early_ms,
                default_ms=self.settings.voice.end_of_turn_ms,
                max_ms=self.settings.voice.end_of_turn_max_ms,
                peek_ms=self.settings.voice.end_of_turn_peek_ms,
            ),
        )
        self._barge_pause: asyncio.TimerHandle | None = None
        self.interruptible = True
        self.speaking = False
        self.misses = 0
        self.no_inputs = 0
        self.topics: list[str] = []
        self.last_words = ""
        self.disclosed = False
        self.disclosure_over_at: float | None = None
        """``time.monotonic()`` when the first greeting (the disclosure) ended."""
        self.heard_turns = 0
        self.caller_language: LanguageChange | None = None
        """Set when the caller speaks a language the assistant does not serve."""
        self.voiceless = False
        """No voice could speak to this caller: the rest of the call is hold audio, with
        no more silent tries (each would cost every voice's time budget)."""

    # ------------------------------------------------------------------ plumbing

    @property
    def texts(self) -> LanguageSettings:
        return self.settings.languages[self.language]

    def record(self, kind: str, **data: Any) -> None:
        try:
            self.s.records.event(self.call.id, kind, **data)
        except Exception:  # records must never break a call
            log.exception("records.write_failed", extra={"call_id": self.call.id})

    # Barge-in: at the caller's voice onset the bot pauses at once; if the voice goes on
    # for barge_in_confirm_ms it is a real interruption (what was queued is dropped and
    # the caller's words become the next turn); if it stops sooner ("hm", "ja", a cough)
    # the bot resumes where it paused and the sound is not a turn.

    def _on_onset(self) -> None:
        if not (self.speaking and self.interruptible and self.settings.voice.barge_in):
            return
        self.call.stream.pause()
        self._onset_at = time.monotonic()
        confirm = self.settings.voice.barge_in_confirm_ms / 1000
        self._barge_pause = asyncio.get_running_loop().call_later(confirm, self._confirm_barge_in)

    def _confirm_barge_in(self) -> None:
        self._barge_pause = None
        if self.listener.voice_active:
            dropped = self.call.stream.flush()
            self.call.stream.resume()
            self.record("barge_in", dropped_ms=dropped * 1000 // self.call.stream.sample_rate)
        else:
            self.call.stream.resume()

    def _on_gone(self) -> None:
        if self._barge_pause is not None:
            self._barge_pause.cancel()
            self._barge_pause = None
            self.call.stream.resume()

    def _on_dtmf(self, digit: str) -> None:
        self.record("dtmf", digit=digit)  # as it happens, whatever state the call is in
        if self.speaking:
            # Keys act at once, even during the non-interruptible disclosure.
            self.call.stream.flush()
            self.call.stream.resume()
        self.inputs.put_nowait(Key(digit))

    async def _wait(self, *aws: asyncio.Future[Any], timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait for the first of *aws* unless the call ends first; False on timeout.

        Raises CallEnded when the call is over."""
        ended = asyncio.ensure_future(self.call.ended.wait())
        try:
            done, _ = await asyncio.wait(
                {*aws, ended}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            ended.cancel()
        if self.call.ended.is_set():
            raise CallEnded
        return bool(done)

    # ------------------------------------------------------------------ the call

    async def run(self) -> None:
        call = self.call
        self.s.records.call_started(call.id, call.channel, call.caller, self.language)
        self.s.records.update_call(call.id, answered_at=time.time())
        self.record("answered", channel=call.channel, codec_rate=call.stream.sample_rate)
        call.stream.on_audio = self.listener.feed
        call.on_dtmf = self._on_dtmf
        self._use_language(self.language, record=False)
        self.listener.start()
        try:
            await self._converse()
        except CallEnded:
            pass
        finally:
            await self.listener.stop()
            call.stream.on_audio = None
            call.on_dtmf = None
            try:
                self.s.queue.call_ended(call.id)  # an agent on this call goes to wrap-up
            except Exception:
                log.exception("queue.call_ended_failed", extra={"call": call.id})
            self._record_end()

    def _record_end(self) -> None:
        call = self.call
        by = call.ended_by or "gateway"
        self.record("ended", by=by, reason=call.end_reason or "")
        spoke = self.caller_language.language if self.caller_language else self.language
        try:
            self.s.records.update_call(
                call.id, language=spoke, ended_by=by, ended_at=call.ended_at or time.time()
            )
        except Exception:
            log.exception("records.write_failed", extra={"call": call.id})

    async def disclose(self, text: str, **detail: Any) -> Spoken:
        """Say an AI disclosure (a greeting or the disclosure alone) in the call's
        language, interruptible only as configured, and record that it was said."""
        spoken = await self.say(text, interruptible=self.settings.voice.greeting_interruptible)
        self.record("disclosure", language=self.language, complete=spoken.complete, **detail)
        return spoken

    async def _converse(self) -> None:
        spoken = await self.disclose(self.texts.greeting)
        self.disclosed = spoken.complete
        self.disclosure_over_at = time.monotonic()
        if spoken.failed:
            await self.fail("voice", "no voice for the greeting")
            return
        while True:
            item = await self.next_input()
            if isinstance(item, Key):
                done = await self.on_key(item.digit)
            elif isinstance(item, NoInput):
                done = await self.on_no_input()
            elif isinstance(item, RecognizerFailed):
                await self.fail("stt", item.detail, reason="speech recognition failure")
                done = True
            else:
                done = await self.on_utterance(item)
            if done:
                return

    async def next_input(self) -> Input:
        if not self.inputs.empty():
            return self.inputs.get_nowait()
        get = asyncio.ensure_future(self.inputs.get())
        try:
            got = await self._wait(get, timeout=self.settings.voice.no_input_s)
        finally:
            if not get.done():
                get.cancel()
        if not got:
            if self.listener.speaking:  # mid-sentence: wait for it
                return await self.next_input()
            return NoInput()
        return get.result()

    # ------------------------------------------------------------------ inputs

    async def on_utterance(self, utt: Utterance) -> bool:
        if utt.over_bot and utt.speech_s < self.settings.voice.barge_in_confirm_ms / 1000:
            # "ja", "hm" while the bot talked: listening sounds, not a question
            self.record(
                "backchannel",
                text=utt.text,
                redacted=redact(utt.text, utt.language or self.language).text,
                speech_s=round(utt.speech_s, 2),
            )
            return False
        self.no_inputs = 0
        if not utt.recognized:
            self.record("caller_spoke", recognized=False, speech_s=round(utt.speech_s, 2))
            return await self.hand_off_locally("no speech recognition", told=False)
        self.record(
            "caller_said",
            # the raw text for the agent during the call; only the redacted one may leave
            # the live store (summary, export, logs)
            text=utt.text,
            redacted=redact(utt.text, utt.language or self.language).text,
            confidence=utt.confidence,
            speech_s=round(utt.speech_s, 2),
            stt_ms=round(utt.stt_s * 1000),
            **({"language": utt.language} if utt.language else {}),
        )
        if not utt.text:
            self.misses += 1
            if self.misses >= 2:
                return await self.hand_off_locally("not understood", told=False)
            await self.say(self.texts.not_heard)
            return False
        self.misses = 0
        self.last_words = " ".join(utt.text.split()[:LAST_WORDS_MAX])
        self.heard_turns += 1
        found = self._language_change(utt)
        if found is not None and not found.served:
            return await self.hand_off_other_language(found)
        if found is not None:
            self._use_language(found.language, source="speech", probability=found.probability)
            # Rasa learns the language first (its confirmation is not spoken), so that this
            # very question is answered in the caller's language.
            if await self.ask(intent_message("set_language", language=found.language), speak=False):
                return True
            # The greeting's AI disclosure was in a language this caller may not speak:
            # say it once in theirs, before the answer.
            spoken = await self.disclose(disclosure_of(self.texts), after="switch")
            # the caller's wait ended when this began: the turn's latency counts from here
            return await self.ask(utt.text, heard=utt, reply_began=spoken.first_audio_at)
        return await self.ask(utt.text, heard=utt)

    def _language_change(self, utt: Utterance) -> LanguageChange | None:
        began = utt.ended_at - utt.speech_s
        heard = Heard(
            languages=utt.languages,
            decoded_in=utt.language,
            text=utt.text,
            speech_s=utt.speech_s,
            turn=self.heard_turns,
            began_in_disclosure=self.disclosure_over_at is None or began < self.disclosure_over_at,
        )
        return change(heard, self.language, self.settings.languages, self.settings.language_id)

    async def on_key(self, digit: str) -> bool:
        self.no_inputs = 0
        dtmf = self.settings.dtmf
        if digit == dtmf.human:
            return await self.ask(
                intent_message("request_human"), fallback_reason="caller asked for a human"
            )
        if digit == dtmf.english and "en" in self.settings.languages:
            self._use_language("en", source="key")
            await self.disclose(self.texts.greeting)
            # Rasa learns the language too; its texts are not spoken (the greeting was).
            return await self.ask(intent_message("set_language", language="en"), speak=False)
        return await self.ask(intent_message("dtmf", digit=digit))

    async def on_no_input(self) -> bool:
        self.no_inputs += 1
        self.record("no_input", count=self.no_inputs)
        if self.no_inputs >= self.settings.voice.no_input_limit:
            return await self.hand_off_locally("no input", told=False)
        return await self.ask(intent_message("no_input"))

    # ------------------------------------------------------------------ dialogue

    async def ask(
        self,
        message: str,
        *,
        heard: Utterance | None = None,
        fallback_reason: str | None = None,
        speak: bool = True,
        reply_began: float | None = None,
    ) -> bool:
        """Send one turn to Rasa and act on the reply; True when the conversation is over.

        *reply_began*: when the caller already heard the start of this turn's reply (the
        disclosure after a language switch)."""
        asked = time.monotonic()
        try:
            turn = await self.s.dialogue.send(
                self.call.id,
                message,
                language=self.language,
                channel=self.call.channel,
                # doubtful words make Rasa confirm the topic before answering
                asr_confidence=heard.confidence if heard is not None else None,
            )
        except DialogueError as exc:
            log.warning("dialogue.failed", extra={"call_id": self.call.id, "error": str(exc)})
            self.record("error", component="dialogue", detail=str(exc))
            return await self.hand_off_locally(
                fallback_reason or "assistant unavailable", told=False, apologize=True
            )
        rasa_s = time.monotonic() - asked
        if (
            turn.language
            and turn.language != self.language
            and turn.language in self.settings.languages
        ):
            self._use_language(turn.language, source="dialogue")
        first_audio = reply_began
        if speak:
            for text in turn.texts:
                spoken = await self.say(text)
                self.record_reply(text, spoken)
                if spoken.failed:
                    await self.fail("voice", "no voice could speak the reply")
                    return True
                if first_audio is None:
                    first_audio = spoken.first_audio_at
        if heard is not None and first_audio is not None:
            self.record(
                "turn",
                latency_ms=round((first_audio - heard.ended_at) * 1000),
                endpoint_ms=round((heard.detected_at - heard.ended_at) * 1000),
                stt_ms=round(heard.stt_s * 1000),
                rasa_ms=round(rasa_s * 1000),
            )
        if turn.handoff is not None:
            await self.hand_off(turn.handoff, told=bool(turn.texts) and speak)
            return True
        if turn.hangup:
            self.s.records.update_call(self.call.id, outcome="answered")
            self.call.hangup("bot")
            return True
        if speak and not turn.texts:
            self.record("not_understood", source="gateway")  # Rasa had nothing to say
            self.misses += 1
            if self.misses >= 2:
                return await self.hand_off_locally("not understood", told=False)
            await self.say(self.texts.not_heard)
        return False

    def record_reply(self, text: str, spoken: Spoken) -> None:
        """A bot line, marked as an answer (its topic, also the call's) or a miss."""
        reply = self.s.replies.classify(text)
        mark: dict[str, Any] = {"topic": reply.topic} if reply.topic else {}
        if reply.miss:
            mark["miss"] = True
        self.record("bot_said", text=text, complete=spoken.complete, cached=spoken.cached, **mark)
        if reply.topic:
            self.s.records.update_call(self.call.id, topic=reply.topic)

    def _guarded(self, engine: SttEngine | None) -> GuardedRecognizer | None:
        """The call's recogniser, bounded in time; its failure hands the call off."""
        if engine is None:
            return None
        report = self.inputs.put_nowait
        return GuardedRecognizer(
            engine.recognizer(),
            self.settings.voice.stt_timeout_s,
            lambda detail: report(RecognizerFailed(detail)),
        )

    def _use_language(
        self,
        language: str,
        *,
        record: bool = True,
        source: str = "",
        probability: float | None = None,
    ) -> None:
        """Speak and recognise *language* from now on (the next utterance on)."""
        self.language = language  # type: ignore[assignment]
        engine = self.s.stt(language)
        self.listener.set_recognizer(self._guarded(engine))
        if record:
            why: dict[str, Any] = {"source": source} if source else {}
            if probability is not None:
                why["probability"] = round(probability, 3)
            self.record("language", language=language, **why)
            self.s.records.update_call(self.call.id, language=language)

    # ------------------------------------------------------------------ speaking

    async def say(
        self, text: str, *, interruptible: bool = True, language: str | None = None
    ) -> Spoken:
        if self.voiceless:
            return Spoken(False, failed=True)
        self.interruptible = interruptible
        self.speaking = True
        try:
            task = asyncio.ensure_future(
                self.s.speaker.say(self.call.stream, text, language or self.language)
            )
            try:
                await self._wait(task)
            except CallEnded:
                task.cancel()
                raise
            spoken = task.result()
            for fault in spoken.faults:  # a voice failed; the next one (or none) spoke
                self.record("error", component="tts", detail=fault)
            self.voiceless = spoken.failed
            return spoken
        finally:
            self.speaking = False
            self.interruptible = True

    # ------------------------------------------------------------------ handoff

    async def fail(self, component: str, detail: str, *, reason: str | None = None) -> None:
        """A component broke: tell the caller if we can, then the queue."""
        self.record("error", component=component, detail=detail)
        await self.hand_off_locally(reason or f"{component} failure", told=False, apologize=True)

    def local_summary(self, reason: str) -> dict[str, Any]:
        other = self.caller_language
        if other is not None:
            conf = self.settings.language_id.other.get(other.language)
            name = conf.name_nl if conf is not None else other.language
            percent = round(other.probability * 100)
            spoken = f"Beller spreekt {name}, herkend met {percent} procent zekerheid."
        else:
            spoken = f"Beller spreekt {LANGUAGE_NAMES_NL.get(self.language, self.language)}."
        spoken += f" Reden: {REASONS_NL.get(reason, reason)}."
        if self.last_words:
            spoken += f" Laatste woorden van de beller: {self.last_words}."
        summary: dict[str, Any] = {
            "language": other.language if other is not None else self.language,
            "reason": reason,
            "last_words": self.last_words,
            "topics": self.topics,
            "spoken": spoken,
        }
        if other is not None:
            summary["language_probability"] = round(other.probability, 3)
            summary["language_source"] = "speech"
        return summary

    async def hand_off_other_language(self, found: LanguageChange) -> bool:
        """A language the assistant does not speak: one sentence in English (and in theirs,
        if there is a voice), then a person — with that language's skill if configured."""
        lid = self.settings.language_id
        other = lid.other[found.language]
        self.caller_language = found
        self.record(
            "language",
            language=found.language,
            source="speech",
            probability=round(found.probability, 3),
            served=False,
        )
        self.s.records.update_call(self.call.id, language=found.language)
        if "en" in self.settings.languages:
            # Waiting announcements in English too: likelier understood than Dutch.
            self._use_language("en", record=False)
        await self.say(lid.other_sentence_en, interruptible=False, language="en")
        if other.sentence is not None:
            await self.say(other.sentence, interruptible=False, language=found.language)
        summary = self.local_summary("other language")
        handoff = Handoff(other.queue or "general", "other language", "normal", summary)
        await self.hand_off(handoff, told=True)
        return True

    async def hand_off_locally(self, reason: str, *, told: bool, apologize: bool = False) -> bool:
        handoff = Handoff(
            self.texts.queue or "general", reason, "normal", self.local_summary(reason)
        )
        await self.hand_off(handoff, told=told, apologize=apologize)
        return True

    async def hand_off(self, handoff: Handoff, *, told: bool, apologize: bool = False) -> None:
        """Record the decision at once, tell the caller, queue, hold, connect; until the end.

        The summary (Rasa's or ours) is redacted first: it travels to the desk, the spoken
        whisper, the ``X-Loket-Summary`` header and the records' handoff event."""
        language = str(handoff.summary.get("language") or self.language)
        handoff = replace(handoff, summary=redact_summary(handoff.summary, language))
        self.record(
            "handoff",
            queue=handoff.queue,
            reason=handoff.reason,
            priority=handoff.priority,
            summary=handoff.summary,
        )
        self.s.records.update_call(self.call.id, outcome="handoff")
        while True:
            transfer = await self._wait_for_agent(handoff, told=told, apologize=apologize)
            if transfer is None:
                return
            # an agent moved the call to another queue: it waits there, with their note
            self.s.queue.call_ended(self.call.id)
            summary = dict(handoff.summary)
            if transfer.note:
                summary["agent_note"] = redact(transfer.note, language).text
            handoff = Handoff(
                transfer.queue or "general", "transferred by agent", handoff.priority, summary
            )
            told, apologize = False, False

    async def _wait_for_agent(
        self, handoff: Handoff, *, told: bool, apologize: bool
    ) -> Connected | None:
        """Queue, hold, connect — until the call ends or an agent transfers it to a queue."""
        ticket = self.s.queue.enqueue(
            self.call.id,
            queue=handoff.queue,
            priority=handoff.priority,
            reason=handoff.reason,
            language=self.caller_language.language if self.caller_language else self.language,
            summary=handoff.summary,
        )
        self.record("queued", queue=ticket.queue, position=self.s.queue.position(ticket))
        try:
            estimate = self.s.queue.estimate(ticket)
            told_text = [] if told else [self.texts.handoff]
            if apologize:
                told_text.insert(0, self.texts.apology)
            told_text.append(
                wait_sentence(
                    self.texts.queue_wait_one,
                    self.texts.queue_wait_many,
                    self.texts.queue_wait_unknown,
                    estimate,
                )
            )
            await self.say(" ".join(told_text), interruptible=False)
            while True:
                agent = await Waiting(self, ticket).run()
                if agent is None:
                    return None
                self.record("agent_assigned", agent=agent)
                if self.s.agents is None:
                    return None  # nothing to connect with (no desk): the call stays where it is
                done = await self.s.agents.connect(self.call, ticket, agent, self.language)
                if done.outcome == "transfer":
                    return done
                if done.outcome != "requeued":
                    return None
                self.record("requeued", reason="agent lost")
                await self.say(self.texts.agent_lost, interruptible=False)
        finally:
            self.s.queue.leave(ticket)


def disclosure_of(texts: LanguageSettings) -> str:
    """The AI disclosure alone: the configured one, or the greeting's first sentence."""
    if texts.disclosure.strip():
        return texts.disclosure
    return split_sentences(texts.greeting)[0] if texts.greeting.strip() else ""
