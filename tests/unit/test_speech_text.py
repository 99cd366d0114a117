"""The spoken form of texts, rule by rule, Dutch and English."""

from __future__ import annotations

import pytest

from voice.speech_text import en, for_speech, nl


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "nul"),
        (1, "één"),
        (8, "acht"),
        (21, "eenentwintig"),
        (22, "tweeëntwintig"),
        (23, "drieëntwintig"),
        (80, "tachtig"),
        (100, "honderd"),
        (101, "honderdeen"),
        (345, "driehonderdvijfenveertig"),
        (1000, "duizend"),
        (1001, "duizend één"),
        (1234, "duizend tweehonderdvierendertig"),
        (2_000_021, "twee miljoen eenentwintig"),
        (1_000_000, "één miljoen"),
    ],
)
def test_dutch_cardinals(n: int, words: str) -> None:
    assert nl.cardinal(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "eerste"),
        (2, "tweede"),
        (3, "derde"),
        (8, "achtste"),
        (12, "twaalfde"),
        (19, "negentiende"),
        (20, "twintigste"),
        (21, "eenentwintigste"),
        (23, "drieëntwintigste"),
        (100, "honderdste"),
        (101, "honderdeerste"),
        (108, "honderdachtste"),
        (1000, "duizendste"),
    ],
)
def test_dutch_ordinals(n: int, words: str) -> None:
    assert nl.ordinal(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (23, "twenty-three"),
        (105, "one hundred and five"),
        (1001, "one thousand and one"),
        (1234, "one thousand two hundred and thirty-four"),
        (3_000_000, "three million"),
    ],
)
def test_english_cardinals(n: int, words: str) -> None:
    assert en.cardinal(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (5, "fifth"),
        (8, "eighth"),
        (9, "ninth"),
        (12, "twelfth"),
        (20, "twentieth"),
        (23, "twenty-third"),
        (40, "fortieth"),
        (100, "one hundredth"),
        (111, "one hundred and eleventh"),
    ],
)
def test_english_ordinals(n: int, words: str) -> None:
    assert en.ordinal(n) == words


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        # phone numbers: service prefixes as words, the rest digit by digit in groups
        ("Bel 0800-2000.", "Bel nul achthonderd, twee nul nul nul."),
        ("via 0800-0113", "via nul achthonderd, nul één één drie"),
        ("via 0900-8844", "via nul negenhonderd, acht acht vier vier"),
        ("bel 030 1234567", "bel nul drie nul, één twee drie, vier vijf zes zeven"),
        ("bel 0201234567", "bel nul twee nul, één twee drie, vier vijf zes zeven"),
        ("Bel 1400.", "Bel veertien nul nul."),
        ("bel 112", "bel één één twee"),
        ("113 Zelfmoordpreventie", "één één drie Zelfmoordpreventie"),
        ("toets 0", "toets nul"),
        # dates and ordinals
        ("uiterlijk op 1 mei", "uiterlijk op één mei"),
        ("op 1 januari en 1 juli", "op één januari en één juli"),
        ("rond de 23e van de maand", "rond de drieëntwintigste van de maand"),
        ("de 2de en de 8ste", "de tweede en de achtste"),
        # percentages, amounts, counts
        ("minstens 8% van", "minstens acht procent van"),
        ("minstens 8 % van", "minstens acht procent van"),
        ("8,5%", "acht komma vijf procent"),
        ("€ 1.234,50", "duizend tweehonderdvierendertig euro en vijftig cent"),
        ("€5,-", "vijf euro"),
        ("€ 12,00", "twaalf euro"),
        ("binnen 3 werkdagen", "binnen drie werkdagen"),
        ("2,05 meter", "twee komma nul vijf meter"),
        # times
        ("van 8 tot 20 uur", "van acht tot twintig uur"),
        ("om 8:30", "om acht uur dertig"),
        ("om 10.30 uur", "om tien uur dertig"),
        ("tot 20:00 uur", "tot twintig uur"),
        ("8-20 uur", "acht tot twintig uur"),
        # abbreviations
        ("De SVB betaalt de AOW.", "De S.V.B betaalt de A.O.W."),
        ("bij UWV, DUO, CAK, CJIB, IND", "bij U.W.V, D.U.O, C.A.K, C.J.I.B, I.N.D"),
        ("KVK, BSN, RDW, WIA", "K.V.K, B.S.N, R.D.W, W.I.A"),
        ("Een WW-uitkering", "Een W.W-uitkering"),
        ("de KvK", "de K.V.K"),
        ("Log in met DigiD.", "Log in met DigiD."),
        ("de NAVO", "de navo"),
        ("Ziektewet en IJmuiden", "Ziektewet en IJmuiden"),
        ("bijv. ma t/m vr", "bijvoorbeeld ma tot en met vr"),
        ("zorgtoeslag, huurtoeslag enz.", "zorgtoeslag, huurtoeslag enzovoort."),
        # addresses
        ("via mijntoeslagen.nl.", "via mijntoeslagen punt N.L."),
        (
            "op www.rijksoverheid.nl/aow",
            "op W.W.W punt rijksoverheid punt N.L schuine streep A.O.W",
        ),
        ("https://www.digid.nl", "W.W.W punt DigiD punt N.L"),
        ("via duo.nl", "via D.U.O punt N.L"),
        ("mail info@duo.nl", "mail info apenstaartje D.U.O punt N.L"),
        ("mail j.jansen@minbzk.nl", "mail j punt jansen apenstaartje minbzk punt N.L"),
        (
            "op rijksoverheid.nl/onderwerpen/zorgtoeslag-aanvragen",
            "op rijksoverheid punt N.L schuine streep onderwerpen schuine streep zorgtoeslag"
            " aanvragen",
        ),
        # plain words stay words
        ("Wat is uw vraag?", "Wat is uw vraag?"),
    ],
)
def test_dutch(written: str, spoken: str) -> None:
    assert for_speech(written, "nl") == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("call 0800-0113", "call zero eight hundred, zero one one three"),
        ("call 0900-8844.", "call zero nine hundred, eight eight four four."),
        ("call 1400", "call fourteen zero zero"),
        ("call 112 right away", "call one one two right away"),
        ("press 0", "press zero"),
        ("around the 23rd of the month", "around the twenty-third of the month"),
        ("on 1 January and 1 July", "on the first of January and the first of July"),
        ("by 1 May at the latest", "by the first of May at the latest"),
        ("on May 1st", "on May first"),
        ("in May 2024", "in May twenty twenty-four"),
        ("at least 8% of", "at least eight percent of"),
        ("8 % of", "eight percent of"),
        ("2.5%", "two point five percent"),
        ("€1,234.50", "one thousand two hundred and thirty-four euros and fifty cents"),
        ("€ 1", "one euro"),
        ("from age 18", "from age eighteen"),
        ("from 8 am to 8 pm", "from eight A.M to eight P.M"),
        ("from 8 a.m. to 8 p.m.", "from eight A.M to eight P.M."),
        ("at 8:30 or 8:05", "at eight thirty or eight oh five"),
        ("at 8:00", "at eight o'clock"),
        ("8-20", "eight to twenty"),
        ("The SVB pays the AOW", "The S.V.B pays the A.O.W"),
        ("a valid ID", "a valid I.D"),
        ("OK", "okay"),
        ("at mijntoeslagen.nl.", "at mijntoeslagen dot N.L."),
        ("at www.rijksoverheid.nl/aow", "at W.W.W dot rijksoverheid dot N.L slash A.O.W"),
        ("mail info@duo.nl", "mail info at D.U.O dot N.L"),
        ("at example.com", "at example dot com"),
        ("e.g. DigiD", "for example DigiD"),
    ],
)
def test_english(written: str, spoken: str) -> None:
    assert for_speech(written, "en") == spoken


def test_language_tags_and_unknown_languages() -> None:
    assert for_speech("8%", "en-US") == "eight percent"
    assert for_speech("8%", "nl_NL") == "acht procent"
    assert for_speech("8%", "ko") == "8%"  # no rules for it: as written
