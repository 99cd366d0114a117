"""records.redaction over the labelled set (tests/data/redaction_set.jsonl) and in detail."""

from __future__ import annotations

import pytest

from bench.redaction import load, score
from records.redaction import redact


@pytest.fixture(scope="module")
def figures() -> dict[str, object]:
    return score(load())


def test_the_set_is_big_enough_in_both_languages() -> None:
    rows = load()
    dirty = [r for r in rows if r["items"]]
    clean = [r for r in rows if not r["items"]]
    assert len(dirty) >= 300 and len(clean) >= 100
    assert {r["language"] for r in dirty} == {"nl", "en"}
    assert sum(r["form"] in ("spoken", "hard") for r in dirty) >= 40


def test_identifiers_are_caught(figures: dict[str, object]) -> None:
    assert figures["recall_identifiers"] >= 0.99, figures["misses"]


def test_names_are_caught(figures: dict[str, object]) -> None:
    assert figures["recall_names"] >= 0.95, figures["misses"]


def test_clean_lines_come_out_unchanged(figures: dict[str, object]) -> None:
    assert figures["clean_altered_rate"] <= 0.03, figures["false_alarms"]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("mijn bsn is een twee drie vier vijf zes zeven acht twee", "nl", "mijn bsn is [BSN]"),
        ("bel me op nul zes een twee drie vier vijf zes zeven acht", "nl", "bel me op [TELEFOON]"),
        ("call me on zero six one two three four five six seven eight", "en", "call me on [PHONE]"),
        ("Mijn IBAN is NL91 ABNA 0417 1643 00.", "nl", "Mijn IBAN is [IBAN]."),
        ("Goedemiddag, met Jan de Vries.", "nl", "Goedemiddag, met [NAAM]."),
        ("My name is John Smith.", "en", "My name is [NAME]."),
        ("Ik ben geboren op 12 maart 1956.", "nl", "Ik ben geboren op [GEBOORTEDATUM]."),
        ("Postcode 3511 AB 12", "nl", "Postcode [POSTCODE]"),
        ("Mijn kenteken is GV-123-B.", "nl", "Mijn kenteken is [KENTEKEN]."),
    ],
)
def test_placeholders(text: str, language: str, expected: str) -> None:
    assert redact(text, language).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "Bel 0800-0543.",
        "bel nul acht nul nul nul vijf vier drie",
        "De gemeente: 14 020.",
        "Kijk op 0900-1234567.",
        "Het kenmerk is 123456789.",  # no 11-proef, no BSN cue: a reference, not a BSN
        "Ik heb een vraag over de huurtoeslag.",
        "Ik ben zeventig jaar.",
    ],
)
def test_public_numbers_and_ordinary_lines_stay(text: str) -> None:
    assert redact(text).text == text


def test_found_spans_point_into_the_original_words() -> None:
    text = "ja mijn bsn is een twee drie vier vijf zes zeven acht twee dank u"
    out = redact(text)
    [(kind, (start, end))] = out.found
    assert kind == "bsn"
    assert text[start:end] == "een twee drie vier vijf zes zeven acht twee"


def test_an_invalid_bsn_after_its_name_is_still_taken_out() -> None:
    # misheard check digit: the cue says what it is
    assert redact("mijn bsn is 123456789").text == "mijn bsn is [BSN]"


def test_the_helplines_own_texts_come_out_unchanged() -> None:
    """Prompts and Rasa's answers (with their public numbers and sites) are not personal."""
    from config.settings import load_settings
    from voice.prompts import fixed_texts

    texts = fixed_texts(load_settings())
    assert len(texts) > 50
    changed = [(t, redact(t, lang).text) for lang, t in texts if redact(t, lang).text != t]
    assert changed == []


def test_the_spoken_form_has_words_a_voice_says() -> None:
    from voice.speech_text import for_speech

    out = redact("bel me op 0612345678, mijn naam is Jan de Vries", spoken=True).text
    assert out == "bel me op telefoonnummer, mijn naam is naam"
    assert "[" not in for_speech(out, "nl")
