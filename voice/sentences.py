"""Sentence splitting for speech synthesis (Dutch and English).

TTS speaks sentence by sentence so the first sentence plays while the next is
synthesized; a wrong split costs an audible pause in the middle of a phrase.
So this splits only where a sentence really ends: after ``.``, ``!``, ``?``
or ``…`` (plus closing quotes/brackets) followed by white space — never
inside "bijv.", "o.a.", "e.g.", "Dr. Jansen", "J.P. Balkenende", "10.30 uur",
"0800-0543", "€ 1.250,00", "www.rijksoverheid.nl" — and at line breaks. Very
long sentences are cut at a comma or semicolon so no single piece keeps the
caller waiting.
"""

from __future__ import annotations

import re

# Abbreviations that (practically) never end a sentence: the next word belongs to
# the same sentence even when it is capitalised ("bijv. Utrecht", "Dr. Jansen").
# Lower-cased, without the final dot.
_NEVER_FINAL = frozenset(
    """
    bijv bv vb o.a a.u.b aub s.v.p svp t.a.v tav i.v.m ivm m.b.t mbt m.u.v i.p.v ipv
    d.w.z dwz z.s.m zsm n.a.v nav t.z.t tzt v.a resp incl excl evt vgl
    dhr mevr mw mr dr drs ir prof st nr nrs tel art blz pag mln mld
    e.g i.e approx dept mrs ms jr sr fig ref
    """.split()
)
# Abbreviations that also end sentences ("…, enz. Daarna …", "Open tot 5 p.m. Sluit …"):
# a sentence ends only when a capital follows.
_MAYBE_FINAL = frozenset(
    """
    enz etc e.d o.i.d co inc ltd a.m p.m ca min max vs no
    jan feb mrt apr jun jul aug sep sept okt oct nov dec
    ma di wo do vr za zo mon tue wed thu fri sat sun
    """.split()
)

_TERMINATORS = ".!?…"
_CLOSERS = "\"'”’»)]"
# A candidate end: terminators, optional closers, then white space.
_END = re.compile(rf"[{re.escape(_TERMINATORS)}]+[{re.escape(_CLOSERS)}]*(?=\s)")
_WORD_BEFORE = re.compile(r"(\S+)$")
_NEXT_WORD = re.compile(r"\s+(\S)")
_CLAUSE_BREAK = re.compile(r"[,;:]\s+|\s+[–—-]\s+")

DEFAULT_MAX_CHARS = 250


def split_sentences(text: str, max_chars: int | None = DEFAULT_MAX_CHARS) -> list[str]:
    """Split ``text`` into sentences (stripped, non-empty), in order.

    ``max_chars``: a longer sentence is further cut after a comma/semicolon/colon or
    dash near the limit (``None``: never).
    """
    out: list[str] = []
    for block in re.split(r"\s*\n\s*", text):
        out.extend(_split_block(block))
    if max_chars is not None:
        out = [piece for sentence in out for piece in _cut_long(sentence, max_chars)]
    return out


def _split_block(block: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for match in _END.finditer(block):
        if _is_sentence_end(block, start, match):
            piece = block[start : match.end()].strip()
            if piece:
                sentences.append(piece)
            start = match.end()
    rest = block[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def _is_sentence_end(block: str, start: int, match: re.Match[str]) -> bool:
    marks = match.group()
    if any(c in marks for c in "!?…") or marks.count(".") > 1:
        return True  # "Echt?" / "Zo!" / "en dan..."
    if marks[-1] in _CLOSERS:
        return True  # 'Hij zei: "Kom maar."' — a quoted sentence ends here
    before = _WORD_BEFORE.search(block, start, match.start())
    word = before.group(1) if before else ""
    following = _NEXT_WORD.match(block, match.end())
    next_char = following.group(1) if following else ""
    if not next_char:
        return True
    bare = word.lstrip("(\"'“‘«").lower()
    if bare in _NEVER_FINAL:
        return False
    if len(word) == 1 and word.isupper():
        return False  # an initial: "J. de Vries" (but "Wij helpen u. Dag!" ends)
    if re.fullmatch(r"(?:[a-z]\.)+[a-z]", bare):
        # dotted abbreviation such as "a.s.", "v.d.", "e.a."
        return next_char.isupper() and bare in _MAYBE_FINAL
    if bare in _MAYBE_FINAL:
        return next_char.isupper()
    # A lower-case continuation after a dot is not a new sentence: it is an
    # abbreviation we do not know ("ca. 5 min. wachten", "zgn. digitale …").
    return not next_char.islower()


def _cut_long(sentence: str, max_chars: int) -> list[str]:
    pieces: list[str] = []
    rest = sentence
    while len(rest) > max_chars:
        cut = 0
        for match in _CLAUSE_BREAK.finditer(rest, 0, max_chars + 1):
            if match.start() >= max_chars // 3:
                cut = match.end()
        if not cut:
            break  # no good place: keep it whole rather than break a phrase
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces
