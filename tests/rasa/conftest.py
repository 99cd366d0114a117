"""Load the Rasa-side code (actions package, scripts) for the gateway's pytest.

The Rasa project runs on its own Python; its pure modules are imported here under
private names so nothing called `actions` or `project` lands on sys.path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tools.modules import load_module, load_package

__all__ = ["load_module", "load_package"]  # the Rasa tests import them from here

ROOT = Path(__file__).resolve().parents[2]
RASA_DIR = ROOT / "dialogue" / "rasa"
SCRIPTS_DIR = ROOT / "scripts" / "rasa"
UNSEEN = ROOT / "tests" / "rasa" / "unseen_phrasings.txt"


def nlu_items() -> list[dict[str, Any]]:
    """Every entry under `nlu:` in the NLU data (intents with examples, regex lists)."""
    import yaml

    items: list[dict[str, Any]] = []
    for path in sorted((RASA_DIR / "data" / "nlu").rglob("*.yml")):
        items += yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", [])
    return items


def listed(item: dict[str, Any]) -> list[str]:
    """The lines of an entry's `examples` block, without the leading "- "."""
    lines = str(item.get("examples", "")).splitlines()
    return [line.strip().removeprefix("- ") for line in lines if line.strip()]


def nlu_examples() -> list[tuple[str, str]]:
    """(intent, example) for every training example."""
    return [(str(i["intent"]), text) for i in nlu_items() if "intent" in i for text in listed(i)]


def unseen_phrasings() -> list[tuple[set[str], str]]:
    """(accepted intents, text) from unseen_phrasings.txt."""
    rows = []
    for line in UNSEEN.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            expected, text = line.split("|", 1)
            rows.append((set(expected.split()), text.strip()))
    return rows
