"""The knowledge-file check (dialogue/knowledge/validate.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from .conftest import ROOT, load_module

validate = load_module("loket_knowledge_validate", ROOT / "dialogue" / "knowledge" / "validate.py")

TODAY = dt.date(2026, 11, 28)

ANSWER = dedent(
    """
    version: "3.1"
    responses:
      utter_faq/aow_payment:
      - text: "{nl}"
        metadata: {{topic: "de AOW"}}
      - condition:
        - {{type: slot, name: language, value: en}}
        text: "{en}"
        metadata: {{topic: "the state pension"}}
    """
)

ENTRY = dedent(
    """
    version: 1
    topics:
      aow_payment:
        label_nl: AOW-uitbetaling
        organisation: SVB
        source: {source}
        review_by: {review_by}
        must_state: {{nl: [SVB, "23e"], en: [SVB, 23rd]}}
    """
)

NL = "De SVB betaalt de AOW rond de 23e van de maand."
EN = "The SVB pays the AOW around the 23rd of the month."


def make_project(
    tmp_path: Path,
    nl: str = NL,
    en: str = EN,
    source: str = "https://www.svb.nl/nl/aow",
    review_by: str = "2027-06-30",
) -> tuple[Path, Path]:
    rasa = tmp_path / "rasa"
    (rasa / "domain").mkdir(parents=True)
    (rasa / "data" / "nlu").mkdir(parents=True)
    (rasa / "data" / "nlu" / "aow.yml").write_text(ANSWER.format(nl=nl, en=en))
    facts = tmp_path / "facts.yml"
    facts.write_text(ENTRY.format(source=source, review_by=review_by))
    return rasa, facts


def check(rasa: Path, facts: Path, today: dt.date = TODAY) -> Any:
    return validate.validate(rasa, facts, ROOT / "config" / "default.yaml", today)


def test_the_project_itself_passes() -> None:
    report = validate.validate(today=TODAY)
    assert report.errors == []
    assert report.checked >= 25


def test_agreeing_answer_passes(tmp_path: Path) -> None:
    report = check(*make_project(tmp_path))
    assert (report.errors, report.warnings) == ([], [])


def test_answer_without_a_topic_name_fails(tmp_path: Path) -> None:
    rasa, facts = make_project(tmp_path)
    answer = rasa / "data" / "nlu" / "aow.yml"
    answer.write_text(answer.read_text().replace('metadata: {topic: "the state pension"}', ""))
    report = check(rasa, facts)
    assert [e for e in report.errors if "topic name" in e] == [
        "utter_faq/aow_payment: no en topic name for the confirmation question "
        '("U vraagt naar …, klopt dat?"): add `metadata: {topic: ...}`'
    ]


def test_answer_without_source_fails(tmp_path: Path) -> None:
    report = check(*make_project(tmp_path, source='""'))
    assert any("no `source`" in e for e in report.errors)


def test_source_must_be_a_web_address(tmp_path: Path) -> None:
    report = check(*make_project(tmp_path, source="the SVB website"))
    assert any("not an https:// web address" in e for e in report.errors)


def test_past_review_date_warns_but_passes(tmp_path: Path) -> None:
    report = check(*make_project(tmp_path, review_by="2026-01-31"))
    assert report.errors == []
    assert any("review date 2026-01-31 has passed" in w for w in report.warnings)


def test_answer_that_drops_its_fact_fails(tmp_path: Path) -> None:
    report = check(*make_project(tmp_path, nl="De SVB betaalt de AOW elke maand."))
    assert any("does not state '23e'" in e for e in report.errors)


def test_answer_longer_than_35_words_fails(tmp_path: Path) -> None:
    long_nl = "De SVB betaalt de AOW rond de 23e van de maand " + "en nog veel meer " * 8 + "."
    report = check(*make_project(tmp_path, nl=long_nl))
    assert any("words, at most 35" in e for e in report.errors)


def test_answer_of_three_sentences_fails(tmp_path: Path) -> None:
    report = check(*make_project(tmp_path, nl="De SVB betaalt. Rond de 23e. Elke maand."))
    assert any("3 sentences" in e for e in report.errors)


def test_answer_without_knowledge_entry_fails(tmp_path: Path) -> None:
    rasa, facts = make_project(tmp_path)
    (rasa / "data" / "nlu" / "extra.yml").write_text(
        'responses:\n  utter_faq/new_topic:\n  - text: "Nieuw."\n'
    )
    report = check(rasa, facts)
    assert any("utter_faq/new_topic: answer has no entry" in e for e in report.errors)


def test_entry_without_english_answer_fails(tmp_path: Path) -> None:
    rasa, facts = make_project(tmp_path)
    (rasa / "data" / "nlu" / "aow.yml").write_text(
        f'responses:\n  utter_faq/aow_payment:\n  - text: "{NL}"\n'
    )
    report = check(rasa, facts)
    assert any("no en text" in e for e in report.errors)


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Kijk op rijksoverheid.nl voor de bedragen.", 1),
        ("Bel 0800-0543. Kan ik nog iets doen?", 2),
        ("Het is minstens 8% van uw brutoloon", 1),
    ],
)
def test_sentence_count(text: str, sentences: int) -> None:
    assert validate.count_sentences(text) == sentences


def test_command_line_exit_codes(tmp_path: Path) -> None:
    rasa, facts = make_project(tmp_path, nl="Geen feit.")
    args = ["--rasa-dir", str(rasa), "--facts", str(facts), "--today", "2026-11-28"]
    assert validate.main(args) == 1
    rasa2, facts2 = make_project(tmp_path / "ok")
    assert validate.main(["--rasa-dir", str(rasa2), "--facts", str(facts2)]) == 0
