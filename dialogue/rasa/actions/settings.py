"""Configuration the actions read: handoff queues, topic labels, opening hours.

No rasa_sdk import here, so the gateway's tests can exercise it directly.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

RASA_DIR = Path(__file__).resolve().parents[1]          # dialogue/rasa
PROJECT_DIR = RASA_DIR.parents[1]                         # the repository root
QUEUES_FILE = RASA_DIR / "handoff_queues.yml"
FACTS_FILE = PROJECT_DIR / "dialogue" / "knowledge" / "facts.yml"
CONFIG_DIR = PROJECT_DIR / "config"

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

_LANGUAGE_NAMES = {
    "nl": "nl", "nld": "nl", "dut": "nl", "dutch": "nl", "nederlands": "nl",
    "en": "en", "eng": "en", "english": "en", "engels": "en",
}

# Said when no opening hours are configured at all (should not happen in a deployment).
_HOURS_FALLBACK = {
    "nl": "Onze openingstijden vindt u op rijksoverheid.nl.",
    "en": "You can find our opening hours on rijksoverheid.nl.",
}

_cache: Dict[Path, Tuple[float, Any]] = {}


def load_yaml(path: Path) -> Any:
    """Parsed YAML file, re-read only when its modification time changes."""
    mtime = path.stat().st_mtime
    hit = _cache.get(path)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
    _cache[path] = (mtime, data)
    return data


def normalise_language(value: Any) -> Optional[str]:
    """'nl' or 'en' for the spellings a client may send ('en-US', 'English'), else None."""
    if not isinstance(value, str):
        return None
    key = value.strip().lower().replace("_", "-").split("-")[0]
    return _LANGUAGE_NAMES.get(key)


def clean_text(text: Any, limit: int = 200) -> str:
    """Caller text made safe to store and show: no control characters, one line, trimmed."""
    if not isinstance(text, str):
        return ""
    kept = "".join(
        ch if unicodedata.category(ch)[0] != "C" else " " for ch in text
    )
    words = " ".join(kept.split())
    if len(words) <= limit:
        return words
    cut = words[:limit].rsplit(" ", 1)[0] or words[:limit]
    return cut + "…"


def queues() -> Dict[str, Any]:
    """handoff_queues.yml as a dict."""
    data = load_yaml(QUEUES_FILE)
    return data if isinstance(data, dict) else {}


def topic_labels() -> Dict[str, str]:
    """Dutch label per topic (for the agent's summary), from the knowledge file."""
    try:
        data = load_yaml(FACTS_FILE)
    except OSError:
        return {}
    topics = data.get("topics", {}) if isinstance(data, dict) else {}
    return {
        key: str(entry.get("label_nl", key))
        for key, entry in topics.items()
        if isinstance(entry, dict)
    }


def _config_files(environ: Mapping[str, str]) -> List[Path]:
    # Same order as the gateway's settings loader (config/settings.py).
    files = [CONFIG_DIR / "default.yaml"]
    extra = environ.get("LOKET_CONFIG")
    if extra:
        files += [Path(p) for p in extra.split(":") if p]
    elif (CONFIG_DIR / "local.yaml").exists():
        files.append(CONFIG_DIR / "local.yaml")
    return files


def opening_hours(environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The helpline's opening hours per language, as configured for the gateway.

    Sources, later wins: config/default.yaml `opening_hours`, the files in
    LOKET_CONFIG (or config/local.yaml), then LOKET_OPENING_HOURS__NL /
    LOKET_OPENING_HOURS_NL (and _EN) environment variables.
    """
    env = os.environ if environ is None else environ
    hours = dict(_HOURS_FALLBACK)
    for path in _config_files(env):
        try:
            data = load_yaml(path)
        except (OSError, yaml.YAMLError):
            continue
        section = data.get("opening_hours") if isinstance(data, dict) else None
        if isinstance(section, dict):
            for lang in LANGUAGES:
                if isinstance(section.get(lang), str) and section[lang].strip():
                    hours[lang] = section[lang].strip()
    for lang in LANGUAGES:
        for name in (f"LOKET_OPENING_HOURS__{lang.upper()}", f"LOKET_OPENING_HOURS_{lang.upper()}"):
            value = env.get(name, "").strip()
            if value:
                hours[lang] = value
    return hours
