"""Dutch: numbers, dates, times, amounts, phone numbers and abbreviations as said aloud."""

from __future__ import annotations

import re

from voice.speech_text.common import Words, abbreviations, addresses, replace_all, run
from voice.speech_text.phones import PhoneWords, say_phones

_UNITS = (
    "nul een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien "
    "vijftien zestien zeventien achttien negentien"
).split()
_TENS = "_ _ twintig dertig veertig vijftig zestig zeventig tachtig negentig".split()
# "één" with accents: a bare "een" is read as the article (schwa) by espeak-ng and Piper.
DIGITS = ("nul", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen")
_SMALL_ORDINALS = {1: "eerste", 3: "derde", 8: "achtste"}


def _below_100(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    if not unit:
        return _TENS[tens]
    first = _UNITS[unit]
    return first + ("ën" if first.endswith("e") else "en") + _TENS[tens]  # tweeëntwintig


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    head = ("" if hundreds == 1 else _UNITS[hundreds]) + "honderd" if hundreds else ""
    return head + (_below_100(rest) if rest or not hundreds else "")


def cardinal(n: int) -> str:
    """123 → "honderddrieëntwintig"; 1 → "één"; a space after "duizend" and "miljoen"
    as the spelling rules have it (and espeak-ng stresses the parts better)."""
    if n < 0:
        return "min " + cardinal(-n)
    parts: list[str] = []
    for size, name in ((10**9, "miljard"), (10**6, "miljoen")):
        count, n = divmod(n, size)
        if count:
            parts.append(f"{cardinal(count)} {name}")
    thousands, n = divmod(n, 1000)
    if thousands:
        parts.append(("" if thousands == 1 else _below_1000(thousands)) + "duizend")
    if n or not parts:
        parts.append(_below_1000(n))
    return " ".join("één" if word == "een" else word for word in " ".join(parts).split())


def ordinal(n: int) -> str:
    """23 → "drieëntwintigste", 1 → "eerste", 108 → "honderdachtste"."""
    rest = n % 100
    if 0 < rest < 20:
        head = cardinal(n - rest) if n > rest else ""
        small = _SMALL_ORDINALS.get(rest) or _UNITS[rest] + "de"
        return head.replace("één", "een") + small
    return cardinal(n).replace("één", "een") + "ste"


def _number(written: str) -> str:
    """ "1.234" → duizend tweehonderdvierendertig; "2,5" → twee komma vijf."""
    whole, _, fraction = written.partition(",")
    spoken = cardinal(int(whole.replace(".", "")))
    if fraction:
        spoken += " komma " + (
            " ".join(DIGITS[int(d)] for d in fraction)
            if fraction.startswith("0")
            else cardinal(int(fraction))
        )
    return spoken


# Phone numbers (voice/speech_text/phones.py has the grouping), in the words Dutch
# helplines use in their own announcements: the free and paid service prefixes as "nul
# achthonderd" / "nul negenhonderd" (the words everyone knows: "een
# nul-achthonderdnummer"); 112 "één één twee", 113 Zelfmoordpreventie "één één drie", 144
# "één vier vier", and the Rijksoverheid's 1400 "veertien nul nul".
_PHONE_WORDS = PhoneWords(
    digits=DIGITS,
    prefixes={"0800": "nul achthonderd", "0900": "nul negenhonderd"},
    short={
        "112": "één één twee",
        "113": "één één drie",
        "144": "één vier vier",
        "1400": "veertien nul nul",
    },
    country="plus eenendertig",
    mobile="nul zes",
    not_before="procent|euro|jaar|dagen|weken|maanden|uur|minuten|keer|mensen",
)
# The English key prompt inside the Dutch greeting ("For English, press 9."): a Dutch
# voice reads "9" as "negen" and "nine" as "nie-ne" (espeak-ng: n'in@); these
# spellings it reads as the English words ("nain" → n'Ajn).
_ENGLISH_KEY = re.compile(r"\b(press|dial)\s(\d)(?!\d)")
_ENGLISH_DIGITS = ("ziero", "wan", "toe", "thrie", "foor", "faif", "siks", "sevven", "eejt",
                   "nain")  # fmt: skip


def _phones(text: str) -> str:
    text = _ENGLISH_KEY.sub(lambda m: f"{m.group(1)} {_ENGLISH_DIGITS[int(m.group(2))]}", text)
    return say_phones(text, _PHONE_WORDS)


MONTHS = (
    "januari februari maart april mei juni juli augustus september oktober november december"
).split()
# "1-7-2025", "01/07/2025": day, month name, year (before the range rule makes "1 tot 7").
_NUMERIC_DATE = re.compile(r"(?<![\w.,-])(\d{1,2})([-/])(\d{1,2})\2(\d{4})(?![\w-])")
# A year after these words is a year: 1995 "negentienhonderdvijfennegentig", not
# "duizend negenhonderdvijfennegentig" (from 2000 on the two are the same).
_YEAR = re.compile(r"\b(in|sinds|vanaf|tot|na|voor|jaar)\s(1[1-9]\d\d)(?![\w]|[.,]\d)")


def year(n: int) -> str:
    if 1100 <= n < 2000:
        hundreds, rest = divmod(n, 100)
        return _below_100(hundreds) + "honderd" + (_below_100(rest) if rest else "")
    return cardinal(n)


def _numeric_date(match: re.Match[str]) -> str:
    day, month, y = int(match.group(1)), int(match.group(3)), int(match.group(4))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return match.group()
    return f"{cardinal(day)} {MONTHS[month - 1]} {year(y)}"


def _dates(text: str) -> str:
    text = _NUMERIC_DATE.sub(_numeric_date, text)
    return _YEAR.sub(lambda m: f"{m.group(1)} {year(int(m.group(2)))}", text)


_AMOUNT = re.compile(r"€\s?(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{2})|,-)?")


def _amount(match: re.Match[str]) -> str:
    euros, cents = match.group(1), match.group(2)
    if int(euros.replace(".", "")) == 0 and cents and int(cents):
        return f"{cardinal(int(cents))} cent"  # "€ 0,50": "vijftig cent"
    spoken = f"{_number(euros)} euro"
    if cents and int(cents):
        spoken += f" en {cardinal(int(cents))} cent"
    return spoken


# "8:30", "8.30 uur", "20:00 uur": the announcement form "acht uur dertig", not the
# colloquial "half negen", which a caller can misplace by an hour. "8.30" is a time
# without "uur" too: Dutch writes decimals with a comma and thousands with three digits,
# and helpline texts write "van 8.30 tot 17.00 uur", "8.00-20.00 uur".
_CLOCK = r"([01]?\d|2[0-4])[:.]([0-5]\d)"
_TIME_RANGE = re.compile(rf"(?<![\w.,€]){_CLOCK}\s?[–-]\s?{_CLOCK}(?:\s?uur)?(?![\d]|[.,]\d)")
_TIME = re.compile(rf"(?<![\w.,€]){_CLOCK}(?:\s?uur)?(?![\d]|[.,]\d|\s?euro)")


def _clock(hour: str, minutes: str) -> str:
    return f"{cardinal(int(hour))} uur" + (f" {cardinal(int(minutes))}" if int(minutes) else "")


def _times(text: str) -> str:
    text = _TIME_RANGE.sub(lambda m: f"{_clock(*m.group(1, 2))} tot {_clock(*m.group(3, 4))}", text)
    return _TIME.sub(lambda m: _clock(*m.group(1, 2)), text)


_PERCENT = re.compile(r"(\d+(?:,\d+)?)\s?%")
_ORDINAL = re.compile(r"(?<![\w.,])(\d+)(?:ste|de|e)(?!\w)")
_RANGE = re.compile(r"(?<![\w.,])(\d+)\s?[–-]\s?(\d+)(?![\w]|[.,]\d)")
_NUMBER = re.compile(r"(?<!\d)(\d{1,3}(?:\.\d{3})+(?!\d)|\d+)(?:,(\d+))?")

WORDS = Words(
    dot="punt",
    at="apenstaartje",
    slash="schuine streep",
    digits=DIGITS,
    spelled=frozenset(
        "AOW UWV DUO SVB KVK CAK CJIB BSN IND RDW WW WIA GGD BRP WOZ CBR BTW WMO WLZ CIZ "
        "AFM ACM OM NS OV ID EU NL ANW WAO WAJONG IOAW".split()
    ),
    # Said as words; in lower case so the voice does not read them as letters.
    as_words={"NAVO": "navo", "HAVO": "havo", "MAVO": "mavo", "IBAN": "ieban", "OK": "oké"},
    names={"KvK": "K.V.K", "Wmo": "W.M.O", "Wlz": "W.L.Z"},
    # DigiD is a word ("digi-dee", which is how espeak-ng reads "DigiD"); lower-case
    # "digid" it reads as "digit".
    address_words={"digid": "DigiD", "www": "W.W.W"},
)

_TABLE = {
    "t/m": "tot en met",
    "en/of": "en of",
    "24/7": "dag en nacht",
    "bijv.": "bijvoorbeeld",
    "bv.": "bijvoorbeeld",
    "o.a.": "onder andere",
    "i.p.v.": "in plaats van",
    "d.w.z.": "dat wil zeggen",
    "m.b.t.": "met betrekking tot",
    "z.s.m.": "zo snel mogelijk",
    "a.u.b.": "alstublieft",
    "ca.": "ongeveer",
    "nr.": "nummer",
    "tel.": "telefoon",
    "incl.": "inclusief",
    "excl.": "exclusief",
    "enz.": "enzovoort",
    "&": "en",
}


def normalise(text: str) -> str:
    """*text* as a Dutch voice should say it."""
    return run(
        text,
        (
            lambda t: addresses(t, WORDS),
            lambda t: _AMOUNT.sub(_amount, t),
            _dates,
            _phones,
            _times,
            lambda t: _PERCENT.sub(lambda m: f"{_number(m.group(1))} procent", t),
            lambda t: _ORDINAL.sub(lambda m: ordinal(int(m.group(1))), t),
            lambda t: _RANGE.sub(r"\1 tot \2", t),
            lambda t: _NUMBER.sub(lambda m: _number(m.group()), t),
            lambda t: replace_all(t, _TABLE),
            lambda t: abbreviations(t, WORDS),
            lambda t: t.replace("%", " procent").replace("€", " euro"),
        ),
    )
