"""Write tests/data/redaction_set.jsonl: labelled caller lines for the redaction tests.

Each line: ``{"text", "language", "items": [{"kind", "text"}], "form"}``; ``items`` empty for
a clean line (it must come out unchanged). BSNs and IBANs carry valid check digits
(stdnum's calc functions), phone numbers are valid for their country (phonenumbers).
Forms: as Whisper writes them (digits, capitals, punctuation) and as Vosk does (lower
case, digits spoken as words). Seeded: the committed file is the fixed set; run this
only to change it (``.venv/bin/python tests/tools/make_redaction_set.py``).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import phonenumbers
from stdnum import iban
from stdnum.nl import bsn

OUT = Path(__file__).resolve().parent.parent / "data" / "redaction_set.jsonl"
rng = random.Random(11)

NL_DIGITS = "nul een twee drie vier vijf zes zeven acht negen".split()
EN_DIGITS = "zero one two three four five six seven eight nine".split()

FIRST_NL = (
    "Jan Piet Kees Henk Sanne Fleur Anouk Mohammed Fatima Youssef Esther Marieke Thijs".split()
)
FIRST_NL += "Bram Femke Joost Lotte Ruud Ingrid Zeynep Mehmet Khadija Wilma Gerrit".split()
SURNAME_NL = ["de Vries", "Jansen", "van der Berg", "Bakker", "de Jong", "Visser", "Smit",
              "van Dijk", "Mulder", "de Boer", "Hoekstra", "El Amrani", "Yilmaz", "van Leeuwen",
              "Vermeulen", "ter Horst", "van den Heuvel", "Zwanenburg", "Kraaijeveld",
              "Oosterhuis"]  # fmt: skip
FIRST_EN = "John Mary James Emily David Sarah Michael Olivia Thomas Emma George Lucy".split()
SURNAME_EN = ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Patel", "Walker", "Thompson",
              "Hughes", "Fairweather", "Okonkwo", "MacAllister"]  # fmt: skip
STREETS = ["Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenlaan", "Prinsengracht",
           "Julianalaan", "Marktplein", "Burgemeester de Vlugtlaan", "Wilhelminakade",
           "Schoolstraat", "Beatrixlaan", "Van Goghstraat"]  # fmt: skip
EN_STREETS = ["Baker Street", "High Street", "Church Road", "Station Road", "Park Avenue",
              "Mill Lane"]  # fmt: skip
MONTHS_NL = ("januari februari maart april mei juni juli augustus september oktober november "
             "december").split()  # fmt: skip
MONTHS_EN = ("January February March April May June July August September October November "
             "December").split()  # fmt: skip
LETTERS = "BDFGHJKLNPRSTVXZ"
NUM_NL = {1: "een", 2: "twee", 3: "drie", 4: "vier", 5: "vijf", 6: "zes", 7: "zeven",
          8: "acht", 9: "negen", 10: "tien", 11: "elf", 12: "twaalf", 14: "veertien",
          17: "zeventien", 21: "eenentwintig", 23: "drieëntwintig",
          28: "achtentwintig"}  # fmt: skip


def spoken(digits: str, lang: str) -> str:
    words = NL_DIGITS if lang == "nl" else EN_DIGITS
    return " ".join(words[int(d)] for d in digits if d.isdigit())


def make_bsn() -> str:
    """Eight random digits and the check digit that passes the 11-proef (stdnum.nl.bsn)."""
    while True:
        base = f"{rng.randint(10_000_000, 99_999_999):08d}"
        for d in "0123456789":
            if bsn.checksum(base + d) == 0 and bsn.is_valid(base + d):
                return base + d


def make_iban(country: str = "NL") -> str:
    if country == "NL":
        bank = rng.choice(["ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB", "KNAB"])
        body = bank + f"{rng.randint(0, 9_999_999_999):010d}"
    elif country == "BE":
        bank = rng.choice(["001", "063", "068", "310", "363", "734", "735"])
        first = int(bank + f"{rng.randint(0, 9_999_999):07d}")
        body = f"{first:010d}{first % 97 or 97:02d}"  # Belgian account check: mod 97
    else:  # DE
        body = f"{rng.randint(0, 10**18 - 1):018d}"
    check = iban.calc_check_digits(country + "00" + body)
    number = country + check + body
    assert iban.is_valid(number)
    return number


def spaced_iban(n: str) -> str:
    return " ".join(n[i : i + 4] for i in range(0, len(n), 4))


def make_phone(kind: str) -> tuple[str, str]:
    """(written, digits) for a valid number."""
    while True:
        if kind == "mobile":
            digits = "06" + str(rng.randint(1, 5)) + f"{rng.randint(0, 9_999_999):07d}"
            region = "NL"
        elif kind == "landline":
            area = rng.choice(["020", "010", "030", "070", "040", "050", "024", "073"])
            digits = area + str(rng.randint(2, 9)) + f"{rng.randint(0, 999_999):06d}"
            region = "NL"
        elif kind == "be":
            digits = "+324" + str(rng.randint(60, 99)) + f"{rng.randint(0, 999_999):06d}"
            region = "BE"
        elif kind == "de":
            digits = "+4915" + str(rng.randint(1, 9)) + f"{rng.randint(0, 99_999_999):08d}"
            region = "DE"
        else:  # gb
            digits = "+447" + str(rng.randint(400, 999)) + f"{rng.randint(0, 999_999):06d}"
            region = "GB"
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(digits, region)):
                return digits, digits
        except phonenumbers.NumberParseException:
            continue


def make_plate() -> str:
    codes = ["LL-DD-LL", "DD-LLL-D", "D-LLL-DD", "LL-DDD-L", "L-DDD-LL", "LLL-DD-L", "DD-LL-LL"]
    code = rng.choice(codes)
    return "".join(
        rng.choice(LETTERS) if c == "L" else str(rng.randint(0, 9)) if c == "D" else "-"
        for c in code
    )


def make_document() -> str:
    letters = "".join(rng.choice("ABCDEFGHIJKLMNPRSTUVWXYZ") for _ in range(2))
    middle = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(6))
    if not any(c.isalpha() for c in middle):
        middle = middle[:5] + "K"
    return letters + middle + str(rng.randint(0, 9))


def postcode() -> str:
    return f"{rng.randint(1000, 9999)} {rng.choice(LETTERS)}{rng.choice(LETTERS)}"


rows: list[dict[str, Any]] = []


def add(text: str, lang: str, form: str, *items: tuple[str, str]) -> None:
    for _kind, sub in items:
        assert sub in text, (sub, text)
    rows.append(
        {"text": text, "language": lang, "form": form,
         "items": [{"kind": k, "text": s} for k, s in items]}
    )  # fmt: skip


def name_nl() -> str:
    return f"{rng.choice(FIRST_NL)} {rng.choice(SURNAME_NL)}"


def name_en() -> str:
    return f"{rng.choice(FIRST_EN)} {rng.choice(SURNAME_EN)}"


# ------------------------------------------------------------------ BSN (44)
for _ in range(8):
    n = make_bsn()
    add(f"Mijn BSN is {n}.", "nl", "written", ("bsn", n))
for _ in range(6):
    n = make_bsn()
    w = f"{n[:4]} {n[4:6]} {n[6:]}"
    add(f"Mijn burgerservicenummer is {w}, klopt dat?", "nl", "written", ("bsn", w))
for _ in range(4):
    n = make_bsn()
    w = f"{n[:3]}.{n[3:6]}.{n[6:]}"
    add(f"Het gaat om {w}", "nl", "written", ("bsn", w))
for _ in range(14):
    n = make_bsn()
    s = spoken(n, "nl")
    cue = rng.choice(["mijn bsn is", "mijn burgerservicenummer is", "het nummer is", "bsn"])
    add(f"{cue} {s}", "nl", "spoken", ("bsn", s))
for _ in range(6):
    n = make_bsn()
    s = spoken(n, "en")
    add(f"my citizen service number is {s}", "en", "spoken", ("bsn", s))
for _ in range(6):
    n = make_bsn()
    add(f"My BSN is {n} and I have a question about my pension", "en", "written", ("bsn", n))

# ------------------------------------------------------------------ IBAN (36)
for _ in range(10):
    n = make_iban()
    add(f"Mijn rekeningnummer is {n}.", "nl", "written", ("iban", n))
for _ in range(10):
    n = spaced_iban(make_iban())
    add(f"Kunt u het overmaken naar {n}?", "nl", "written", ("iban", n))
for _ in range(6):
    n = spaced_iban(make_iban()).lower()
    add(f"het rekeningnummer is {n}", "nl", "asr", ("iban", n))
for _ in range(4):
    n = spaced_iban(make_iban("BE"))
    add(f"Ik heb een Belgische rekening, {n}", "nl", "written", ("iban", n))
for _ in range(6):
    n = make_iban(rng.choice(["NL", "DE"]))
    add(f"My bank account is {n}, can you pay it there?", "en", "written", ("iban", n))

# ------------------------------------------------------------------ phone (44)
for kind in ["mobile"] * 8 + ["landline"] * 6:
    d = make_phone(kind)[0]
    w = rng.choice([d, f"{d[:2]}-{d[2:]}", f"{d[:3]} {d[3:6]} {d[6:]}"])
    add(f"U kunt mij bereiken op {w}.", "nl", "written", ("phone", w))
for _ in range(4):
    d = make_phone("mobile")[0]
    w = f"+31 {d[1]} {d[2:6]} {d[6:]}"
    add(f"Bel me terug op {w} alstublieft", "nl", "written", ("phone", w))
for _ in range(10):
    d = make_phone(rng.choice(["mobile", "landline"]))[0]
    s = spoken(d, "nl")
    add(f"mijn telefoonnummer is {s}", "nl", "spoken", ("phone", s))
for kind in ["be", "de", "gb", "gb"]:
    d = make_phone(kind)[0]
    w = f"{d[:3]} {d[3:6]} {d[6:]}"
    add(f"Mijn nummer in het buitenland is {w}", "nl", "written", ("phone", w))
for _ in range(6):
    d = make_phone("mobile")[0]
    s = spoken(d, "en")
    add(f"you can call me back on {s}", "en", "spoken", ("phone", s))
for kind in ["gb", "mobile", "gb", "be"]:
    d = make_phone(kind)[0]
    add(f"My phone number is {d}, thanks", "en", "written", ("phone", d))

# ------------------------------------------------------------------ e-mail (20)
for _ in range(8):
    first, sur = rng.choice(FIRST_NL).lower(), rng.choice(SURNAME_NL).replace(" ", "").lower()
    e = f"{first}.{sur}@{rng.choice(['gmail.com', 'hotmail.com', 'ziggo.nl', 'kpnmail.nl'])}"
    add(f"Mijn e-mailadres is {e}", "nl", "written", ("email", e))
for _ in range(6):
    first, sur = rng.choice(FIRST_NL).lower(), rng.choice(SURNAME_NL).split()[-1].lower()
    e = f"{first} punt {sur} apenstaartje {rng.choice(['gmail', 'hotmail', 'ziggo'])} punt nl"
    add(f"mijn mail is {e}", "nl", "spoken", ("email", e))
for _ in range(3):
    e = f"{rng.choice(FIRST_EN).lower()}{rng.randint(1, 99)}@outlook.com"
    add(f"Please email me at {e}.", "en", "written", ("email", e))
for _ in range(3):
    e = f"{rng.choice(FIRST_EN).lower()} dot {rng.choice(SURNAME_EN).lower()} at gmail dot com"
    add(f"my email is {e}", "en", "spoken", ("email", e))

# ------------------------------------------------------------------ postcode (22)
for _ in range(10):
    pc = postcode()
    house = str(rng.randint(1, 250))
    w = f"{pc} {house}"
    add(f"Mijn postcode is {w}.", "nl", "written", ("postcode", w))
for _ in range(6):
    pc = postcode()
    add(f"Ik woon in {pc}, huisnummer {rng.randint(1, 99)}", "nl", "written", ("postcode", pc))
for _ in range(6):
    digits = str(rng.randint(1000, 9999))
    letters = f"{rng.choice(LETTERS).lower()} {rng.choice(LETTERS).lower()}"
    s = f"{spoken(digits, 'nl')} {letters}"
    add(f"postcode {s}", "nl", "spoken", ("postcode", s))

# ------------------------------------------------------------------ address (22)
for _ in range(10):
    a = f"{rng.choice(STREETS)} {rng.randint(1, 300)}"
    add(f"Ik woon op de {a} in Utrecht.", "nl", "written", ("address", a))
for _ in range(4):
    a = f"{rng.choice(STREETS).lower()} {NUM_NL[rng.choice(list(NUM_NL))]}"
    add(f"mijn adres is {a}", "nl", "asr", ("address", a))
for _ in range(2):
    a = f"Laan van Meerdervoort {rng.randint(1, 900)}"
    add(f"Het adres is {a}, Den Haag", "nl", "written", ("address", a))
for _ in range(6):
    a = f"{rng.randint(1, 200)} {rng.choice(EN_STREETS)}"
    add(f"I live at {a} in Amsterdam", "en", "written", ("address", a))

# ------------------------------------------------------------------ birth date (26)
for _ in range(8):
    d = f"{rng.randint(1, 28)} {rng.choice(MONTHS_NL)} {rng.randint(1930, 2005)}"
    add(f"Ik ben geboren op {d}.", "nl", "written", ("birth_date", d))
for _ in range(6):
    d = f"{rng.randint(1, 28):02d}-{rng.randint(1, 12):02d}-{rng.randint(1930, 2005)}"
    add(f"Mijn geboortedatum is {d}", "nl", "written", ("birth_date", d))
for _ in range(4):
    day = rng.choice(list(NUM_NL))
    decade = rng.choice(["vijftig", "zestig", "zeventig"])
    d = f"{NUM_NL[day]} {rng.choice(MONTHS_NL)} negentien{decade}"
    add(f"geboren op {d}", "nl", "spoken", ("birth_date", d))
for _ in range(4):
    d = f"{rng.choice(MONTHS_EN)} {rng.randint(1, 28)}, {rng.randint(1930, 2005)}"
    add(f"My date of birth is {d}.", "en", "written", ("birth_date", d))
for _ in range(4):
    d = f"{rng.randint(1, 28)} {rng.choice(MONTHS_EN)} {rng.randint(1930, 2005)}"
    add(f"I was born on {d}", "en", "written", ("birth_date", d))

# ------------------------------------------------------------------ names (64)
for cue in ["Mijn naam is", "Ik heet", "U spreekt met", "Goedemiddag, met", "Goedemorgen, met"]:
    for _ in range(5):
        n = name_nl()
        add(f"{cue} {n}, ik heb een vraag.", "nl", "written", ("name", n))
for cue in ["mijn naam is", "ik heet", "goedemiddag met"]:
    for _ in range(4):
        n = name_nl().lower()
        add(f"{cue} {n} en ik bel over mijn uitkering", "nl", "asr", ("name", n))
for _ in range(5):
    n = name_nl()
    add(f"Ik bel namens mijn moeder, {n}.", "nl", "written", ("name", n))
for _ in range(4):
    sur = rng.choice(SURNAME_NL)
    add(f"Ik bel voor mevrouw {sur} over haar AOW.", "nl", "written", ("name", sur))
for cue in ["My name is", "This is", "Hello, this is"]:
    for _ in range(4):
        n = name_en()
        add(f"{cue} {n} and I am calling about my benefit.", "en", "written", ("name", n))
for _ in range(3):
    n = name_en().lower()
    add(f"my name is {n} i live in rotterdam", "en", "asr", ("name", n))

# ------------------------------------------------------------------ plate (20)
for _ in range(10):
    p = make_plate()
    add(f"Mijn kenteken is {p}.", "nl", "written", ("plate", p))
for _ in range(4):
    p = make_plate()
    add(f"Het gaat om de auto met {p}", "nl", "written", ("plate", p))
for _ in range(3):
    p = make_plate().replace("-", " ").lower()
    add(f"kenteken {p}", "nl", "asr", ("plate", p))
for _ in range(3):
    p = make_plate()
    add(f"The licence plate is {p}", "en", "written", ("plate", p))

# ------------------------------------------------------------------ document (20)
for cue in ["Mijn paspoortnummer is", "Het documentnummer van mijn identiteitskaart is",
            "Mijn rijbewijs heeft nummer"]:  # fmt: skip
    for _ in range(4):
        d = make_document()
        add(f"{cue} {d}.", "nl", "written", ("document", d))
for _ in range(4):
    d = make_document()
    s = " ".join(d.lower())
    add(f"mijn paspoort nummer is {s}", "nl", "spoken", ("document", s))
for _ in range(4):
    d = make_document()
    add(f"My passport number is {d}", "en", "written", ("document", d))

# ------------------------------------------------------------------ several in one (16)
for _ in range(8):
    n, b = name_nl(), make_bsn()
    d = make_phone("mobile")[0]
    add(f"Met {n}, mijn BSN is {b} en mijn nummer is {d}.", "nl", "written",
        ("name", n), ("bsn", b), ("phone", d))  # fmt: skip
for _ in range(4):
    b, i = make_bsn(), make_iban()
    add(f"bsn {spoken(b, 'nl')} en rekening {spaced_iban(i)}", "nl", "spoken",
        ("bsn", spoken(b, "nl")), ("iban", spaced_iban(i)))  # fmt: skip
for _ in range(4):
    n = name_en()
    d = f"{rng.randint(1, 28)} {rng.choice(MONTHS_EN)} {rng.randint(1930, 2005)}"
    add(f"My name is {n}, date of birth {d}.", "en", "written", ("name", n), ("birth_date", d))

# ------------------------------------------------------------------ hard (not tuned for)
# Written after the detector, as a recogniser might render them, to see what it misses.
add("Ja, Fatima hier.", "nl", "hard", ("name", "Fatima"))
add("ik bel voor mevrouw zwanenburg", "nl", "hard", ("name", "zwanenburg"))
add("hoi, met Bram", "nl", "hard", ("name", "Bram"))
add("Ik ben Kees en ik heb een vraag.", "nl", "hard", ("name", "Kees"))
add("Het gaat om mijn dochter Lotte.", "nl", "hard", ("name", "Lotte"))
add("met de heer Oosterhuis graag", "nl", "hard", ("name", "Oosterhuis"))
add("I'm Sarah, calling for my father.", "en", "hard", ("name", "Sarah"))
add("it's George Fairweather here", "en", "hard", ("name", "George Fairweather"))
for _ in range(3):
    b = make_bsn()
    w = f"{spoken(b[:3], 'nl')}, {spoken(b[3:6], 'nl')}, {spoken(b[6:], 'nl')}"
    add(f"Mijn BSN is {w}.", "nl", "hard", ("bsn", w))
d = make_phone("mobile")[0]
w = f"{d[:2]} - {d[2:4]} {d[4:6]} {d[6:8]} {d[8:]}"
add(f"Bel me op {w}.", "nl", "hard", ("phone", w))
add("nul zes twaalf vierendertig zesenvijftig achtenzeventig", "nl", "hard",
    ("phone", "nul zes twaalf vierendertig zesenvijftig achtenzeventig"))  # fmt: skip
d = make_phone("gb")[0]
w = "oh " + spoken(d[3:], "en")
add(f"the number is {w}", "en", "hard", ("phone", w))
i = make_iban()
w = " ".join(c.lower() if c.isalpha() else NL_DIGITS[int(c)] for c in i)
add(f"mijn iban is {w}", "nl", "hard", ("iban", w))
add("postcode 3511ab", "nl", "hard", ("postcode", "3511ab"))
add("ik woon op nummer 12 in de kerkstraat", "nl", "hard", ("address", "12 in de kerkstraat"))
add("geboren in negentien achtenveertig", "nl", "hard", ("birth_date", "negentien achtenveertig"))
add("my date of birth is twelve may nineteen eighty", "en", "hard",
    ("birth_date", "twelve may nineteen eighty"))  # fmt: skip
add("de auto met gv 123 b", "nl", "hard", ("plate", "gv 123 b"))
d = make_document()
add(f"het nummer op mijn id kaart is {d.lower()}", "nl", "hard", ("document", d.lower()))
e = "pietje@ziggo.nl"
add(f"mail naar {e.replace('@', ' at ')}", "nl", "hard", ("email", e.replace("@", " at ")))

# ------------------------------------------------------------------ clean (120)
CLEAN_NL = [
    "De AOW komt rond de 23e.",
    "de aow komt rond de drieëntwintigste",
    "Bel 0800-0543.",
    "Ik heb een vraag over de huurtoeslag.",
    "Wanneer wordt de kinderbijslag betaald?",
    "Ik kreeg 1.250 euro terug van de Belastingdienst.",
    "Het bedrag was € 312,50.",
    "Mijn uitkering is sinds 1 januari lager.",
    "In 2023 heb ik aangifte gedaan.",
    "Ik heb op 14 maart een brief gekregen.",
    "Kan ik de aanslag van 2022 nog betalen?",
    "De zorgtoeslag is 123 euro per maand.",
    "Ik moet vóór 1 mei aangifte doen.",
    "Waar vind ik formulier 12?",
    "De Belastingtelefoon is 0800-0543.",
    "Ik heb de SVB gisteren gebeld, maar niemand nam op.",
    "Bel de gemeente op 14 020.",
    "ik heb een vraag over mijn pensioen",
    "hoeveel huurtoeslag krijg ik",
    "wanneer krijg ik mijn geld",
    "ik wil een medewerker spreken",
    "kunt u dat herhalen",
    "ja dat klopt",
    "nee dat is niet goed",
    "ik begrijp het niet",
    "De brief is van 3 juni.",
    "Mijn huur is 850 euro.",
    "Ik ben 67 jaar.",
    "Ik ben vorig jaar met pensioen gegaan.",
    "Het is het derde kwartaal van 2024.",
    "Ik woon in Utrecht.",
    "Ik woon al 20 jaar in Nederland.",
    "Mijn zoon studeert in Delft.",
    "Ik bel over de toeslagen van 2021 en 2022.",
    "Is de AOW-leeftijd 67 jaar en 3 maanden?",
    "Kan ik 0900-1234 bellen?",
    "Ik heb twee kinderen.",
    "Wij zijn met z'n vieren.",
    "het is een vraag over de tweede termijn",
    "ik heb een en ander nagekeken",
    "De termijn is 6 weken.",
    "Ik kreeg een boete van 50 euro.",
    "Kan het in 12 termijnen?",
    "Mijn inkomen is 32.000 euro per jaar.",
    "Ik werk 24 uur per week.",
    "Is er een loket in Den Haag?",
    "Waar is het kantoor van de belastingdienst in Utrecht?",
    "De afspraak is om 10.30 uur.",
    "Ik heb op 1-2-2024 een brief gestuurd.",
    "Graag een afspraak op dinsdag 12 maart.",
    "Hoe vraag ik DigiD aan?",
    "Ik heb een vraag over het eigen risico van 385 euro.",
    "Ik ontving 2 brieven met verschillende bedragen.",
    "Het gaat om de periode 2019 tot 2021.",
    "ik wil graag weten wanneer de uitbetaling is",
    "de uitbetaling is op de vijftiende",
    "moet ik voor een juli betalen",
    "ik heb een brief van het cak",
    "wat is het nummer van duo",
    "Ik heb vragen over de Wet kinderopvang.",
    "Mag ik een betalingsregeling?",
    "Ik ben met de Belastingdienst in gesprek geweest.",
    "Mijn moeder is 90 jaar geworden.",
    "Bel 0800-1234 voor meer informatie.",
    "Het Juridisch Loket helpt gratis.",
    "Ik heb de voorlopige aanslag voor 2025 gekregen.",
    "Ik heb 3 vragen.",
    "ik heb een vraag over mijn aanslag",
    "een vraag over de zorgtoeslag graag",
    "Mijn vraag gaat over de Wmo.",
    "Ik heb bezwaar gemaakt op 5 april.",
    "Hoeveel AOW krijg ik als ik samenwoon?",
    "Het is 1 procent meer dan vorig jaar.",
    "ik bel namens de woningcorporatie",
    "Ik bel voor mijn moeder over haar AOW.",
    "Goedemiddag, ik heb een vraag.",
    "Goedemorgen, met wie spreek ik?",
    "De straat is afgesloten.",
    "Bij ons in de straat is een loket.",
]
CLEAN_EN = [
    "When will my pension be paid?",
    "I have a question about the housing allowance.",
    "Call 0800-0543 for the tax office.",
    "I received 500 euros in March.",
    "My benefit stopped on 1 January.",
    "In 2023 I moved to the Netherlands.",
    "Can I speak to an agent please?",
    "What is the number for DUO?",
    "I am 67 years old.",
    "This is about my tax return for 2022.",
    "I'm calling about the child benefit.",
    "It is about the letter of 12 May.",
    "Is the office open on Monday?",
    "I pay 900 euros rent per month.",
    "I have two children.",
    "I worked 32 hours a week.",
    "Can I pay in 12 instalments?",
    "The payment is on the 23rd.",
    "I was born in Poland.",
    "My name is on the letter.",
    "This is my first time calling.",
    "I'm from the UK.",
    "I live in Rotterdam.",
    "Thank you very much.",
    "yes that is right",
    "no that is not correct",
    "could you repeat that",
    "i do not understand",
    "one moment please",
    "I have one question about the allowance.",
    "Is it 1.5 percent higher this year?",
    "the deadline is the first of May",
    "I got a fine of 40 euros.",
    "It's about the year 2021.",
    "I called on Tuesday 3 September.",
    "How much will I get in 2026?",
    "The meeting is at 9 o'clock.",
    "I moved here in 2019 with my family.",
    "For how many years do I need to live here?",
    "What is the AOW age in 2027?",
]
for t in CLEAN_NL:
    add(t, "nl", "clean")
for t in CLEAN_EN:
    add(t, "en", "clean")

OUT.parent.mkdir(parents=True, exist_ok=True)
with OUT.open("w", encoding="utf-8") as f:
    for row in rows:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
dirty = sum(1 for r in rows if r["items"])
print(f"{len(rows)} lines ({dirty} with personal data, {len(rows) - dirty} clean) → {OUT}")
