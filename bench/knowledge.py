"""No answer rather than a wrong one: the knowledge batch through a real Rasa stack.

Every line of tests/data/knowledge_batch.txt (written before the change it measures)
starts a new conversation with the trained model, a real Rasa server and the action
server over the REST channel. The first reply is classed as: a factual answer (which
topic: matched against every known answer text), a confirmation question naming a
topic ("U vraagt naar …, klopt dat?"), or no fact (rephrase, "cannot help", a handoff).

Out of scope (`none`): a factual answer is a failure; a confirmation question is counted
apart (the caller can say no). In scope: correct = the right answer, or a confirmation
of the right topic. Results go under ``--label`` into bench/results/knowledge.json.

    flock /tmp/loket-heavy.lock .venv/bin/python -m bench.knowledge --label after
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from bench.common import RESULTS, ROOT, write_result
from tests.tools.modules import load_module

BATCH = ROOT / "tests" / "data" / "knowledge_batch.txt"
RASA_DIR = ROOT / "dialogue" / "rasa"
PORTS = (5405, 5455)
ENGLISH_HINTS = frozenset(
    "the my i do how what where when who which why can does need you is it to a of for "
    "an am get".split()
)
DUTCH_HINTS = frozenset("de het een ik mijn hoe wat waar wanneer moet kan ben heb wie".split())
CONFIRM = re.compile(r"^(?:U vraagt naar|You are asking about) (.+?), (?:klopt dat|is that right)")


def language_of(text: str) -> str:
    words = text.split()
    english = sum(w in ENGLISH_HINTS for w in words)
    dutch = sum(w in DUTCH_HINTS for w in words)
    return "en" if english > dutch else "nl"


def batch(path: Path = BATCH) -> list[tuple[str, str, str]]:
    """(expected, language, text): expected is 'none' or a topic key."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            expected, text = (part.strip() for part in line.split("|", 1))
            rows.append((expected.removeprefix("faq/"), language_of(text), text))
    return rows


def known_answers() -> tuple[dict[str, str], dict[str, str]]:
    """answer text -> topic, topic name -> topic, from the Rasa responses and the knowledge base."""
    config = yaml.safe_load((ROOT / "config" / "default.yaml").read_text(encoding="utf-8"))
    hours = config.get("opening_hours") or {}
    answers: dict[str, str] = {}
    names: dict[str, str] = {}
    validate = load_module(
        "bench_knowledge_validate", ROOT / "dialogue" / "knowledge" / "validate.py"
    )
    for name, variations in validate.collect_responses(RASA_DIR).items():
        if not name.startswith("utter_faq/"):
            continue
        topic = name.split("/", 1)[1]
        for variation in variations:
            text = str(variation.get("text") or "")
            for lang, value in hours.items():
                text = text.replace(f"{{opening_hours_{lang}}}", str(value))
            answers[text.strip()] = topic
            meta = variation.get("metadata") or {}
            if isinstance(meta, dict) and meta.get("topic"):
                names[str(meta["topic"])] = topic
    base_file = ROOT / "dialogue" / "knowledge" / "base.py"
    if base_file.exists():
        base = load_module("bench_knowledge_base", base_file)
        for entry in base.load_entries():
            for lang in ("nl", "en"):
                answers[base.spoken_answer(entry, lang, hours).strip()] = entry.key
                names[entry.topic[lang]] = entry.key
    return answers, names


def first_turn(url: str, text: str, language: str) -> list[str]:
    body = {
        "sender": f"bench-{uuid.uuid4().hex[:10]}",
        "message": text,
        "metadata": {"channel": "text", "language": language},
    }
    req = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return [str(r["text"]) for r in json.loads(resp.read()) if r.get("text")]


def classify(
    replies: list[str], answers: dict[str, str], names: dict[str, str]
) -> tuple[str, str | None]:
    """('answer', topic) | ('confirm', topic) | ('none', None)."""
    for reply in replies:
        if reply.strip() in answers:
            return "answer", answers[reply.strip()]
        match = CONFIRM.match(reply)
        if match:
            return "confirm", names.get(match.group(1), match.group(1))
    return "none", None


def run(url: str) -> dict[str, Any]:
    answers, names = known_answers()
    rows = []
    for expected, language, text in batch():
        kind, topic = classify(first_turn(url, text, language), answers, names)
        rows.append(
            {"expected": expected, "language": language, "text": text, "got": kind, "topic": topic}
        )
    out = [r for r in rows if r["expected"] == "none"]
    ins = [r for r in rows if r["expected"] != "none"]
    factual = [r for r in out if r["got"] == "answer"]
    right = [r for r in ins if r["got"] in ("answer", "confirm") and r["topic"] == r["expected"]]
    return {
        "out_of_scope": {
            "n": len(out),
            "factual_answers": len(factual),
            "factual_rate": round(len(factual) / max(1, len(out)), 3),
            "confirmation_questions": sum(r["got"] == "confirm" for r in out),
            "wrong_facts": [r["text"] for r in factual],
        },
        "in_scope": {
            "n": len(ins),
            "correct": len(right),
            "accuracy": round(len(right) / max(1, len(ins)), 3),
            "answered_at_once": sum(
                r["got"] == "answer" and r["topic"] == r["expected"] for r in ins
            ),
            "wrong_answers": sum(r["got"] == "answer" and r["topic"] != r["expected"] for r in ins),
            "outcomes": dict(Counter(r["got"] for r in ins)),
            "missed": [
                f"{r['expected']} | {r['text']} -> {r['got']} {r['topic']}"
                for r in ins
                if r not in right
            ],
        },
        "by_language": {
            lang: {"n": sum(r["language"] == lang for r in rows)} for lang in ("nl", "en")
        },
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="e.g. before / after")
    args = parser.parse_args()
    project = load_module("bench_rasa_project", ROOT / "scripts" / "rasa" / "project.py")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        with project.servers(
            rasa_port=PORTS[0],
            actions_port=PORTS[1],
            log_dir=Path(tmp),
            tracker_db=f"{tmp}/t.sqlite",
        ) as url:
            figures = run(url)
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["model"] = str(project.current_model().name)
    path = RESULTS / "knowledge.json"
    result: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    result.pop("machine", None)
    result.pop("git", None)
    result.pop("written_at", None)
    result[args.label] = figures
    figures["git"] = load_module("bench_common_git", ROOT / "bench" / "common.py").git_commit()
    write_result("knowledge", result)
    summary = {k: v for k, v in figures.items() if k in ("out_of_scope", "in_scope")}
    for part in summary.values():
        part.pop("rows", None)
    print(json.dumps(summary, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
