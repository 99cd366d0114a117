"""Spoken forms the first rule set missed: mobile and +31 numbers, numeric dates, years,
times written "8.30", cents alone, counts that look like service numbers, and the
English key prompt inside the Dutch greeting."""

from __future__ import annotations

import pytest

from voice.speech_text import for_speech


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Bel 06-12345678.", "Bel nul zes, één twee drie vier, vijf zes zeven acht."),
        ("bel 06 1234 5678", "bel nul zes, één twee drie vier, vijf zes zeven acht"),
        (
            "bel +31 20 123 4567",
            "bel plus eenendertig, twee nul, één twee drie, vier vijf zes zeven",
        ),
        (
            "bel +31 (0)6 12345678",
            "bel plus eenendertig, zes, één twee drie vier, vijf zes zeven acht",
        ),
        ("vanaf 1-7-2025", "vanaf één juli tweeduizend vijfentwintig"),
        ("op 31/12/2024", "op eenendertig december tweeduizend vierentwintig"),
        ("sinds 1995", "sinds negentienhonderdvijfennegentig"),
        ("in 2025", "in tweeduizend vijfentwintig"),
        ("8-20 uur", "acht tot twintig uur"),  # still a range, not a date
        # times with a dot and no "uur", and ranges of times
        ("om 8.30 open", "om acht uur dertig open"),
        ("van 8.30 tot 17.00 uur", "van acht uur dertig tot zeventien uur"),
        ("8.00-20.00 uur", "acht uur tot twintig uur"),
        ("ongeveer 1.500 euro", "ongeveer duizend vijfhonderd euro"),  # thousands, no time
        ("€ 0,50", "vijftig cent"),
        ("binnen 112 dagen", "binnen honderdtwaalf dagen"),  # a count, not the number
        # the greeting's English sentence, said by the Dutch voice (espeak-ng: n'Ajn)
        ("For English, press 9.", "For English, press nain."),
    ],
)
def test_dutch(written: str, spoken: str) -> None:
    assert for_speech(written, "nl") == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("call 06-12345678", "call zero six, one two three four, five six seven eight"),
        (
            "call +31 20 123 4567",
            "call plus three one, two zero, one two three, four five six seven",
        ),
        ("from 1-7-2025", "from the first of July twenty twenty-five"),
        ("on 31/12/2024", "on the thirty-first of December twenty twenty-four"),
        ("since 1995", "since nineteen ninety-five"),
        ("from 2000 euros", "from two thousand euros"),  # an amount, not a year
        ("within 112 days", "within one hundred and twelve days"),
        ("For English, press 9.", "For English, press nine."),
    ],
)
def test_english(written: str, spoken: str) -> None:
    assert for_speech(written, "en") == spoken
