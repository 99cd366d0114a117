"""What Dutch and English share: letters spelled, web and e-mail addresses, the
all-caps abbreviation rule and the pipeline that applies a language's rules."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

Rule = Callable[[str], str]

# Top-level domains an answer may name; only these make a word.word an address, so
# "o.a." or "bijv.nl" in running text are left alone.
_TLD = r"(?:nl|com|org|net|eu|be|de|info|gov|uk|frl|amsterdam)"
_EMAIL = re.compile(rf"\b[\w.+-]+@(?:[\w-]+\.)+{_TLD}\b", re.IGNORECASE)
_URL = re.compile(rf"\b(?:https?://)?(?:[a-z0-9-]+\.)+{_TLD}\b(?:/[\w\-./]*[\w/])?", re.IGNORECASE)
# A run of two or more capitals standing alone ("AOW", "WW-uitkering", "AOW'ers"):
# espeak-ng (and Piper, which phonemizes with it) reads vowel-bearing ones as a word
# ("AOW" → "aau", "CJIB" → "kjip") and only consonant runs as letters.
_CAPS = re.compile(r"(?<!\w)[A-Z]{2,}(?!\w)")
_SPACES = re.compile(r"[ \t]{2,}")


def spell(word: str) -> str:
    """Capitals joined by dots, no final dot: "A.O.W". Measured with espeak-ng 1.51 (Piper
    phonemizes with it) against each letter said alone, over 34 abbreviations: this
    form gives every letter's name in Dutch and in English, stressed on the last letter
    as people say them. Hyphens ("S-V-B") make a Dutch S a bare hiss (SVB, BSN, NS, NOS)
    and an English A the article (CAK, WAO, WIA); spaces do the same; a final dot would
    keep the sentence splitter from ending a sentence after it."""
    return ".".join(word.upper())


@dataclass(frozen=True)
class Words:
    """A language's words for the parts of an address and its abbreviation lists."""

    dot: str
    at: str
    slash: str
    digits: Sequence[str]
    spelled: frozenset[str]
    """Abbreviations always said as letters, also when written in lower case in an
    address ("duo.nl", "/aow")."""
    as_words: Mapping[str, str] = field(default_factory=dict)
    """All-caps words that are said as a word, with the form the voice reads right."""
    names: Mapping[str, str] = field(default_factory=dict)
    """Mixed-case names with their spoken form ("KvK" → "K.V.K")."""
    address_words: Mapping[str, str] = field(default_factory=dict)
    """Lower-case address parts with their spoken form ("digid" → "DigiD")."""
    spoken_tlds: frozenset[str] = frozenset({"com", "org", "net", "info", "gov"})
    """Domains said as a word; the others are spelled ("nl" → "N.L")."""


def _address_part(part: str, words: Words, last_label: bool) -> str:
    lower = part.lower()
    if lower in words.address_words:
        return words.address_words[lower]
    if lower.upper() in words.spelled:
        return spell(lower)
    if last_label:
        return lower if lower in words.spoken_tlds else spell(lower)
    if lower.isdigit():
        return " ".join(words.digits[int(d)] for d in lower)
    return part


def say_address(address: str, words: Words) -> str:
    """ "www.rijksoverheid.nl/aow" → "W.W.W punt rijksoverheid punt N.L schuine streep A.O.W"."""
    address = re.sub(r"^https?://", "", address, flags=re.IGNORECASE)
    host, _, path = address.partition("/")
    labels = host.split(".")
    spoken = f" {words.dot} ".join(
        _address_part(label, words, i == len(labels) - 1) for i, label in enumerate(labels)
    )
    for segment in filter(None, path.split("/")):
        parts = [p for p in re.split(r"[-_.]", segment) if p]
        spoken += f" {words.slash} " + " ".join(_address_part(p, words, False) for p in parts)
    return spoken


def addresses(text: str, words: Words) -> str:
    """E-mail and web addresses as they are read out."""

    def email(match: re.Match[str]) -> str:
        local, _, domain = match.group().partition("@")
        local_spoken = f" {words.dot} ".join(local.split("."))
        return f"{local_spoken} {words.at} {say_address(domain, words)}"

    text = _EMAIL.sub(email, text)
    return _URL.sub(lambda m: say_address(m.group(), words), text)


def abbreviations(text: str, words: Words) -> str:
    """Named forms first, then every remaining all-caps run spelled as letters."""
    for name, spoken in words.names.items():
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?!\w)", spoken, text)

    def caps(match: re.Match[str]) -> str:
        word = match.group()
        return words.as_words.get(word, spell(word))

    return _CAPS.sub(caps, text)


def replace_all(text: str, table: Mapping[str, str]) -> str:
    """Whole-word replacements (dotted abbreviations such as "bijv." and "t/m")."""
    for written, spoken in table.items():
        text = re.sub(rf"(?<![\w.]){re.escape(written)}(?![\w])", spoken, text)
        if written.endswith(".") and text.endswith(spoken):
            text += "."  # "…, enz." ended the sentence: keep its full stop
    return text


def run(text: str, rules: Sequence[Rule]) -> str:
    for rule in rules:
        text = rule(text)
    return _SPACES.sub(" ", text).strip()
