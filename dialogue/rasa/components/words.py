"""Word matching for the pipeline components, without Rasa (the gateway's tests use it).

* ``compile_lists`` / ``first_match``: the safety net's regex word lists, matched
  case-insensitively anywhere in the text, apostrophes normalised.
* ``stems``: a message's content words, first five letters (topic evidence).
"""

from __future__ import annotations

import re

STEM = 5
# Words that say nothing about a topic (Dutch and English, as callers and Whisper write).
STOP = frozenset(
    """
    aan al als ben bij dan dat de deze die dit doe doen dus een eh ehm en er geen had
    heb hebben heeft het hij hoe hun ik in is je jij jullie kan kun kunnen kunt maar
    mag me meer met mij mijn moet moeten na naar niet nog nu of om ons onze ook op
    over te tot u uw van voor waar wanneer want was wat we wel welk welke werd wie wij
    wil wilde word wordt worden ze zij zijn zo zou zullen graag even
    about all also am an and any are at be been but by can could did do does for from
    get got had has have he her him his how if in into is it its just me my no not of
    on or our please she so some than that the their them then there they this to up
    us was we were what when where which who why will with would you your yes okay ok
    """.split()
)

WordLists = list[tuple[str, re.Pattern[str]]]


def compile_lists(patterns: dict[str, list[str]]) -> WordLists:
    """One case-insensitive regex per non-empty word list, in the given order."""
    return [
        (name, re.compile("|".join(f"(?:{p})" for p in found), re.IGNORECASE))
        for name, found in patterns.items()
        if found
    ]


def first_match(lists: WordLists, text: str) -> str | None:
    """The name of the first list with a pattern found in ``text``."""
    text = text.replace("’", "'")
    return next((name for name, rx in lists if rx.search(text)), None)


def stems(text: str) -> set[str]:
    words = re.findall(r"[^\W_]+", text.lower())
    return {w[:STEM] for w in words if len(w) > 2 and w not in STOP}
