"""The Whisper hallucination guard, on the numbers measured for tiny.en (no model)."""

from __future__ import annotations

import zlib

import pytest

from voice.stt_whisper import HallucinationGuard, WhisperResult, repeats


def result(text: str, no_speech: float, logprob: float) -> WhisperResult:
    data = text.encode()
    ratio = len(data) / len(zlib.compress(data)) if data else 0.0
    return WhisperResult(text, text, no_speech, logprob, ratio, 10.0)


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("No? No? No? No? No?", "No?"),
        ("0 0 0 0 0 0 0 0 0 0", "0"),
        ("Zero. Zero. zero", "Zero."),
        ("thank you thank you thank you", "thank you"),
        ("Beep Beep Beep Beep Beep Beep Beep", "Beep"),
        ("No? No?", "No?"),  # twice: kept once, no re-run
        ("bye bye", "bye"),
        ("Yes.", ""),
        ("I want to renew my passport", ""),
        ("the the the cat", ""),
        (". . . .", ""),
        ("", ""),
    ],
)
def test_repeats(text: str, unit: str) -> None:
    assert repeats(text)[0] == unit
    assert (repeats(text)[1] >= 2) == bool(unit)


guard = HallucinationGuard()


@pytest.mark.parametrize(
    ("text", "no_speech", "logprob"),
    [
        ("Yes.", 0.69, -0.59),  # the worst of 300 renderings of "Yes."; 0.7 used to drop it
        ("Bye", 0.78, -1.07),
        ("Agent.", 0.61, -0.73),
        ("When is the state pension paid?", 0.05, -0.3),
    ],
)
def test_short_answers_are_kept(text: str, no_speech: float, logprob: float) -> None:
    judged = guard.judge(result(text, no_speech, logprob))
    assert judged.text == text, judged.rejected


@pytest.mark.parametrize(
    ("text", "no_speech", "logprob", "why"),
    [
        ("I'm gonna go to the left.", 0.94, -1.91, "no_speech_prob"),  # white noise
        (". . . . . . . . . . . . . .", 0.96, -0.20, "no_speech_prob"),  # good logprob
        ("I'm gonna be right back.", 0.75, -1.93, "avg_logprob"),  # a cough-like burst
        ("Beep Beep Beep Beep Beep Beep Beep", 0.81, -0.28, "no_speech_prob 0.81 and a loop"),
        (". . . .", 0.5, -0.3, "no words"),
    ],
)
def test_non_speech_is_rejected(text: str, no_speech: float, logprob: float, why: str) -> None:
    judged = guard.judge(result(text, no_speech, logprob))
    assert judged.text == ""
    assert judged.rejected.startswith(why)


def test_a_loop_heard_with_confidence_is_kept_once() -> None:
    judged = guard.judge(result("0 0 0 0 0 0 0 0 0 0", 0.3, -0.8))
    assert judged.text == "0"
    assert judged.raw_text == "0 0 0 0 0 0 0 0 0 0"


def test_a_long_loop_inside_speech_is_rejected() -> None:
    text = "I would like " + "to speak to " * 12
    judged = guard.judge(result(text, 0.05, -0.4))
    assert judged.rejected.startswith("repetition")


def test_a_doubtful_repeat_said_twice_is_kept_once() -> None:
    judged = guard.judge(result("Bye bye", 0.75, -0.9))
    assert judged.text == "Bye"


@pytest.mark.parametrize(
    ("text", "no_speech", "logprob", "why"),
    [
        # Whisper base, language nl (measured): white/brown noise and clicks
        ("MUZIEK.", 0.76, -0.33, "no_speech_prob 0.76 and subtitle-style capitals"),
        ("MUZIEK.", 0.88, -0.35, "no_speech_prob 0.88 and subtitle-style capitals"),
        ("TV GELDERLAND 2021", 0.68, -0.68, "no_speech_prob 0.68 and subtitle-style"),
        ("Ondertiteling door de Amara.org gemeenschap", 0.3, -0.4, "a subtitle credit"),
    ],
)
def test_dutch_subtitle_artefacts_are_rejected(
    text: str, no_speech: float, logprob: float, why: str
) -> None:
    judged = guard.judge(result(text, no_speech, logprob))
    assert judged.text == ""
    assert judged.rejected.startswith(why)


@pytest.mark.parametrize(
    ("text", "no_speech"),
    [
        ("UWV.", 0.05),  # capitals from real speech: no_speech_prob stays low (≤ 0.22 measured)
        ("AOW", 0.22),
        ("Hallo", 0.7),  # lower case: not the artefact
    ],
)
def test_capitals_from_speech_are_kept(text: str, no_speech: float) -> None:
    assert guard.judge(result(text, no_speech, -0.4)).text == text


PROMPT = "Vragen aan de Rijksoverheid over de AOW, het UWV, DUO, DigiD of een medewerker."
prompted = HallucinationGuard(prompt=PROMPT)


def test_noise_reciting_the_prompt_is_rejected() -> None:
    # base, beam 5, white noise -20 dBFS (measured)
    judged = prompted.judge(
        result("Vragen aan de Rijksoverheid over de AOW, het UWV.", 0.87, -0.77)
    )
    assert judged.rejected.startswith("no_speech_prob 0.87 and the prompt's words")


@pytest.mark.parametrize("text", ["Ik heb een vraag over de AOW.", "Wanneer wordt de AOW betaald?"])
def test_a_question_with_the_prompts_words_is_kept(text: str) -> None:
    assert prompted.judge(result(text, 0.05, -0.4)).text == text
    assert prompted.judge(result("Vragen aan de Rijksoverheid over de AOW", 0.1, -0.4)).text
