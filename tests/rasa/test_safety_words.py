"""The crisis and emergency word lists (data/nlu/handoff.yml) stay narrow.

components/safety_net.py makes any message matching `crisis_words` a crisis and any
matching `emergency_words` an emergency, whatever the classifier says. A too-broad
pattern (say `dood`) would send ordinary questions to 113 or 112, so no example of
another intent, and no non-safety line of unseen_phrasings.txt, may match. Runs
without Rasa: the component uses Python's `re` with IGNORECASE, as here.
"""

from __future__ import annotations

import re

import yaml

from .conftest import RASA_DIR, ROOT

LISTS = {"crisis_words": "crisis", "emergency_words": "emergency"}


def word_lists() -> dict[str, re.Pattern[str]]:
    found: dict[str, list[str]] = {}
    for path in (RASA_DIR / "data" / "nlu").rglob("*.yml"):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if item.get("regex") in LISTS:
                lines = str(item["examples"]).splitlines()
                found[item["regex"]] = [ln.strip()[2:] for ln in lines if ln.strip()]
    assert set(found) == set(LISTS), "both word lists must be under `nlu:`"
    return {
        LISTS[name]: re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
        for name, patterns in found.items()
    }


def verdict(lists: dict[str, re.Pattern[str]], text: str) -> str | None:
    return next((intent for intent, rx in lists.items() if rx.search(text)), None)


def examples() -> list[tuple[str, str]]:
    rows = []
    for path in (RASA_DIR / "data" / "nlu").rglob("*.yml"):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in item:
                for line in str(item["examples"]).splitlines():
                    if line.strip():
                        rows.append((str(item["intent"]), line.strip()[2:]))
    return rows


def test_no_other_example_matches_a_safety_list() -> None:
    lists = word_lists()
    wrong = [(i, t, verdict(lists, t)) for i, t in examples() if i not in LISTS.values()]
    assert [w for w in wrong if w[2]] == []


def test_a_matched_safety_example_gets_its_own_intent() -> None:
    lists = word_lists()
    safety = [(i, t) for i, t in examples() if i in LISTS.values()]
    assert len(safety) > 100
    assert [(i, t) for i, t in safety if verdict(lists, t) not in (None, i)] == []


def test_no_unseen_everyday_line_matches() -> None:
    lists = word_lists()
    rows = (ROOT / "tests" / "rasa" / "unseen_phrasings.txt").read_text(encoding="utf-8")
    hits = []
    for line in rows.splitlines():
        if "|" in line and not line.startswith("#"):
            expected, text = (part.strip() for part in line.split("|", 1))
            if not set(expected.split()) & set(LISTS.values()) and verdict(lists, text):
                hits.append(text)
    assert hits == []


def test_the_lists_know_idioms_from_danger() -> None:
    lists = word_lists()
    assert verdict(lists, "ik wil niet meer leven") == "crisis"
    assert verdict(lists, "my baby is not breathing") == "emergency"
    for everyday in (
        "ik kan niet meer leven van mijn uitkering",
        "How do I call the fire brigade?",
        "mijn auto is aangereden op de parkeerplaats",
        "wat bel ik als iemand onwel wordt",
        "I want a brand new passport",
    ):
        assert verdict(lists, everyday) is None, everyday
