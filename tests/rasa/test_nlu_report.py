"""scripts/rasa/nlu_report.py joins intent and answer predictions into one label."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import SCRIPTS_DIR, load_module

nlu_report = load_module("loket_rasa_nlu_report", SCRIPTS_DIR / "nlu_report.py")


def test_an_unsure_faq_counts_as_the_topic_it_asks_about(tmp_path: Path) -> None:
    intents = [
        {
            "text": "wanneer komt de auw",
            "intent": "faq",
            "intent_prediction": {"name": "confirm_topic"},
        },
        {
            "text": "medewerker",
            "intent": "request_human",
            "intent_prediction": {"name": "confirm_topic"},
        },
    ]
    selections = [
        {
            "text": "wanneer komt de auw",
            "intent_response_key_target": "faq/aow_payment",
            "intent_response_key_prediction": {"name": "faq/aow_payment"},
        }
    ]
    (tmp_path / "intent_errors.json").write_text(json.dumps(intents))
    (tmp_path / "response_selection_successes.json").write_text(json.dumps(selections))
    assert nlu_report.joined_labels(tmp_path) == [
        ("wanneer komt de auw", "faq/aow_payment", "faq/aow_payment"),
        ("medewerker", "request_human", "faq/?"),
    ]
