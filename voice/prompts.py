"""The fixed texts the bot says, so they can be synthesized before anyone calls.

From the settings (greeting, apology, queue announcements …) and from the Rasa
project's responses (domain files and retrieval responses in data/): every text
without a slot placeholder, per language (``condition: language: en`` → English,
otherwise the project's default, Dutch).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from config.settings import LanguageSettings, Settings

_FIXED_FIELDS = (
    "greeting", "apology", "handoff", "hold_announcement", "not_heard", "goodbye", "no_agent",
    "queue_wait_one", "queue_wait_unknown", "callback_offer", "callback_confirmed", "connecting",
    "agent_lost", "transferring",
)  # fmt: skip


def settings_texts(conf: LanguageSettings) -> list[str]:
    return [getattr(conf, name) for name in _FIXED_FIELDS]


def _language(variant: dict[str, Any], default: str) -> str:
    for cond in variant.get("condition") or []:
        if isinstance(cond, dict) and cond.get("name") == "language" and cond.get("value"):
            return str(cond["value"])
    return default


def _responses(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return
    if not isinstance(data, dict) or not isinstance(data.get("responses"), dict):
        return
    for name, variants in data["responses"].items():
        for variant in variants if isinstance(variants, list) else []:
            if isinstance(variant, dict):
                yield str(name), variant


def rasa_texts(project: Path, default_language: str = "nl") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    files = [*sorted((project / "domain").glob("**/*.yml")), project / "domain.yml"]
    files += sorted((project / "data").glob("**/*.yml"))
    for path in files:
        for _name, variant in _responses(path):
            text = variant.get("text")
            if isinstance(text, str) and text.strip() and "{" not in text:
                out.setdefault(_language(variant, default_language), []).append(text.strip())
    return out


def fixed_texts(settings: Settings) -> list[tuple[str, str]]:
    """Every fixed text as (language, text), no duplicates, in the order to synthesize them.

    The gateway's own texts in every language come first, each language's disclosure at
    the head: they are what a caller hears in the first seconds (a greeting, key 9, an
    apology), so after a restart with an empty cache they are ready within seconds
    instead of waiting behind a hundred Rasa answers."""
    rasa = rasa_texts(settings.rasa.project_dir, settings.default_language)
    ordered: list[tuple[str, str]] = [
        (lang, text) for lang, conf in settings.languages.items() for text in settings_texts(conf)
    ]
    # what a caller in a language the assistant does not speak hears (language_id.other)
    lid = settings.language_id
    if lid.enabled and lid.other and "en" in settings.languages:
        ordered.append(("en", lid.other_sentence_en))
    ordered += [(code, o.sentence) for code, o in lid.other.items() if lid.enabled and o.sentence]
    ordered += [(lang, text) for lang in settings.languages for text in rasa.get(lang, [])]
    return list(dict.fromkeys(ordered))
