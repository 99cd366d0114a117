"""Dutch phone numbers said digit by digit in their groups, in either language.

The same numbers reach Dutch and English callers; only the words differ
(:class:`PhoneWords`). The grouping is how Dutch helplines say their own numbers: the
0800/0900 service prefixes as a word ("nul achthonderd"), then the rest in groups to
write down; 06 mobiles as "nul zes" and two fours; +31 as "plus eenendertig" and the
groups as written (the trunk zero "(0)" is not said); the short numbers (112, 113, 144,
1400) as their campaigns say them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PhoneWords:
    digits: Sequence[str]
    prefixes: Mapping[str, str]
    """Service prefixes said as a word: {"0800": "nul achthonderd", …}."""
    short: Mapping[str, str]
    """Short numbers and how they are said: {"112": "één één twee", …}."""
    country: str
    """+31: "plus eenendertig" / "plus three one"."""
    mobile: str
    """06: "nul zes" / "zero six"."""
    not_before: str
    """Words after which a short number is a quantity, not a phone number (a regex
    alternation: "procent|euro|jaar|…")."""


_PHONE = re.compile(r"(?<![\w.,€])(0\d{2,3})[-\s]?(\d{4}|\d{6,7})(?![\w]|[.,]\d)")
_PHONE_10 = re.compile(r"(?<![\w.,€])(0\d{2})(\d{3})(\d{4})(?![\w]|[.,]\d)")
_MOBILE = re.compile(r"(?<![\w.,€+])06[-\s]?(\d{4})\s?(\d{4})(?![\w]|[.,]\d)")
_INTERNATIONAL = re.compile(r"\+31[\s-]?(?:\(0\)[\s-]?)?(\d{1,3}(?:[\s-]?\d{2,4}){1,4})(?!\d)")


@functools.cache
def _short_numbers(numbers: tuple[str, ...], not_before: str) -> re.Pattern[str]:
    alternatives = "|".join(numbers)
    return re.compile(rf"(?<![\w.,€-])({alternatives})(?![\w%]|[.,]\d|\s?(?:%|{not_before})\b)")


def say_phones(text: str, words: PhoneWords) -> str:
    def digits(group: str) -> str:
        return " ".join(words.digits[int(d)] for d in group)

    def international(match: re.Match[str]) -> str:
        groups = [g for g in re.split(r"[\s-]+", match.group(1)) if g]
        groups = [part for g in groups for part in ([g] if len(g) <= 4 else [g[:-4], g[-4:]])]
        return ", ".join([words.country, *map(digits, groups)])

    def phone(match: re.Match[str]) -> str:
        prefix, rest = match.group(1), match.group(2)
        groups = [rest] if len(rest) <= 4 else [rest[:3], rest[3:]]
        return ", ".join([words.prefixes.get(prefix) or digits(prefix), *map(digits, groups)])

    short = _short_numbers(tuple(words.short), words.not_before)
    text = _INTERNATIONAL.sub(international, text)
    text = _MOBILE.sub(
        lambda m: f"{words.mobile}, {digits(m.group(1))}, {digits(m.group(2))}", text
    )
    text = _PHONE_10.sub(lambda m: ", ".join(digits(g) for g in m.groups()), text)
    text = _PHONE.sub(phone, text)
    return short.sub(lambda m: words.short[m.group(1)], text)
