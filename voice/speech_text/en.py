"""English: numbers, dates, times, amounts, phone numbers and abbreviations as said aloud."""

from __future__ import annotations

import re

from voice.speech_text.common import Words, abbreviations, addresses, replace_all, run
from voice.speech_text.phones import PhoneWords, say_phones

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
DIGITS = tuple(_UNITS[:10])
_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth",
              "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}  # fmt: skip
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


def _below_100(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    return _TENS[tens] + (f"-{_UNITS[unit]}" if unit else "")


def _below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    if not hundreds:
        return _below_100(rest)
    return f"{_UNITS[hundreds]} hundred" + (f" and {_below_100(rest)}" if rest else "")


def cardinal(n: int) -> str:
    """1234 → "one thousand two hundred and thirty-four" (British "and", as the answers'
    spelling is British)."""
    if n < 0:
        return "minus " + cardinal(-n)
    parts: list[str] = []
    for size, name in ((10**9, "billion"), (10**6, "million"), (10**3, "thousand")):
        count, n = divmod(n, size)
        if count:
            parts.append(f"{_below_1000(count)} {name}")
    if n or not parts:
        parts.append(("and " if parts and n < 100 else "") + _below_1000(n))
    return " ".join(parts)


def ordinal(n: int) -> str:
    """23 → "twenty-third"."""
    words = cardinal(n)
    head, sep, last = words.rpartition("-" if "-" in words.split(" ")[-1] else " ")
    if last in _IRREGULAR:
        last = _IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def year(n: int) -> str:
    """2024 → "twenty twenty-four", 2005 → "two thousand and five", 1990 → "nineteen ninety"."""
    high, low = divmod(n, 100)
    if not 11 <= high <= 99 or (high % 10 == 0 and low < 10):
        return cardinal(n)
    return _below_100(high) + (" hundred" if not low else " " + _below_100(low))


def _number(written: str) -> str:
    whole, _, fraction = written.partition(".")
    spoken = cardinal(int(whole.replace(",", "")))
    if fraction:
        spoken += " point " + " ".join(DIGITS[int(d)] for d in fraction)
    return spoken


# Dutch numbers said to an English caller: the same groups as in Dutch, digit by digit
# with "zero" (not "oh", which a Dutch listener does not expect), the 0800/0900
# prefixes as "zero eight hundred"/"zero nine hundred", and 1400 as the Dutch say it,
# "fourteen zero zero" ("fourteen hundred" was heard as "4-100" over G.711, and is a
# time or a year to an English ear).
_PHONE_WORDS = PhoneWords(
    digits=DIGITS,
    prefixes={"0800": "zero eight hundred", "0900": "zero nine hundred"},
    short={
        "112": "one one two",
        "113": "one one three",
        "144": "one four four",
        "1400": "fourteen zero zero",
    },
    country="plus three one",
    mobile="zero six",
    not_before="percent|euros?|years?|days|weeks|months|hours|minutes|times|people",
)


def _phones(text: str) -> str:
    return say_phones(text, _PHONE_WORDS)


_AMOUNT = re.compile(r"€\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{2}))?")


def _amount(match: re.Match[str]) -> str:
    euros = int(match.group(1).replace(",", ""))
    cents = int(match.group(2) or 0)
    spoken = f"{cardinal(euros)} euro" + ("" if euros == 1 else "s")
    if cents:
        spoken += f" and {cardinal(cents)} cent" + ("" if cents == 1 else "s")
    return spoken


_TIME = re.compile(r"(?<![\w.,])([01]?\d|2[0-4]):([0-5]\d)(?!\d)")
_MERIDIEM = re.compile(r"(?<![\w.,])(\d{1,2})\s?(a\.?m\.?|p\.?m\.?)(?!\w)", re.IGNORECASE)


def _time(match: re.Match[str]) -> str:
    hour, minutes = int(match.group(1)), int(match.group(2))
    if not minutes:
        return f"{cardinal(hour)} o'clock" if hour <= 12 else f"{cardinal(hour)} hundred"
    return f"{cardinal(hour)} " + (f"oh {_UNITS[minutes]}" if minutes < 10 else cardinal(minutes))


def _meridiem(match: re.Match[str]) -> str:
    # "A.M" is read as the letters; "am" would be the verb. The dot of "p.m." that ends
    # the sentence stays, or the voice loses the falling tone at the end.
    end = "." if match.group().endswith(".") and match.end() == len(match.string) else ""
    return f"{cardinal(int(match.group(1)))} {match.group(2)[0].upper()}.M{end}"


_MONTH_NAMES = _MONTHS.split("|")
# "1-7-2025", "01/07/2025": Dutch order, day first (before the range rule makes "1 to 7").
_NUMERIC_DATE = re.compile(r"(?<![\w.,-])(\d{1,2})([-/])(\d{1,2})\2(\d{4})(?![\w-])")
_YEAR = re.compile(
    r"\b(in|since|from|until|before|after|by)\s(1[1-9]\d\d|20\d\d)"
    r"(?![\w]|[.,]\d|\s?(?:%|percent|euros?|people|times))"
)


def _numeric_date(match: re.Match[str]) -> str:
    day, month, y = int(match.group(1)), int(match.group(3)), int(match.group(4))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return match.group()
    return f"the {ordinal(day)} of {_MONTH_NAMES[month - 1]} {year(y)}"


def _dates(text: str) -> str:
    text = _NUMERIC_DATE.sub(_numeric_date, text)
    return _YEAR.sub(lambda m: f"{m.group(1)} {year(int(m.group(2)))}", text)


_DAY_MONTH = re.compile(rf"(?<![\w.,])(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTHS})\b")
_MONTH_DAY = re.compile(rf"\b({_MONTHS})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?!\d)")
_MONTH_YEAR = re.compile(rf"\b({_MONTHS}),?\s+(\d{{4}})(?!\d)")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?%")
_ORDINAL = re.compile(r"(?<![\w.,])(\d+)(?:st|nd|rd|th)(?!\w)")
_RANGE = re.compile(r"(?<![\w.,])(\d+)\s?[–-]\s?(\d+)(?![\w]|[.,]\d)")
_NUMBER = re.compile(r"(?<!\d)(\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.(\d+))?")

WORDS = Words(
    dot="dot",
    at="at",
    slash="slash",
    digits=DIGITS,
    spelled=frozenset(
        "AOW UWV DUO SVB KVK CAK CJIB BSN IND RDW WW WIA GGD BRP WOZ CBR BTW WMO WLZ CIZ "
        "AFM ACM OM NS OV ID EU NL ANW WAO IOAW".split()
    ),
    as_words={"NATO": "Nato", "IBAN": "eye-ban", "OK": "okay", "UNICEF": "Unicef"},
    names={"KvK": "K.V.K", "Wmo": "W.M.O", "Wlz": "W.L.Z"},
    address_words={"digid": "DigiD", "www": "W.W.W"},
)

_TABLE = {
    "e.g.": "for example",
    "i.e.": "that is",
    "etc.": "et cetera",
    "approx.": "approximately",
    "24/7": "day and night",
    "&": "and",
}


def normalise(text: str) -> str:
    """*text* as an English voice should say it."""
    return run(
        text,
        (
            lambda t: addresses(t, WORDS),
            lambda t: _AMOUNT.sub(_amount, t),
            _dates,
            _phones,
            lambda t: _TIME.sub(_time, t),
            lambda t: _MERIDIEM.sub(_meridiem, t),
            lambda t: _MONTH_YEAR.sub(lambda m: f"{m.group(1)} {year(int(m.group(2)))}", t),
            lambda t: _DAY_MONTH.sub(
                lambda m: f"the {ordinal(int(m.group(1)))} of {m.group(2)}", t
            ),
            lambda t: _MONTH_DAY.sub(lambda m: f"{m.group(1)} {ordinal(int(m.group(2)))}", t),
            lambda t: _PERCENT.sub(lambda m: f"{_number(m.group(1))} percent", t),
            lambda t: _ORDINAL.sub(lambda m: ordinal(int(m.group(1))), t),
            lambda t: _RANGE.sub(r"\1 to \2", t),
            lambda t: _NUMBER.sub(lambda m: _number(m.group()), t),
            lambda t: replace_all(t, _TABLE),
            lambda t: abbreviations(t, WORDS),
            lambda t: t.replace("%", " percent").replace("€", " euros"),
        ),
    )
