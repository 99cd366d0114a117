"""The caller's language from speech: the rules, and what the call does with them.

The recogniser is a fake here (its identification is what the rules are fed);
the real Whisper identification is measured in bench/language_id.py and exercised
through a real call in tests/e2e/test_language_from_speech.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from config.language_id import LanguageIdSettings, OtherLanguage
from config.settings import ConfigError, load_settings
from tests.unit.test_voice_session import FakeTts, Harness, harness, settings
from voice.language_id import Heard, LanguageChange, change, recogniser_switch
from voice.listener import Utterance
from voice.stt_whisper import LanguageSwitch

CONF = LanguageIdSettings(
    switch_threshold=0.8,
    other_threshold=0.9,
    min_speech_s=1.5,
    min_words=3,
    max_turn=3,
    other={"pl": OtherLanguage(name_nl="Pools", sentence="Przełączam.", voice="pl")},
)
SERVED = ("nl", "en")
QUESTION = "When is the state pension paid?"


def hear(
    text: str = QUESTION,
    languages: tuple[tuple[str, float], ...] = (("en", 0.97), ("nl", 0.02)),
    *,
    decoded_in: str = "en",
    speech_s: float = 2.4,
    turn: int = 1,
    began_in_disclosure: bool = False,
) -> Heard:
    return Heard(languages, decoded_in, text, speech_s, turn, began_in_disclosure)


# ---------------------------------------------------------------------------- the rules


def test_a_confident_english_question_switches() -> None:
    assert change(hear(), "nl", SERVED, CONF) == LanguageChange("en", 0.97, served=True)


@pytest.mark.parametrize(
    ("why", "heard"),
    [
        ("one English word", hear("DigiD.", (("en", 0.99),), speech_s=0.7)),
        ("short", hear("Okay, sorry, yes.", (("en", 0.99),), speech_s=1.2)),
        ("two words", hear("Okay sorry.", (("en", 0.99),), speech_s=1.8)),
        ("unsure", hear(languages=(("en", 0.79), ("nl", 0.2)))),
        ("during the disclosure", hear(began_in_disclosure=True)),
        ("decoded in Dutch", hear(decoded_in="nl")),
        ("late in the call", hear(turn=4)),
        ("Dutch", hear(languages=(("nl", 0.99),), decoded_in="nl")),
        ("Afrikaans is not a reason to leave", hear(languages=(("af", 0.99),), decoded_in="nl")),
        ("no identification", hear(languages=())),
    ],
)
def test_no_change(why: str, heard: Heard) -> None:
    assert change(heard, "nl", SERVED, CONF) is None, why


def test_an_unserved_language_needs_its_own_threshold() -> None:
    polish = (("pl", 0.93), ("ru", 0.03))
    assert change(
        hear("Dzień dobry, mam pytanie.", polish, decoded_in="pl"), "nl", SERVED, CONF
    ) == (LanguageChange("pl", 0.93, served=False))
    unsure = (("pl", 0.85), ("ru", 0.1))
    assert change(hear("Dzień dobry, mam pytanie.", unsure), "nl", SERVED, CONF) is None


def test_disabled_changes_nothing() -> None:
    off = CONF.model_copy(update={"enabled": False})
    assert change(hear(), "nl", SERVED, off) is None
    assert recogniser_switch(off, "nl", SERVED) == LanguageSwitch()


def test_the_recogniser_decodes_served_and_other_languages_at_their_thresholds() -> None:
    switch = recogniser_switch(CONF, "nl", SERVED)
    assert switch == LanguageSwitch((("en", 0.8), ("pl", 0.9)), 1.5)
    assert switch.choose((("en", 0.85),), "nl", 2.0) == "en"
    assert switch.choose((("en", 0.85),), "nl", 1.0) is None  # too short
    assert switch.choose((("pl", 0.85),), "nl", 2.0) is None  # below pl's threshold
    assert switch.choose((("af", 0.99),), "nl", 2.0) is None  # not a language we act on
    assert switch.choose((("nl", 0.99),), "nl", 2.0) is None


def test_config_rejects_a_served_language_as_other_and_an_unknown_queue() -> None:
    with pytest.raises(ConfigError, match="language_id"):
        load_settings({"LOKET_LANGUAGE_ID__OTHER__EN__NAME_NL": "Engels"})
    with pytest.raises(ConfigError, match="not a queue"):
        load_settings({"LOKET_LANGUAGE_ID__OTHER__PL__QUEUE": "nowhere"})
    with pytest.raises(ConfigError, match="switch_threshold"):
        load_settings({"LOKET_LANGUAGE_ID__SWITCH_THRESHOLD": "1.5"})


# ---------------------------------------------------------------------------- the call


def spoken_after_disclosure(
    h: Harness,
    text: str,
    languages: tuple[tuple[str, float], ...],
    *,
    language: str,
    speech_s: float = 2.4,
    began_after: float = 0.2,
) -> Utterance:
    """An utterance that began *began_after* s after the disclosure ended (< 0: during it)."""
    over = h.session.disclosure_over_at
    assert over is not None
    began = over + began_after
    ended = began + speech_s
    return Utterance(
        text, 0.8, speech_s, ended, ended + 0.3, 0.2, language=language, languages=languages
    )


ENGLISH = (("en", 0.96), ("nl", 0.02))


async def test_an_english_caller_is_answered_in_english_without_a_key(tmp_path: Path) -> None:
    h = harness(tmp_path)
    asked: list[str] = []
    engines = h.session.s.stt
    h.session.s.stt = lambda lang: (asked.append(lang), engines(lang))[1]
    await h.start()
    h.session.inputs.put_nowait(spoken_after_disclosure(h, QUESTION, ENGLISH, language="en"))
    await h.until(lambda: "bot_said" in h.kinds())
    # Rasa is told the language first (silently), then this question is asked in English.
    assert h.dialogue.sent == [('/set_language{"language": "en"}', "en"), (QUESTION, "en")]
    # the AI disclosure in English first (the greeting's was Dutch), then the answer
    assert h.voices["en"].texts == [
        "You are speaking with the digital assistant of the Dutch government.",
        f"answer to {QUESTION}",
    ]
    assert [(e["language"], e.get("after")) for e in h.events("disclosure")] == [
        ("nl", None),
        ("en", "switch"),
    ]
    (event,) = h.events("language")
    assert event["language"] == "en" and event["source"] == "speech"
    assert event["probability"] == 0.96
    assert h.session.language == "en"
    assert asked == ["nl", "en"]  # the next utterance goes to the English recogniser
    await h.finish()
    assert h.records.call("call-1")["language"] == "en"  # type: ignore[index]


async def test_no_switch_on_english_that_began_during_the_disclosure(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    h.session.inputs.put_nowait(
        spoken_after_disclosure(h, QUESTION, ENGLISH, language="en", began_after=-1.0)
    )
    await h.until(lambda: "bot_said" in h.kinds())
    assert h.dialogue.sent == [(QUESTION, "nl")]
    assert h.events("language") == []
    assert h.session.language == "nl"
    await h.finish()


async def test_a_short_english_word_does_not_switch_a_dutch_caller(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    for word in ("DigiD.", "Okay.", "Sorry?"):
        h.session.inputs.put_nowait(
            spoken_after_disclosure(h, word, (("en", 0.99),), language="en", speech_s=0.6)
        )
    await h.until(lambda: len(h.dialogue.sent) == 3)
    assert [lang for _, lang in h.dialogue.sent] == ["nl", "nl", "nl"]
    assert h.events("language") == []
    await h.finish()
    assert h.records.call("call-1")["language"] == "nl"  # type: ignore[index]


async def test_key_9_still_switches_and_says_so(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    h.session._on_dtmf("9")
    await h.until(lambda: len(h.dialogue.sent) == 1)
    (event,) = h.events("language")
    assert event["language"] == "en" and event["source"] == "key"
    await h.finish()


POLISH = (("pl", 0.97), ("ru", 0.01))
POLISH_TEXT = "Dzień dobry, mam pytanie o emeryturę."


async def test_an_unserved_language_hears_a_sentence_and_reaches_the_queue(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.voices["pl"] = FakeTts("pl")
    await h.start()
    lid = h.session.settings.language_id
    h.session.inputs.put_nowait(spoken_after_disclosure(h, POLISH_TEXT, POLISH, language="pl"))
    await h.until(lambda: "queued" in h.kinds())
    # one English sentence, then theirs; Rasa is not asked (it speaks neither)
    assert h.voices["en"].texts[0] == lid.other_sentence_en.split(". ")[0] + "."
    assert h.voices["pl"].texts == [lid.other["pl"].sentence]
    assert h.dialogue.sent == []
    (event,) = h.events("language")
    assert event == {**event, "language": "pl", "source": "speech", "served": False}
    assert event["probability"] == 0.97
    (handoff,) = h.events("handoff")
    assert handoff["queue"] == "general" and handoff["reason"] == "other language"
    summary = handoff["summary"]
    assert summary["language"] == "pl" and summary["language_probability"] == 0.97
    assert summary["spoken"].startswith("Beller spreekt Pools, herkend met 97 procent zekerheid.")
    assert "een taal die de assistent niet spreekt" in summary["spoken"]
    (ticket,) = h.queue.waiting()
    assert ticket.language == "pl"
    await h.finish()
    assert h.records.call("call-1")["language"] == "pl"  # type: ignore[index]


async def test_an_unserved_language_goes_to_its_skill_queue_when_there_is_one(
    tmp_path: Path,
) -> None:
    conf = settings(QUEUE__QUEUES="[pools, english]", LANGUAGE_ID__OTHER__PL__QUEUE="pools")
    h = harness(tmp_path, conf=conf)
    h.voices["pl"] = FakeTts("pl")
    await h.start()
    h.session.inputs.put_nowait(spoken_after_disclosure(h, POLISH_TEXT, POLISH, language="pl"))
    await h.until(lambda: "queued" in h.kinds())
    assert h.events("handoff")[0]["queue"] == "pools"
    assert h.events("queued")[0]["queue"] == "pools"
    await h.finish()


async def test_an_unsure_unserved_language_stays_with_the_assistant(tmp_path: Path) -> None:
    h = harness(tmp_path)
    await h.start()
    unsure = (("pl", 0.6), ("nl", 0.3))
    h.session.inputs.put_nowait(spoken_after_disclosure(h, POLISH_TEXT, unsure, language="nl"))
    await h.until(lambda: "bot_said" in h.kinds())
    assert h.dialogue.sent == [(POLISH_TEXT, "nl")]
    assert "handoff" not in h.kinds()
    await h.finish()
