"""Personal data out of caller text: typed placeholders instead of BSNs, IBANs, names …

Pure (no I/O): ``redact(text, language)`` returns the text with each item replaced by a
placeholder such as ``[BSN]`` or ``[TELEFOON]`` and the list of what was found where.

Structured identifiers are validated, not guessed: the BSN's 11-proef (``stdnum.nl.bsn``),
the IBAN's mod-97 (``stdnum.iban``), phone numbers through ``phonenumbers``. A speech
recogniser writes digits as words ("een twee drie …", "zero six one …"), so runs of digit
words are turned into digits first (detection runs on that normalised text) and the
original words are what gets replaced. The helpline's own public service numbers
(0800-…, 0900-…, 14 0xx) are not personal and stay.

Names come from cues ("mijn naam is", "ik heet", "met <Naam>" in a greeting, "my name
is", "this is") and a small gazetteer of first names and surnames with tussenvoegsels.
What it misses is measured by ``bench/redaction.py`` on ``tests/data/redaction_set.jsonl``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

from records.names import FIRST_NAMES, NAME_STOPWORDS, SURNAMES, TUSSENVOEGSELS

KINDS = (
    "bsn", "iban", "phone", "email", "postcode", "address", "birth_date", "name", "plate",
    "document",
)  # fmt: skip

LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "bsn": "BSN", "iban": "IBAN", "phone": "TELEFOON", "email": "EMAIL",
        "postcode": "POSTCODE", "address": "ADRES", "birth_date": "GEBOORTEDATUM",
        "name": "NAAM", "plate": "KENTEKEN", "document": "DOCUMENTNUMMER",
    },
    "en": {
        "bsn": "BSN", "iban": "IBAN", "phone": "PHONE", "email": "EMAIL",
        "postcode": "POSTCODE", "address": "ADDRESS", "birth_date": "DATE_OF_BIRTH",
        "name": "NAME", "plate": "LICENCE_PLATE", "document": "DOCUMENT_NUMBER",
    },
}  # fmt: skip

SPOKEN_LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "bsn": "BSN", "iban": "rekeningnummer", "phone": "telefoonnummer", "email": "e-mailadres",
        "postcode": "postcode", "address": "adres", "birth_date": "geboortedatum",
        "name": "naam", "plate": "kenteken", "document": "documentnummer",
    },
    "en": {
        "bsn": "BSN", "iban": "account number", "phone": "phone number", "email": "email address",
        "postcode": "postcode", "address": "address", "birth_date": "date of birth",
        "name": "name", "plate": "licence plate", "document": "document number",
    },
}  # fmt: skip
"""Placeholders for text that is read aloud (the agent's whisper): a voice would spell
``[TELEFOON]`` out letter by letter; "telefoonnummer" it says as a word."""

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    found: list[tuple[str, Span]]
    """(kind, (start, end)) in the *original* text, in order."""


# ---------------------------------------------------------------- spoken digits

DIGIT_WORDS = {
    "nul": "0", "een": "1", "één": "1", "eén": "1", "twee": "2", "drie": "3", "vier": "4",
    "vijf": "5", "zes": "6", "zeven": "7", "acht": "8", "negen": "9",
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
DOUBLE_WORDS = {"dubbel", "double"}
PLUS_WORDS = {"plus"}
_TOKEN = re.compile(r"\S+")
_EDGE_PUNCT = ".,;:!?\"'()"


@dataclass(slots=True)
class _Normal:
    """Text with spoken digit runs as digits, and where each character came from."""

    text: str
    starts: list[int]
    ends: list[int]

    def original(self, start: int, end: int) -> Span:
        return self.starts[start], self.ends[end - 1]


TEENS = {
    "tien": 10, "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14, "vijftien": 15,
    "zestien": 16, "zeventien": 17, "achttien": 18, "negentien": 19,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {
    "twintig": 20, "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60, "zeventig": 70,
    "tachtig": 80, "negentig": 90,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
NL_UNITS = {w: int(d) for w, d in DIGIT_WORDS.items() if w in
            "een één eén twee drie vier vijf zes zeven acht negen".split()}  # fmt: skip
_COMPOUND = re.compile(r"^(\w+?)[eë]n(\w+)$")


def _digit_of(word: str) -> str | None:
    """The digits a spoken number word stands for ("zes" 6, "vierendertig" 34, "twelve" 12)."""
    low = word.strip(_EDGE_PUNCT).lower()
    if low in DIGIT_WORDS:
        return DIGIT_WORDS[low]
    if low in TEENS:
        return str(TEENS[low])
    if low in TENS:
        return str(TENS[low])
    m = _COMPOUND.match(low)  # Dutch "drieëntwintig", "vierendertig"
    if m and m.group(1) in NL_UNITS and m.group(2) in TENS:
        return str(TENS[m.group(2)] + NL_UNITS[m.group(1)])
    return None


def normalise(text: str) -> _Normal:
    """Runs of two or more digit words become one run of digits (a lone "een" is "a")."""
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0

    def copy(upto: int) -> None:
        nonlocal pos
        for i in range(pos, upto):
            chars.append(text[i])
            starts.append(i)
            ends.append(i + 1)
        pos = max(pos, upto)

    i = 0
    while i < len(tokens):
        run: list[tuple[str, int, int]] = []  # (digits, start, end)
        j = i
        if tokens[j][2].lower() in PLUS_WORDS and j + 1 < len(tokens):
            run.append(("+", tokens[j][0], tokens[j][1]))
            j += 1
        while j < len(tokens):
            word = tokens[j][2]
            digit = _digit_of(word)
            if digit is not None:
                run.append((digit, tokens[j][0], tokens[j][1]))
                j += 1
            elif word.lower() in DOUBLE_WORDS and j + 1 < len(tokens):
                nxt = _digit_of(tokens[j + 1][2])
                if nxt is None:
                    break
                run.append((nxt * 2, tokens[j][0], tokens[j + 1][1]))
                j += 2
            else:
                break
        words = sum(1 for d, _, _ in run if d != "+")
        if words >= 2:  # a lone word ("een", "zeventig") is a word, not a number read out
            copy(tokens[i][0])
            for piece, start, end in run:
                for ch in piece:
                    chars.append(ch)
                    starts.append(start)
                    ends.append(end)
            pos = run[-1][2]
            i = j
        else:
            i += 1
    copy(len(text))
    return _Normal("".join(chars), starts, ends)


# ---------------------------------------------------------------- detectors

Found = Iterator[Span]
MASK = "#"


def _compact(s: str) -> str:
    return re.sub(r"[\s.\-/]", "", s)


SERVICE_NUMBER = re.compile(r"(?<![\d+])(?:0[89]00|0900)[ \-]?\d{2,3}[ \-]?\d{2}(?:\d{3})?(?!\d)")
SERVICE_14 = re.compile(r"(?<![\d+])(?<![\d+][ \-.])14[ \-]?0\d{2,3}(?![ \-.]?\d)")

EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.I)
SPOKEN_EMAIL = re.compile(
    r"\b[\w\-]+(?:\s+(?:punt|dot|streepje|dash)\s+[\w\-]+)*\s+(?:apenstaartje|at)\s+"
    r"[\w\-]+(?:\s+(?:punt|dot)\s+[\w\-]+)*\s+(?:punt|dot)\s+(?:nl|com|org|net|eu|be|de|info)\b",
    re.I,
)


MAIL_PROVIDERS = (
    r"(?:gmail|hotmail|outlook|live|ziggo|kpnmail|kpnplanet|planet|home|xs4all|yahoo|icloud|"
    r"upcmail|casema|chello|hetnet|telfort|online|proton|protonmail)"
)
# "pietje at ziggo.nl": "at" is also a word ("apply at digid.nl"), so only a mail provider
HALF_SPOKEN_EMAIL = re.compile(
    rf"\b[\w.\-]+\s+(?:apenstaartje\s+[\w\-]+|at\s+{MAIL_PROVIDERS})(?:\.[\w\-]+)*"
    r"\.(?:nl|com|org|net|eu|be|de|info)\b",
    re.I,
)


def _emails(t: str) -> Found:
    for rx in (EMAIL, SPOKEN_EMAIL, HALF_SPOKEN_EMAIL):
        for m in rx.finditer(t):
            yield m.span()


IBAN_CANDIDATE = re.compile(r"\b[A-Z]\s?[A-Z]\s?\d\s?\d(?:[ \-]?[A-Z0-9]){10,30}", re.I)
NL_IBAN_SHAPE = re.compile(r"\bNL\s?\d{2}\s?(?:[A-Z]\s?){4}(?:\d[ \-]?){9}\d\b", re.I)


def _ibans(t: str) -> Found:
    for m in IBAN_CANDIDATE.finditer(t):
        s = m.group()
        # the match may run on into the next words: the longest valid prefix wins
        for end in range(len(s), 14, -1):
            if end < len(s) and s[end].isalnum() and s[end - 1].isalnum():
                continue  # only cut at a separator
            if stdnum_iban.is_valid(_compact(s[:end])):
                yield m.start(), m.start() + end
                break
    for m in NL_IBAN_SHAPE.finditer(t):  # a misheard check digit still is an account
        yield m.span()


PHONE_CUE = re.compile(
    r"\b(?:telefoon\w*|nummer|mobiel\w*|bel (?:me|mij)|terugbellen|phone|number|call me|"
    r"reach me|mobile|cell)\b",
    re.I,
)
LOOSE_PHONE = re.compile(r"(?<![\d+])(?:\+|00)?\d(?:[ \-.]?\(?\d\)?){8,13}(?!\d)")
NL_PHONE = re.compile(r"(?<![\d+])(?:\+31|0031|0)[ \-]?(?:\(0\)[ \-]?)?[1-9](?:[ \-]?\d){8}(?!\d)")


def _phones(t: str, language: str) -> Found:
    regions = ("NL", "GB") if language == "en" else ("NL",)
    for region in regions:
        for pm in phonenumbers.PhoneNumberMatcher(t, region, leniency=phonenumbers.Leniency.VALID):
            yield pm.start, pm.end
    for m in NL_PHONE.finditer(t):
        yield m.span()
    # in a phone context any long digit run is a number, valid or misheard
    for cue in PHONE_CUE.finditer(t):
        window = t[cue.end() : cue.end() + 60]
        for m in LOOSE_PHONE.finditer(window):
            if len(re.sub(r"\D", "", m.group())) >= 9:
                yield cue.end() + m.start(), cue.end() + m.end()


BSN_CANDIDATE = re.compile(r"(?<![\d\w])\d(?:[ .\-]?\d){7,8}(?![\d])")
BSN_CUE = re.compile(
    r"\b(?:bsn|burgerservicenummer|burger ?service ?nummer|sofi-?nummer|"
    r"citizen service number|social security number)\b",
    re.I,
)


def _bsns(t: str) -> Found:
    for m in BSN_CANDIDATE.finditer(t):
        digits = _compact(m.group())
        if len(digits) == 9 and stdnum_bsn.is_valid(digits):
            yield m.span()
    for cue in BSN_CUE.finditer(t):  # after its name, a 9-digit number is one even if misheard
        window = t[cue.end() : cue.end() + 40]
        found = BSN_CANDIDATE.search(window)
        if found and len(_compact(found.group())) >= 8:
            yield cue.end() + found.start(), cue.end() + found.end()


LETTER = "[BCDFGHJKLMNPRSTVXZ]"
_SIDECODES = [
    "LL-DD-DD", "DD-DD-LL", "DD-LL-DD", "LL-DD-LL", "LL-LL-DD", "DD-LL-LL", "DD-LLL-D",
    "D-LLL-DD", "LL-DDD-L", "L-DDD-LL", "LLL-DD-L", "L-DD-LLL", "D-LL-DDD", "DDD-LL-D",
]  # fmt: skip


def _sidecode(code: str, sep: str) -> str:
    parts = []
    for group in code.split("-"):
        parts.append("".join(LETTER if c == "L" else r"\d" for c in group))
    return sep.join(parts)


PLATE_DASHED = re.compile(
    r"(?<![\w-])(?:" + "|".join(_sidecode(c, "-") for c in _SIDECODES) + r")(?![\w-])", re.I
)
PLATE_LOOSE = re.compile(
    r"(?<![\w-])(?:" + "|".join(_sidecode(c, r"[ \-]?") for c in _SIDECODES) + r")(?![\w-])",
    re.I,
)
PLATE_CUE = re.compile(
    r"\b(?:kenteken\w*|nummerbord|nummerplaat|licen[cs]e plate|number plate|registration)\b",
    re.I,
)


def _spelled(window: str, length: int) -> tuple[int, int] | None:
    """Single letters/digits or short chunks, spaced, that join to *length* characters."""
    tokens = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[A-Za-z0-9\-]+", window)]
    for i in range(len(tokens)):
        joined = ""
        for j in range(i, len(tokens)):
            piece = tokens[j][2].replace("-", "")
            if len(piece) > 9 or (len(piece) > 3 and not any(c.isdigit() for c in piece)):
                break  # a word, not a spelled code
            joined += piece
            if len(joined) == length:
                if any(c.isdigit() for c in joined) and any(c.isalpha() for c in joined):
                    return tokens[i][0], tokens[j][1]
                break
            if len(joined) > length:
                break
    return None


def _plates(t: str) -> Found:
    for dashed in PLATE_DASHED.finditer(t):
        yield dashed.span()
    for cue in PLATE_CUE.finditer(t):
        window = t[cue.end() : cue.end() + 40]
        loose = PLATE_LOOSE.search(window)
        if loose:
            yield cue.end() + loose.start(), cue.end() + loose.end()
            continue
        spelled = _spelled(window, 6)
        if spelled:
            yield cue.end() + spelled[0], cue.end() + spelled[1]


DOCUMENT_CUE = re.compile(
    r"\b(?:paspoort\w*|identiteitskaart\w*|id-kaart\w*|id kaart|documentnummer|"
    r"rijbewijs\w*|verblijfs\w+|passport\w*|document number|identity card|id card|"
    r"driving licen[cs]e|driver'?s licen[cs]e)\b",
    re.I,
)
DOCUMENT = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{8,10}\b", re.I)


def _documents(t: str) -> Found:
    for cue in DOCUMENT_CUE.finditer(t):
        window = t[cue.end() : cue.end() + 80]
        m = DOCUMENT.search(window)
        if m:
            yield cue.end() + m.start(), cue.end() + m.end()
            continue
        spelled = _spelled(window, 9)
        if spelled:
            yield cue.end() + spelled[0], cue.end() + spelled[1]


NUMBER_WORD = (
    r"(?:\d+[a-z]?|\w*(?:een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|"
    r"tig|honderd|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|teen|ty))"
)
HOUSE_NUMBER = rf"{NUMBER_WORD}(?:[ \-]?(?:[a-z]|bis|hs|huis|boven)\b)?"
POSTCODE = re.compile(
    rf"(?<!\d)[1-9]\d{{3}} ?(?!SA|SD|SS)[A-Z]{{2}}\b(?:,?\s+(?:huisnummer\s+)?{HOUSE_NUMBER})?"
)
SPOKEN_POSTCODE = re.compile(
    rf"(?<!\d)[1-9]\d{{3}} [a-z] [a-z]\b(?:,?\s+(?:huisnummer\s+)?{HOUSE_NUMBER})?", re.I
)
POSTCODE_CUE = re.compile(
    rf"\b(?:postcode|zip code|post code)\s+(?:is\s+)?([1-9]\d{{3}} ?[a-z]{{2}}\b"
    rf"(?:,?\s+(?:huisnummer\s+)?{HOUSE_NUMBER})?)",
    re.I,
)


def _postcodes(t: str) -> Found:
    for rx in (POSTCODE, SPOKEN_POSTCODE):
        for m in rx.finditer(t):
            yield m.span()
    for m in POSTCODE_CUE.finditer(t):
        yield m.span(1)


STREET_SUFFIX = (
    r"(?:straat|laan|weg|plein|gracht|kade|singel|dijk|hof|steeg|pad|dreef|park|baan|markt|"
    r"wal|veld|erf|plantsoen|boulevard|haven|burg|ring|akker|hoek|wijk|dam|brink|kwartier)"
)
STREET_WORD = rf"[A-Za-zÀ-ÿ'\-]*{STREET_SUFFIX}"
STREET_PREFIX = r"(?:(?:(?-i:[A-Z])[\wÀ-ÿ'\-]*|van|de|der|den|het|ter|ten|'t)\s+){0,3}"
NL_ADDRESS = re.compile(rf"\b{STREET_PREFIX}{STREET_WORD}\s+{HOUSE_NUMBER}\b", re.I)
LAAN_VAN = re.compile(
    rf"\b(?:laan|plein|weg|straat|kade)\s+(?:van|der|de|den)\s+(?:\w+\s+){{0,2}}?{NUMBER_WORD}\b",
    re.I,
)
EN_ADDRESS = re.compile(
    rf"\b{NUMBER_WORD}\s+(?:[A-Za-z]+\s+){{1,3}}(?:street|road|avenue|lane|drive|close|way|"
    r"court|place|square|crescent|gardens|terrace)\b",
    re.I,
)


def _addresses(t: str) -> Found:
    for rx in (NL_ADDRESS, LAAN_VAN, EN_ADDRESS):
        for m in rx.finditer(t):
            if rx is EN_ADDRESS and not re.match(r"\d|\w", m.group()):
                continue
            yield m.span()


MONTHS = (
    r"(?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
    r"december|january|february|march|may|june|july|august|october|jan|feb|mrt|apr|jun|jul|"
    r"aug|sep|sept|okt|oct|nov|dec)"
)
BIRTH_CUE = re.compile(
    r"\b(?:geboren\s+(?:op|in)?|geboortedatum(?:\s+is)?|geb\.|date of birth(?:\s+is)?|"
    r"born\s+on|born\s+in|birthday\s+is|birth date(?:\s+is)?|dob)\s*:?\s*",
    re.I,
)
DATE_TOKEN = re.compile(
    rf"(?:\d{{1,4}}(?:st|nd|rd|th|e|ste|de)?|{MONTHS}|{NUMBER_WORD}|of|the|de|negentien\w*|"
    rf"tweeduizend\w*|nineteen\w*|twenty\w*|en|and)[,.]?",
    re.I,
)
NUMERIC_DATE = re.compile(r"\d{1,2}[\-/.]\d{1,2}[\-/.]\d{2,4}|\d{4}-\d{2}-\d{2}")


def _birth_dates(t: str) -> Found:
    for cue in BIRTH_CUE.finditer(t):
        pos = cue.end()
        m = NUMERIC_DATE.match(t, pos)
        if m:
            yield m.start(), m.end()
            continue
        end = pos
        count = 0
        while count < 8:
            tok = re.compile(r"\s*").match(t, end)
            nxt = tok.end() if tok else end
            d = DATE_TOKEN.match(t, nxt)
            if not d or (d.end() < len(t) and t[d.end()].isalnum()):
                break
            end = d.end()
            count += 1
        # strip trailing filler words
        span = t[pos:end].rstrip(" ,.")
        span = re.sub(r"(?:\s+(?:of|the|de|en|and))+$", "", span, flags=re.I).rstrip(" ,.")
        if span and re.search(rf"\d|{MONTHS}|{NUMBER_WORD}", span, re.I):
            yield pos, pos + len(span)


STRONG_NAME_CUE = re.compile(
    r"\b(?:mijn naam is|ik heet|u spreekt met|je spreekt met|spreek ik met|de naam is|"
    r"mijn voornaam is|mijn achternaam is|namens|op naam van|ten name van|"
    r"my name is|my name's|the name is|name's|you're speaking (?:to|with)|speaking with|"
    r"on behalf of|my first name is|my surname is|my last name is)\s+",
    re.I,
)
GREETING_MET = re.compile(
    r"^\s*(?:(?:goede(?:morgen|middag|navond)|dag|hallo|hoi|hai|ja|ja hallo|goeiemorgen|"
    r"goeiemiddag)[,.!]?\s+)?(?:u spreekt\s+)?met\s+",
    re.I,
)
WEAK_NAME_CUE = re.compile(
    r"\b(?:this is|it's|it is|i'm|i am|i'm called|ik ben|hier is|met|voor|for|van|from|"
    r"mevrouw|meneer|mevr\.?|dhr\.?|de heer|mr\.?|mrs\.?|ms\.?|miss|dr\.?|"
    r"mijn (?:moeder|vader|man|vrouw|zoon|dochter|broer|zus|buurman|buurvrouw|oma|opa)|"
    r"my (?:mother|father|husband|wife|son|daughter|brother|sister|neighbour|neighbor))\s+",
    re.I,
)
TITLE_CUE = re.compile(r"(?:mevrouw|meneer|mevr|dhr|de heer|mr|mrs|ms|miss|dr)\.?\s+$", re.I)
_WORD = re.compile(r"[A-Za-zÀ-ÿ][\wÀ-ÿ'\-]*")


def _is_name_word(word: str, strong: bool) -> bool:
    low = word.lower()
    if low in NAME_STOPWORDS:
        return False
    if low in FIRST_NAMES or low in SURNAMES:
        return True
    return strong or word[:1].isupper()


def _name_after(t: str, pos: int, strong: bool) -> Span | None:
    """The name that starts at *pos*: name words and tussenvoegsels, at most 5 words."""
    end = pos
    words = 0
    i = pos
    first = True
    while words < 5:
        ws = re.compile(r"[ \t]*").match(t, i)
        j = ws.end() if ws else i
        m = _WORD.match(t, j)
        if not m:
            break
        word = m.group()
        low = word.lower()
        if low in TUSSENVOEGSELS:
            # a tussenvoegsel belongs to the name only if a surname follows it
            k = m.end()
            while True:
                ws2 = re.compile(r"[ \t]+").match(t, k)
                m2 = _WORD.match(t, ws2.end()) if ws2 else None
                if m2 is None:
                    return (pos, end) if words else None
                if m2.group().lower() in TUSSENVOEGSELS:
                    k = m2.end()
                    continue
                w2 = m2.group()
                if w2.lower() not in NAME_STOPWORDS and (
                    w2[:1].isupper() or w2.lower() in SURNAMES
                ):
                    end = m2.end()
                    i = end
                    words += 1
                    first = False
                    break
                return (pos, end) if words else None
            continue
        if not _is_name_word(word, strong or not first):
            break
        if not strong and first and not (word[:1].isupper() or low in FIRST_NAMES):
            break
        if not first and not (word[:1].isupper() or low in SURNAMES or low in FIRST_NAMES):
            break
        end = m.end()
        i = end
        words += 1
        first = False
        if t[end : end + 1] in (",", ".", "?", "!"):
            break
    return (pos, end) if words else None


def _names(t: str) -> Found:
    for cue in STRONG_NAME_CUE.finditer(t):
        span = _name_after(t, cue.end(), strong=True)
        if span:
            yield span
    m = GREETING_MET.match(t)
    if m:
        span = _name_after(t, m.end(), strong=True)
        if span:
            yield span
    for cue in WEAK_NAME_CUE.finditer(t):
        pos = cue.end()
        w = _WORD.match(t, pos)
        if not w:
            continue
        word = w.group()
        titled = TITLE_CUE.search(t[: cue.end()]) is not None
        # after a title ("mevrouw", "mr") any word but a function word is the surname
        if word.lower() in FIRST_NAMES or (titled and word.lower() not in NAME_STOPWORDS):
            span = _name_after(t, pos, strong=titled)
            if span:
                yield span
    # a first name from the gazetteer followed by a surname, anywhere
    for w in _WORD.finditer(t):
        low = w.group().lower()
        if low not in FIRST_NAMES:
            continue
        rest = _name_after(t, w.start(), strong=False)
        if rest is None:
            continue
        words = len(t[rest[0] : rest[1]].split())
        sentence_start = not t[: w.start()].strip() or t[: w.start()].rstrip()[-1:] in ".!?"
        if words >= 2 or (w.group()[:1].isupper() and not sentence_start and low not in AMBIGUOUS):
            yield rest


AMBIGUOUS = {"will", "mark", "bill", "rose", "may", "june", "grace", "hope", "sky", "dean"}


# ---------------------------------------------------------------- redact


def _detectors(language: str) -> list[tuple[str, Callable[[str], Found]]]:
    return [
        ("email", _emails),
        ("iban", _ibans),
        ("bsn", _bsns),
        ("phone", lambda t: _phones(t, language)),
        ("plate", _plates),
        ("document", _documents),
        ("postcode", _postcodes),
        ("birth_date", _birth_dates),
        ("address", _addresses),
        ("name", _names),
    ]


def find(text: str, language: str = "nl") -> list[tuple[str, Span]]:
    """What personal data *text* holds and where (spans in *text*), without overlaps."""
    normal = normalise(text)
    t = normal.text
    for rx in (SERVICE_NUMBER, SERVICE_14):  # public numbers: hidden from the detectors
        t = rx.sub(lambda m: "~" * len(m.group()), t)
    found: list[tuple[str, Span]] = []
    for kind, detect in _detectors(language):
        spans = sorted(set(detect(t)))
        for start, end in spans:
            if "#" in t[start:end] or start >= end:
                continue  # already taken by an earlier detector
            found.append((kind, normal.original(start, end)))
        for start, end in spans:
            t = t[:start] + MASK * (end - start) + t[end:]
    found.sort(key=lambda f: f[1])
    merged: list[tuple[str, Span]] = []
    for kind, (start, end) in found:
        if merged and start < merged[-1][1][1]:
            prev_kind, (ps, pe) = merged[-1]
            merged[-1] = (prev_kind, (ps, max(pe, end)))
            continue
        merged.append((kind, (start, end)))
    return merged


def redact(text: str, language: str = "nl", *, spoken: bool = False) -> Redacted:
    """*text* with every personal item replaced by its placeholder (``[BSN]``, ``[NAAM]`` …);
    *spoken*: by a word a voice can say instead ("telefoonnummer")."""
    found = find(text, language)
    if spoken:
        words = SPOKEN_LABELS.get(language, SPOKEN_LABELS["nl"])
        labels = {kind: words[kind] for kind in KINDS}
    else:
        marks = LABELS.get(language, LABELS["nl"])
        labels = {kind: f"[{marks[kind]}]" for kind in KINDS}
    out = text
    for kind, (start, end) in reversed(found):
        out = out[:start] + labels[kind] + out[end:]
    return Redacted(out, found)


IDENTIFIER_KINDS = frozenset(KINDS) - {"name"}
"""Everything but names: the kinds the ≥ 99 % recall target is about."""


def redact_summary(summary: Mapping[str, Any], language: str) -> dict[str, Any]:
    """The agent's summary with every text in it redacted (the caller's last words are
    quoted in ``last_words`` and ``spoken``; an agent's note may hold a number too)."""

    def clean(value: Any, spoken: bool = False) -> Any:
        if isinstance(value, str):
            return redact(value, language, spoken=spoken).text
        if isinstance(value, Mapping):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    # "spoken" is what the agent hears before the call is put through
    return {k: clean(v, spoken=k == "spoken") for k, v in summary.items()}
