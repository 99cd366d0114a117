"""Check that the knowledge file and the assistant's answers agree.

Usage: python dialogue/knowledge/validate.py [--today YYYY-MM-DD]

The answers' wording lives in the Rasa project (dialogue/rasa); facts.yml records
for each answer the fact it must state, its source and a review-by date. Errors
(exit code 1): an answer without a knowledge entry or source, an entry without an
answer in Dutch and English, an answer that no longer states its fact, an answer
longer than two sentences or 35 words, an answer without the topic name the
confirmation question uses (`metadata: {topic: ...}` per language). Warning: the
review-by date has passed.
Runs on the gateway's Python and on the Rasa one; needs only PyYAML.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
RASA_DIR = PROJECT / "dialogue" / "rasa"
FACTS_FILE = HERE / "facts.yml"
CONFIG_FILE = PROJECT / "config" / "default.yaml"

FAQ_PREFIX = "utter_faq/"
MAX_WORDS = 35
MAX_SENTENCES = 2
LANGUAGES = ("nl", "en")
REQUIRED_FIELDS = ("label_nl", "organisation", "source", "review_by", "must_state")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_URL = re.compile(r"^https://[^\s/]+\.[^\s]+$")


@dataclass
class Report:
    """What the check found."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: int = 0


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def collect_responses(rasa_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """All responses of the Rasa project: domain files and training-data files."""
    found: dict[str, list[dict[str, Any]]] = {}
    for folder in ("domain", "data"):
        for path in sorted((rasa_dir / folder).rglob("*.yml")):
            data = _load(path)
            if isinstance(data, dict) and isinstance(data.get("responses"), dict):
                for name, variations in data["responses"].items():
                    found.setdefault(str(name), []).extend(variations or [])
    domain_file = rasa_dir / "domain.yml"
    if domain_file.exists():
        data = _load(domain_file)
        if isinstance(data, dict):
            for name, variations in (data.get("responses") or {}).items():
                found.setdefault(str(name), []).extend(variations or [])
    return found


def _language_of(variation: dict[str, Any]) -> str | None:
    """'nl' for the unconditional variation, 'en' for `language: en`, else None."""
    conditions = variation.get("condition") or []
    if not conditions:
        return "nl"
    for cond in conditions:
        if isinstance(cond, dict) and cond.get("name") == "language":
            value = str(cond.get("value"))
            return value if value in LANGUAGES else None
    return None


def texts_by_language(variations: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Response texts grouped by the language their condition selects."""
    result: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for variation in variations:
        lang = _language_of(variation)
        if lang is not None and isinstance(variation.get("text"), str):
            result[lang].append(variation["text"])
    return result


def count_sentences(text: str) -> int:
    """Sentences in a spoken answer ("rijksoverheid.nl" is not a sentence end)."""
    parts = [p for p in _SENTENCE_END.split(text.strip()) if p.strip()]
    return max(1, len(parts))


def count_words(text: str) -> int:
    return len(text.split())


def _check_length(where: str, text: str, report: Report) -> None:
    words, sentences = count_words(text), count_sentences(text)
    if words > MAX_WORDS:
        report.errors.append(f"{where}: {words} words, at most {MAX_WORDS}: {text!r}")
    if sentences > MAX_SENTENCES:
        report.errors.append(f"{where}: {sentences} sentences, at most {MAX_SENTENCES}: {text!r}")


def _check_entry(
    name: str,
    entry: Any,
    variations: list[dict[str, Any]] | None,
    config: dict[str, Any],
    today: dt.date,
    report: Report,
    is_answer: bool,
) -> None:
    where = f"{name}"
    if not isinstance(entry, dict):
        report.errors.append(f"{where}: knowledge entry must be a mapping")
        return
    for key in REQUIRED_FIELDS:
        if entry.get(key) in (None, "", [], {}):
            report.errors.append(f"{where}: knowledge entry has no `{key}`")
    source = str(entry.get("source") or "")
    from_config = entry.get("from_config")
    if source and not from_config and not _URL.match(source):
        report.errors.append(f"{where}: source {source!r} is not an https:// web address")
    review_by = entry.get("review_by")
    if isinstance(review_by, str):
        try:
            review_by = dt.date.fromisoformat(review_by)
        except ValueError:
            report.errors.append(f"{where}: review_by {review_by!r} is not a YYYY-MM-DD date")
            review_by = None
    if isinstance(review_by, dt.date) and review_by < today:
        report.warnings.append(
            f"{where}: review date {review_by.isoformat()} has passed; check it against "
            f"{source} and set a new review_by"
        )
    if variations is None:
        report.errors.append(f"{where}: no such response in dialogue/rasa (domain or data)")
        return
    texts = texts_by_language(variations)
    if is_answer:
        named = {
            _language_of(v)
            for v in variations
            if isinstance(v.get("metadata"), dict)
            and isinstance(v["metadata"].get("topic"), str)
            and v["metadata"]["topic"].strip()
        }
        for lang in LANGUAGES:
            if texts[lang] and lang not in named:
                report.errors.append(
                    f"{where}: no {lang} topic name for the confirmation question "
                    '("U vraagt naar …, klopt dat?"): add `metadata: {topic: ...}`'
                )
    must_state = entry.get("must_state") or {}
    for lang in LANGUAGES:
        if not texts[lang]:
            report.errors.append(
                f"{where}: no {lang} text (Dutch: no condition; English: condition `language: en`)"
            )
            continue
        phrases = must_state.get(lang) if isinstance(must_state, dict) else None
        if not phrases:
            report.errors.append(f"{where}: must_state has no `{lang}` phrases")
            phrases = []
        for text in texts[lang]:
            for phrase in phrases:
                if str(phrase).lower() not in text.lower():
                    report.errors.append(
                        f"{where} ({lang}): answer does not state {str(phrase)!r}: {text!r}"
                    )
            if is_answer:
                spoken = text
                if from_config:
                    section = config.get(str(from_config)) or {}
                    spoken = str(section.get(lang, "")) if isinstance(section, dict) else ""
                    if not spoken:
                        report.errors.append(
                            f"{where}: config has no {from_config}.{lang} for this answer"
                        )
                _check_length(f"{where} ({lang})", spoken, report)


def validate(
    rasa_dir: Path = RASA_DIR,
    facts_file: Path = FACTS_FILE,
    config_file: Path = CONFIG_FILE,
    today: dt.date | None = None,
) -> Report:
    """Compare the knowledge file with the Rasa project's responses."""
    report = Report()
    today = today or dt.date.today()
    facts = _load(facts_file) or {}
    config = _load(config_file) if config_file.exists() else {}
    responses = collect_responses(rasa_dir)
    topics = facts.get("topics") or {}
    extra = facts.get("responses") or {}

    answers = {n[len(FAQ_PREFIX) :] for n in responses if n.startswith(FAQ_PREFIX)}
    for topic in sorted(answers - set(topics)):
        report.errors.append(
            f"{FAQ_PREFIX}{topic}: answer has no entry in {facts_file.name} "
            f"(add topics.{topic} with its source and review_by)"
        )
    for topic, entry in topics.items():
        _check_entry(
            f"{FAQ_PREFIX}{topic}",
            entry,
            responses.get(f"{FAQ_PREFIX}{topic}"),
            config or {},
            today,
            report,
            is_answer=True,
        )
        report.checked += 1
    for name, entry in extra.items():
        _check_entry(
            str(name), entry, responses.get(str(name)), config or {}, today, report, is_answer=False
        )
        report.checked += 1
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help="check review dates as if it were this day (YYYY-MM-DD)",
    )
    parser.add_argument("--rasa-dir", type=Path, default=RASA_DIR)
    parser.add_argument("--facts", type=Path, default=FACTS_FILE)
    parser.add_argument("--config", type=Path, default=CONFIG_FILE)
    args = parser.parse_args(argv)
    report = validate(args.rasa_dir, args.facts, args.config, args.today)
    for line in report.warnings:
        print(f"WARNING: {line}")
    for line in report.errors:
        print(f"ERROR: {line}")
    status = "FAILED" if report.errors else "ok"
    print(
        f"knowledge check {status}: {report.checked} entries, "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    )
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
