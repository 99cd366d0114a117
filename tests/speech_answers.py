"""Every text a caller can hear, as written: each response variant of the Rasa project
(domain/ and the retrieval responses in data/, slot placeholders filled with a number or
the configured opening hours) and every prompt of config/default.yaml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
RASA = ROOT / "dialogue" / "rasa"
CONFIG = yaml.safe_load((ROOT / "config" / "default.yaml").read_text(encoding="utf-8"))


def _placeholder(match: re.Match[str]) -> str:
    name = match.group(1)
    if name.startswith("opening_hours_"):
        return str(CONFIG["opening_hours"][name.removeprefix("opening_hours_")])
    return "12"  # {position}, {minutes} …: a number, which must come out in words too


def _fill(text: str) -> str:
    return re.sub(r"\{(\w+)\}", _placeholder, text)


def _language(variant: dict[str, Any]) -> str:
    for cond in variant.get("condition") or []:
        if isinstance(cond, dict) and cond.get("name") == "language":
            return str(cond["value"])
    return str(CONFIG["default_language"])


def rasa_answers() -> list[tuple[str, str, str]]:
    """(where, language, text) of every response variant with a text."""
    out = []
    files = sorted((RASA / "domain").glob("**/*.yml")) + sorted((RASA / "data").glob("**/*.yml"))
    for path in [*files, RASA / "domain.yml"]:
        if not path.exists():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        responses = data.get("responses") if isinstance(data, dict) else None
        for name, variants in (responses or {}).items():
            for variant in variants:
                if isinstance(variant, dict) and isinstance(variant.get("text"), str):
                    where = f"{path.relative_to(RASA)}:{name}"
                    out.append((where, _language(variant), _fill(variant["text"])))
    return out


def config_prompts() -> list[tuple[str, str, str]]:
    out = []
    for lang, conf in CONFIG["languages"].items():
        for name, value in conf.items():
            if isinstance(value, str):
                out.append((f"default.yaml:{lang}.{name}", lang, _fill(value)))
    out += [(f"default.yaml:opening_hours.{k}", k, v) for k, v in CONFIG["opening_hours"].items()]
    return out


ANSWERS = rasa_answers() + config_prompts()
