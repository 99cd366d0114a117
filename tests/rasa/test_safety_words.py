"""The crisis and emergency word lists (data/nlu/handoff.yml) stay narrow.

components/safety_net.py makes any message matching `crisis_words` a crisis and any
matching `emergency_words` an emergency, whatever the classifier says. A too-broad
pattern (say `dood`) would send ordinary questions to 113 or 112, so no example of
another intent, and no non-safety line of unseen_phrasings.txt, may match. Runs
without Rasa, with the component's own matcher (components/words.py).
"""

from __future__ import annotations

from .conftest import RASA_DIR, listed, load_module, nlu_examples, nlu_items, unseen_phrasings

words = load_module("loket_rasa_words", RASA_DIR / "components" / "words.py")

LISTS = {"crisis_words": "crisis", "emergency_words": "emergency"}


def word_lists() -> list[tuple[str, object]]:
    found = {str(i["regex"]): listed(i) for i in nlu_items() if i.get("regex") in LISTS}
    assert set(found) == set(LISTS), "both word lists must be under `nlu:`"
    lists: list[tuple[str, object]] = words.compile_lists({n: found[n] for n in LISTS})
    return lists


def verdict(lists: list[tuple[str, object]], text: str) -> str | None:
    """The intent the safety net would set (None: the classifier's stays)."""
    matched = words.first_match(lists, text)
    return None if matched is None else LISTS[matched]


def test_no_other_example_matches_a_safety_list() -> None:
    lists = word_lists()
    wrong = [(i, t, verdict(lists, t)) for i, t in nlu_examples() if i not in LISTS.values()]
    assert [w for w in wrong if w[2]] == []


def test_a_matched_safety_example_gets_its_own_intent() -> None:
    lists = word_lists()
    safety = [(i, t) for i, t in nlu_examples() if i in LISTS.values()]
    assert len(safety) > 100
    assert [(i, t) for i, t in safety if verdict(lists, t) not in (None, i)] == []


def test_no_unseen_everyday_line_matches() -> None:
    lists = word_lists()
    hits = [
        text
        for expected, text in unseen_phrasings()
        if not expected & set(LISTS.values()) and verdict(lists, text)
    ]
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
