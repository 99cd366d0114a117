"""When has the caller finished? A guess from the words so far, in a fraction of a second.

Sans-IO: text in, a verdict out. Whisper punctuates ("When is it paid?"), Vosk does not
("wanneer wordt het betaald"); both end on a filler or a linking word when the
caller is still thinking ("ik wil eh", "my question is about the").
"""

from __future__ import annotations

import re
from enum import Enum


class TurnGuess(Enum):
    COMPLETE = "complete"
    """End the turn now."""
    HESITANT = "hesitant"
    """Wait longer: the caller is searching for words."""
    UNKNOWN = "unknown"
    """Use the default trailing silence."""


FILLERS = frozenset("eh ehm uh uhm um hm hmm ah euh".split())
# words a finished sentence rarely ends on (articles, prepositions, conjunctions, "my")
LINKING = frozenset(
    """
    de het een en of maar want dus dat die van voor naar met over om op in aan bij als
    mijn uw zijn haar ons onze is ben heb wil kan moet
    the a an and or but so that of for to with about at on in by my your his her our is am
    i want need have
    """.split()
)
QUESTION_START = frozenset(
    """
    wanneer hoe hoeveel wat waar wie welke waarom kan kun mag moet is zijn heb hebben
    when how what where who which why can could may must is are do does will
    """.split()
)
_WORD = re.compile(r"[\w']+", re.UNICODE)


def guess_turn(text: str) -> TurnGuess:
    stripped = text.strip()
    words = [w.lower() for w in _WORD.findall(stripped)]
    if not words:
        return TurnGuess.UNKNOWN
    if stripped.endswith(("...", "…", ",", "-")) or words[-1] in FILLERS:
        return TurnGuess.HESITANT
    if words[-1] in LINKING:
        return TurnGuess.HESITANT
    if stripped.endswith("?"):
        return TurnGuess.COMPLETE
    if stripped.endswith((".", "!")) and len(words) >= 2:
        return TurnGuess.COMPLETE
    if len(words) >= 3 and words[0] in QUESTION_START:
        return TurnGuess.COMPLETE
    return TurnGuess.UNKNOWN
