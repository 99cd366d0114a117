"""`make rasa-test`: validate, train if needed, run the test stories, cross-validate NLU.

Usage: python scripts/rasa/test.py [--skip-cv] [--folds 3]

1. knowledge file + `rasa data validate --fail-on-warnings` (validate.py);
2. `make train` logic (skipped when nothing changed);
3. coverage: every topic has at least 12 Dutch and 6 English examples, and the test
   stories cover every topic in Dutch and English (story names contain [nl] / [en])
   and every handoff path;
4. `rasa test core` on dialogue/rasa/tests/ (every failing story listed);
5. NLU cross-validation (cached by the hash of config + domain + NLU data) and the
   per-topic F1 report (nlu_report.py): figures under the goals (0.9 overall, 0.8 per
   topic) are listed; it fails under the floors (0.8 and 0.7, --min-f1/--min-topic-f1).
Results go to dialogue/rasa/results/.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import nlu_report
import project
import train
import validate
import yaml

# Kept in git (not under results/): the cross-validation takes ~7 minutes on two
# cores, and its stamp holds the hash of its inputs, so a clean clone (CI) re-runs it
# only when config, domain or NLU data changed. Commit it after a change to the data.
CV_DIR = project.RASA_DIR / "nlu-cv"
STORIES_DIR = project.RESULTS_DIR / "stories"
TESTS_DIR = project.RASA_DIR / "tests"


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _topics() -> list[str]:
    names = set()
    for path in (project.RASA_DIR / "data").rglob("*.yml"):
        data = _load_yaml(path) or {}
        for name in data.get("responses") or {}:
            if str(name).startswith("utter_faq/"):
                names.add(str(name).split("/", 1)[1])
    return sorted(names)


def _handoff_responses() -> list[str]:
    data = _load_yaml(project.RASA_DIR / "domain" / "handoff.yml") or {}
    names = (str(n) for n in (data.get("responses") or {}))
    return sorted(n for n in names if n.startswith("utter_handoff_"))


MIN_EXAMPLES = {"nl": 12, "en": 6}


def example_count_problems() -> list[str]:
    """Topics with too few examples: the first block of a topic is Dutch, the second English."""
    blocks: dict[str, list[int]] = {}
    for path in sorted((project.RASA_DIR / "data" / "nlu").rglob("*.yml")):
        for item in (_load_yaml(path) or {}).get("nlu") or []:
            intent = str(item.get("intent", ""))
            if intent.startswith("faq/"):
                lines = str(item.get("examples", "")).splitlines()
                count = sum(1 for line in lines if line.strip().startswith("- "))
                blocks.setdefault(intent[4:], []).append(count)
    problems = []
    for topic in _topics():
        counts = [*blocks.get(topic, []), 0, 0]
        for lang, count in zip(("nl", "en"), counts[:2], strict=True):
            if count < MIN_EXAMPLES[lang]:
                problems.append(
                    f"topic {topic}: {count} {lang} examples, at least {MIN_EXAMPLES[lang]} "
                    f"(first example block Dutch, second English)"
                )
    return problems


def coverage_problems() -> list[str]:
    """What the test stories leave untested."""
    seen: dict[str, set[str]] = {}
    actions: set[str] = set()
    for path in sorted(TESTS_DIR.glob("*.yml")):
        for story in (_load_yaml(path) or {}).get("stories") or []:
            lang = re.search(r"\[(nl|en)\]", str(story.get("story", "")))
            for step in story.get("steps") or []:
                intent = str(step.get("intent", ""))
                if intent.startswith("faq/") and lang:
                    seen.setdefault(intent[4:], set()).add(lang.group(1))
                if "action" in step:
                    actions.add(str(step["action"]))
    problems = example_count_problems()
    for topic in _topics():
        missing = {"nl", "en"} - seen.get(topic, set())
        if missing:
            problems.append(f"topic {topic}: no test story in {', '.join(sorted(missing))}")
    for name in _handoff_responses():
        if name not in actions:
            problems.append(f"handoff path {name}: not in any test story")
    return problems


def run_stories(model: Path) -> dict[str, Any]:
    shutil.rmtree(STORIES_DIR, ignore_errors=True)
    started = time.monotonic()
    result = project.run(
        [
            project.rasa_bin(),
            "test",
            "core",
            "--e2e",  # run the NLU on the stories' `user:` texts too
            "--model",
            str(model),
            "--stories",
            "tests",
            "--out",
            str(STORIES_DIR),
            "--no-plot",
        ],
        capture_output=True,
    )
    # Not --fail-on-prediction-errors: it stops at the first failure; this lists all.
    failed = STORIES_DIR / "failed_test_stories.yml"
    failures = failed.read_text(encoding="utf-8") if failed.exists() else ""
    ok = result.returncode == 0 and failed.exists() and "story:" not in failures
    if not ok:
        print(result.stdout[-4000:] + result.stderr[-4000:])
        print(failures[:8000])
    report = project.read_json(STORIES_DIR / "story_report.json")
    return {
        "ok": ok,
        "seconds": round(time.monotonic() - started, 1),
        "accuracy": (report.get("accuracy") if report else None),
    }


def cross_validate(folds: int) -> tuple[bool, float]:
    """Run the cross-validation unless its inputs are unchanged; True when it ran."""
    digest = project.data_hash(
        ("config.yml", "domain", "data/nlu", "components"), extra=f"folds={folds}"
    )
    stamp = project.read_json(CV_DIR / "stamp.json")
    if stamp.get("hash") == digest and (CV_DIR / "intent_successes.json").exists():
        print(f"NLU cross-validation up to date (results in {CV_DIR}).")
        return False, float(stamp.get("seconds", 0.0))
    shutil.rmtree(CV_DIR, ignore_errors=True)
    started = time.monotonic()
    result = project.run(
        [
            project.rasa_bin(),
            "test",
            "nlu",
            "--nlu",
            "data/nlu",
            "--config",
            "config.yml",
            "--domain",
            "domain",
            "--cross-validation",
            "--folds",
            str(folds),
            "--out",
            str(CV_DIR),
            "--successes",
            "--no-plot",
        ]
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"rasa test nlu --cross-validation failed (exit {result.returncode})")
    project.write_json(
        CV_DIR / "stamp.json", {"hash": digest, "folds": folds, "seconds": round(seconds, 1)}
    )
    return True, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cv", action="store_true", help="no NLU cross-validation")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument(
        "--min-f1", type=float, default=0.8, help="fail under this overall F1 (goal: 0.9)"
    )
    parser.add_argument(
        "--min-topic-f1", type=float, default=0.7, help="fail under this F1 per topic (goal: 0.8)"
    )
    args = parser.parse_args(argv)
    project.main_guard()
    failures: list[str] = []

    if validate.main() != 0:
        failures.append("validation")
    if train.main([]) != 0:
        print("training failed", file=sys.stderr)
        return 1
    model = project.current_model()
    assert model is not None

    problems = coverage_problems()
    for line in problems:
        print(f"COVERAGE: {line}")
    if problems:
        failures.append("test story coverage")

    stories = run_stories(model)
    print("test stories:", "ok" if stories["ok"] else "FAILED", f"({stories['seconds']} s)")
    if not stories["ok"]:
        failures.append(f"test stories (see {STORIES_DIR})")

    summary: dict[str, Any] = {"stories": stories}
    if not args.skip_cv:
        ran, seconds = cross_validate(args.folds)
        extra = json.dumps({"folds": args.folds, "cv_seconds": round(seconds, 1)})
        code = nlu_report.main(
            [
                str(CV_DIR),
                "--min-f1",
                str(args.min_f1),
                "--min-topic-f1",
                str(args.min_topic_f1),
                "--extra",
                extra,
            ]
        )
        if code != 0:
            failures.append("NLU F1 under the regression floor")
        summary["nlu"] = project.read_json(CV_DIR / "summary.json")
        summary["nlu"]["ran_now"] = ran
    project.write_json(project.RESULTS_DIR / "summary.json", summary)

    if failures:
        print("rasa-test FAILED: " + "; ".join(failures))
        return 1
    print("rasa-test ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
