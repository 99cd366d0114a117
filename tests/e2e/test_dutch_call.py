"""A Dutch phone call end to end: real SIP caller, real gateway, real Rasa, real Whisper base.

The caller speaks real human Dutch: espeak-ng Dutch is not recognisable by Whisper base
("ik wil een medewerker spreken" → "ik wil een meedenmerkert raken"), so (a) plays a
whole fillets-ng line (a voice actor, Debian ``fillets-ng-data-nl``) and (b), (c) play
helpline sentences spliced from fillets words by one voice
(``tests/tools/dutch_utterances.py``, recipe in ``tests/data/dutch_utterances.json``,
built here from the Debian files). No key is pressed: the call stays in Dutch.

What the caller heard is the bot's espeak-ng ``nl`` voice through G.711. Whisper base
transcribes it badly, so it is checked two ways that hold for espeak: Whisper's language
identification of the reply (Dutch ranked first) and key words of the bot's sentence
matched by their first letters (a stem: "medewerker" heard as "mede werker" or
"medewerke" still counts) — the words chosen are the sentence's long content words,
which are the ones espeak says clearly enough.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator

import numpy as np
import pytest

from config.settings import load_settings
from tests.e2e.calls import heard_share, heard_since, last_event, records, until_recorded
from tests.stack import Stack
from tests.tools.dutch_utterances import Utterance, build, load
from tests.tools.fillets import INSTALL_HINT, line_by_id, load_pcm
from tests.tools.rtp_audio import Pcm
from tests.tools.sip_caller import SipCaller, Turn, dial
from voice.model_registry import get_entry, resolve
from voice.resample import resample
from voice.stt_whisper import WhisperResult, WhisperStt
from voice.tts_espeak import EspeakTts

pytestmark = pytest.mark.e2e

# A fillets line ("Ik denk dat iemand hier nogal verdachte experimenten aan het doen
# is.", big fish) that Whisper base hears mostly right ("denk dat iemand hier nog helpen
# dachten experimenten aan het doen is"): acted game dialogue, not a helpline question,
# so Rasa's reply is whatever it makes of it — the point is that it is Dutch.
LINE = ("experiments", "bank-v-pokusy2")
YES = ("society", "mik-v-tak")  # "Ja." (big fish), for a confirmation question
FACTS = {  # words of each topic's Dutch answer that prove it was given (bot_said)
    "faq/uwv": ("UWV",),
    "faq/pension_overview": ("Pensioenregister",),
    "faq/vehicle_registration": ("RDW",),
    "faq/tax_phone": ("0800-0543",),
}
HANDOFF_STEMS = ("verbind", "medewerk", "moment", "geduld")
SHARE = 0.2


@pytest.fixture(scope="module")
def whisper() -> WhisperStt:
    found = resolve(get_entry("whisper-base"), load_settings().models.dir)
    assert found.path is not None, f"{found.problem}; {found.provide}"
    return WhisperStt(found.path, "nl")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def pcm_of(audio: bytes) -> Pcm:
    """16 kHz s16 with half a second of quiet either side, as a caller pauses."""
    pad = np.zeros(8000, dtype=np.int16)
    return Pcm(np.concatenate([pad, np.frombuffer(audio, dtype="<i2"), pad]), 16000)


def spliced(intent_prefix: str) -> Utterance:
    found = [u for u in load() if u.intent.startswith(intent_prefix)]
    assert found, f"no {intent_prefix} utterance in the recipe (python -m tests.tools.dutch_splice)"
    return found[0]


def heard(whisper: WhisperStt, call: SipCaller, since: float) -> WhisperResult:
    pcm, rate = heard_since(call, since)
    return whisper.decode(resample(pcm, rate, 16000))


def stems_heard(stems: tuple[str, ...], result: WhisperResult) -> list[str]:
    text = re.sub(r"[^a-zà-ÿ]+", "", result.raw_text.lower())
    return [s for s in stems if s in text]


def said_by_bot(events: list[tuple[str, str]]) -> str:
    return " ".join(json.loads(d)["text"] for k, d in events if k == "bot_said")


async def ask_confirming(
    stack: Stack, call: SipCaller, question: Pcm, before: int, facts: tuple[str, ...]
) -> tuple[Turn, bool]:
    """Ask; when the reply is a confirmation question ("U vraagt naar …, klopt dat?")
    rather than the answer (none of *facts* in it), a voice actor's "Ja." says yes.
    Returns the last turn (its reply is the answer, if all went well) and whether the
    assistant asked to confirm."""
    turn = await call.ask(question, reply_timeout=30)
    await until_recorded(stack, "bot_said", 1, before, timeout=40)
    await call.wait_for_silence(1.2, timeout=40)
    bot = said_by_bot(records(stack, before))
    confirming = not any(f in bot for f in facts) and "?" in bot
    if confirming:
        asked = last_event(stack)
        turn = await call.ask(pcm_of(load_pcm(line_by_id(*YES).path)), reply_timeout=30)
        await until_recorded(stack, "bot_said", 1, asked, timeout=40)
        await call.wait_for_silence(1.2, timeout=40)
    return turn, confirming


async def dutch_call(stack: Stack) -> tuple[SipCaller, int]:
    """A call that has heard the Dutch greeting to its end; and the last event before it."""
    before = last_event(stack)
    call = await dial(stack.sip_uri, codecs=["PCMU"])
    await call.wait_answered()
    await call.wait_for_audio(timeout=15)
    await until_recorded(stack, "disclosure", 1, before, timeout=60)
    await call.wait_for_silence(1.0, timeout=40)
    return call, before


async def test_a_dutch_line_is_recognised_and_answered_in_dutch(
    stack: Stack, whisper: WhisperStt
) -> None:
    try:
        line = line_by_id(*LINE)
    except FileNotFoundError:
        pytest.fail(INSTALL_HINT)
    call, before = await dutch_call(stack)
    try:
        turn = await call.ask(pcm_of(load_pcm(line.path)), reply_timeout=30)
        await until_recorded(stack, "bot_said", 1, before, timeout=40)
        await call.wait_for_silence(1.2, timeout=40)
    finally:
        await call.close()
    events = records(stack, before)
    said = [json.loads(d) for k, d in events if k == "caller_said"]
    assert said and said[0]["text"], events
    handoffs = [json.loads(d) for k, d in events if k == "handoff"]
    assert not any(h["reason"] == "no speech recognition" for h in handoffs), events
    bot = said_by_bot(events)
    reply = heard(whisper, call, turn.speech_end)
    evidence = (said, bot, reply, events)
    # Dutch in the records: none of the English variants of the assistant's sentences
    assert bot and not re.search(r"\b(the|you|please|sorry, I)\b", bot, re.I), evidence
    assert re.search(r"\b(u|uw|de|het|een|niet|ik|wat|vraag)\b", bot, re.I), evidence
    # Dutch in the caller's ear: the transcript (Whisper, nl) shares words with the Dutch
    # sentence the records say was spoken. (Whisper's language identification is no
    # check here: on espeak-ng nl through G.711 it ranks af, en or la first.)
    # A short reply ("Wat is uw vraag?") in espeak-ng over G.711 is not transcribed
    # recognisably (heard: "Maar de vioek had"): then speech must at least have been heard.
    if len(bot.split()) >= 8:
        assert heard_share(bot, reply.raw_text) >= SHARE, evidence
    else:
        assert reply.raw_text and reply.no_speech_prob < 0.5, evidence


# Measured 2026-12-03 (h3): the only sentence the recipe keeps, "hallo is daar iemand"
# (a whole fillets phrase; Whisper base heard "Hallo, is er iemand?" offline after G.711),
# reached the gateway in the call as "Hallo Is er niets?": Rasa greeted, and the call
# went to the queue only after three silences (reason "no input"). No spliced or cut
# fillets request was heard right (tests/tools/dutch_splice.py). Strict: when a recipe
# sentence gets through, this XPASS fails the run and the mark must go.
@pytest.mark.xfail(strict=True, reason="no fillets request_human sentence Whisper base hears")
async def test_a_spoken_request_for_a_person_reaches_the_queue(
    stack: Stack, whisper: WhisperStt
) -> None:
    utterance = spliced("request_human")
    call, before = await dutch_call(stack)
    try:
        # not call.ask(): that waits for the reply to end, and on hold it never does
        spoken = await call.play(pcm_of(build(utterance)))
        await call.wait_for_audio(spoken, timeout=30)
        await until_recorded(stack, "queued", 1, before, timeout=40)
        # the handoff sentence has been played; on hold the music never goes quiet, so
        # listen a few seconds more for the queue announcement instead of for silence
        await asyncio.sleep(4)
    finally:
        await call.close()
    events = records(stack, before)
    kinds = [k for k, _ in events]
    reply = heard(whisper, call, spoken)
    evidence = (utterance.text, reply, events)
    said = [json.loads(d)["text"] for k, d in events if k == "caller_said"]
    assert said and said[0], evidence
    assert "handoff" in kinds and "queued" in kinds, evidence
    handoff = next(json.loads(d) for k, d in events if k == "handoff")
    # handed off because the caller asked for a person (handoff_queues.yml), not after
    # silence ("no input") or a recogniser failure
    assert handoff["reason"] == "asked for agent", evidence
    assert "medewerker" in said_by_bot(events), evidence  # "Ik verbind u door met een medewerker."
    assert len(stems_heard(HANDOFF_STEMS, reply)) >= 1, evidence


# The same request in synthetic Dutch. No human recording of a helpline request installs
# offline, and espeak-ng nl is mostly not recognisable by Whisper base ("ik wil een
# medewerker spreken" → "ik wil een made marker dragen"); but this phrasing was heard as
# "ik wil een mens raken" at 16 kHz and after G.711 (measured 2026-12-03), and the
# caller's intent must survive such a transcript: Rasa's NLU is trained on text and
# reads recogniser output here. What this proves is the path (Dutch speech → Whisper
# base → Rasa → queue), with the voice said plainly: not a human one.
ESPEAK_REQUEST = "ik wil een mens spreken"


async def test_a_synthetic_dutch_request_for_a_person_reaches_the_queue(
    stack: Stack, whisper: WhisperStt
) -> None:
    tts = EspeakTts("nl", "nl")
    audio = b"".join([c.pcm async for c in tts.synthesize(ESPEAK_REQUEST)])
    question = pcm_of(resample(audio, tts.sample_rate, 16000))
    call, before = await dutch_call(stack)
    try:
        spoken = await call.play(question)
        await call.wait_for_audio(spoken, timeout=30)
        await until_recorded(stack, "queued", 1, before, timeout=40)
        await asyncio.sleep(4)  # the handoff sentence, then hold music (never quiet)
    finally:
        await call.close()
    events = records(stack, before)
    reply = heard(whisper, call, spoken)
    said = [json.loads(d)["text"] for k, d in events if k == "caller_said"]
    evidence = (said, reply, events)
    assert said and "mens" in said[0].lower(), evidence
    handoff = next((json.loads(d) for k, d in events if k == "handoff"), None)
    assert handoff is not None and handoff["reason"] == "asked for agent", evidence
    assert "medewerker" in said_by_bot(events), evidence
    assert len(stems_heard(HANDOFF_STEMS, reply)) >= 1, evidence


# The recipe keeps no FAQ sentence: "ik heb geen werk" from two natural fillets phrases
# was rejected by the guard or heard as "je pijn niet meer" (tests/tools/dutch_splice.py).
@pytest.mark.xfail(strict=True, reason="no fillets FAQ sentence Whisper base hears")
async def test_a_spoken_helpline_question_gets_the_answer_or_a_confirmation(
    stack: Stack, whisper: WhisperStt
) -> None:
    utterance = spliced("faq/")
    facts = FACTS[utterance.intent]
    call, before = await dutch_call(stack)
    try:
        turn, confirming = await ask_confirming(
            stack, call, pcm_of(build(utterance)), before, facts
        )
    finally:
        await call.close()
    events = records(stack, before)
    bot = said_by_bot(events)
    reply = heard(whisper, call, turn.speech_end)
    evidence = (utterance.text, confirming, bot, reply, events)
    assert any(f in bot for f in facts), evidence
    assert not any(json.loads(d)["reason"] == "no speech recognition"
                   for k, d in events if k == "handoff"), evidence  # fmt: skip
    assert heard_share(bot, reply.raw_text) >= SHARE, evidence


# A helpline question in synthetic Dutch, for the same reason as ESPEAK_REQUEST: of the
# 26 espeak-ng questions of bench/dutch_outcomes.py, this is one of the two that got the
# right answer after G.711 (heard "Maar is er telephomer van de belastingdienst?").
ESPEAK_QUESTION = ("wat is het telefoonnummer van de belastingdienst", "faq/tax_phone")


async def test_a_synthetic_dutch_question_gets_the_answer_or_a_confirmation(
    stack: Stack, whisper: WhisperStt
) -> None:
    text, intent = ESPEAK_QUESTION
    facts = FACTS[intent]
    tts = EspeakTts("nl", "nl")
    audio = b"".join([c.pcm async for c in tts.synthesize(text)])
    call, before = await dutch_call(stack)
    question = pcm_of(resample(audio, tts.sample_rate, 16000))
    try:
        turn, confirming = await ask_confirming(stack, call, question, before, facts)
    finally:
        await call.close()
    events = records(stack, before)
    bot = said_by_bot(events)
    reply = heard(whisper, call, turn.speech_end)
    evidence = (text, confirming, bot, reply, events)
    said = [json.loads(d)["text"] for k, d in events if k == "caller_said"]
    # heard e.g. "Maar is er een telefoon de m'n belaasting dient."
    assert said and re.search(r"telefo|bela+st", said[0].lower()), evidence
    assert any(f in bot for f in facts), evidence  # the answer, with its number
    assert not any(k == "handoff" for k, _ in events), evidence
    # what the caller heard is that answer: its words, the number spoken in Dutch
    # ("nul achthonderd …"), not the digits read as English
    assert heard_share(bot, reply.raw_text) >= SHARE, evidence
