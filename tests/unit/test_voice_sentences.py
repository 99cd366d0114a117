"""Sentence splitting for TTS."""

from __future__ import annotations

import pytest

from voice.sentences import split_sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Goedemorgen. Waarmee kan ik u helpen?", ["Goedemorgen.", "Waarmee kan ik u helpen?"]),
        # abbreviations
        ("Neem bijv. uw paspoort mee. Of o.a. uw rijbewijs.",
         ["Neem bijv. uw paspoort mee.", "Of o.a. uw rijbewijs."]),
        ("Neem bijv. Uw paspoort mee.", ["Neem bijv. Uw paspoort mee."]),
        ("Bring e.g. your passport. Or i.e. your ID card.",
         ["Bring e.g. your passport.", "Or i.e. your ID card."]),
        ("Dhr. Jansen helpt u. Mevr. De Vries ook.",
         ["Dhr. Jansen helpt u.", "Mevr. De Vries ook."]),
        ("Dr. Smith will call you. Thanks.", ["Dr. Smith will call you.", "Thanks."]),
        ("Zie art. 5 lid 2. Dat is alles.", ["Zie art. 5 lid 2.", "Dat is alles."]),
        ("Het is ca. 5 min. wachten. Daarna bent u aan de beurt.",
         ["Het is ca. 5 min. wachten.", "Daarna bent u aan de beurt."]),
        ("Appels, peren enz. Daarna de rest.", ["Appels, peren enz.", "Daarna de rest."]),
        ("Appels, peren enz. en de rest.", ["Appels, peren enz. en de rest."]),
        ("Open at 9 a.m. Closed on Sundays.", ["Open at 9 a.m.", "Closed on Sundays."]),
        ("Open ma. t/m vr. van 8 tot 20 uur.", ["Open ma. t/m vr. van 8 tot 20 uur."]),
        # initials and names
        ("J.P. Balkenende was premier. Daarna kwam Rutte.",
         ["J.P. Balkenende was premier.", "Daarna kwam Rutte."]),
        ("J. de Vries helpt u. Dag!", ["J. de Vries helpt u.", "Dag!"]),
        ("Ik ben Jan. Hoe kan ik helpen?", ["Ik ben Jan.", "Hoe kan ik helpen?"]),
        # numbers, phone numbers, times, money, web addresses
        ("U kunt bellen naar 0800-0543. Wij zijn open van 8.00 tot 20.00 uur.",
         ["U kunt bellen naar 0800-0543.", "Wij zijn open van 8.00 tot 20.00 uur."]),
        ("Bel 14 1400 of +31 70 123 4567. Wij helpen u graag.",
         ["Bel 14 1400 of +31 70 123 4567.", "Wij helpen u graag."]),
        ("Kom om 10.30 uur. Of om 14:00.", ["Kom om 10.30 uur.", "Of om 14:00."]),
        ("Call us at 10:30 a.m. on 0800-0543.", ["Call us at 10:30 a.m. on 0800-0543."]),
        ("Het kost € 1.250,00 per jaar. Kijk op www.rijksoverheid.nl voor meer.",
         ["Het kost € 1.250,00 per jaar.", "Kijk op www.rijksoverheid.nl voor meer."]),
        ("Versie 2.0 is uit. Nieuw!", ["Versie 2.0 is uit.", "Nieuw!"]),
        # punctuation, quotes, line breaks
        ("Echt? Ja! Goed zo…  Dank u.", ["Echt?", "Ja!", "Goed zo…", "Dank u."]),
        ('Hij zei: "Kom maar." Toen ging hij.', ['Hij zei: "Kom maar."', "Toen ging hij."]),
        ("Eerste regel\nTweede regel", ["Eerste regel", "Tweede regel"]),
        ("Goed zo. Dan gaan we verder.", ["Goed zo.", "Dan gaan we verder."]),
        ("De wachtrij is vol. Belt u later terug.", ["De wachtrij is vol.", "Belt u later terug."]),
        ("The answer is no. Please call again.", ["The answer is no.", "Please call again."]),
        ("", []),
        ("   \n  ", []),
        ("Zonder punt aan het eind", ["Zonder punt aan het eind"]),
    ],
)  # fmt: skip
def test_split(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_long_sentence_is_cut_at_a_clause_boundary() -> None:
    text = ", ".join(["a" * 60] * 6) + "."
    pieces = split_sentences(text, max_chars=150)
    assert all(len(p) <= 150 for p in pieces)
    assert " ".join(pieces) == text
    assert all(p.endswith((",", ".")) for p in pieces)


def test_long_sentence_without_a_clause_boundary_stays_whole() -> None:
    text = " ".join(["woord"] * 80) + "."
    assert split_sentences(text, max_chars=100) == [text]
    assert split_sentences(", ".join(["x" * 60] * 6), max_chars=None) == [", ".join(["x" * 60] * 6)]
