"""Check the Rasa project: the knowledge file, then `rasa data validate --fail-on-warnings`.

Usage: python scripts/rasa/validate.py

Rasa 3.6's --fail-on-warnings lets some warnings pass (e.g. a response used in no
story or rule), so this also fails on any warning Rasa prints, except the one known
false alarm listed in IGNORED (every project with a retrieval intent gets it).
Intents that a pipeline component sets and no example teaches (COMPONENT_INTENTS) get
a stand-in example for the check only, so "listed in the domain file, but not found in
the NLU training data" does not fail it; training never sees that file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import project

IGNORED = (
    # Rasa merges the retrieval intent `faq` from data/nlu into the domain and then
    # reports its own merge as a duplicate.
    "The following duplicated intents have been found across multiple domain files: faq",
)


COMPONENT_INTENTS = {"confirm_topic": "components/topic_confirmation.py"}


def stand_in_examples(directory: Path) -> Path:
    """An NLU file with one stand-in example per component-set intent (validation only)."""
    lines = ['version: "3.1"', "nlu:"]
    for intent, component in COMPONENT_INTENTS.items():
        lines += [f"- intent: {intent}", "  examples: |", f"    - set by {component} only"]
    path = directory / "component_intents.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rasa_warnings(output: str) -> list[str]:
    """Rasa's own UserWarnings in the output (not library deprecation noise)."""
    found = []
    for line in output.splitlines():
        if "UserWarning:" in line and "rasa/" in line:
            message = line.split("UserWarning:", 1)[1].strip()
            if message and not any(message.startswith(x) for x in IGNORED):
                found.append(message)
    return found


def main() -> int:
    project.main_guard()
    knowledge = subprocess.run(
        [sys.executable, str(project.ROOT / "dialogue" / "knowledge" / "validate.py")],
        check=False,
    )
    with tempfile.TemporaryDirectory() as tmp:
        result = project.run(
            [
                project.rasa_bin(),
                "data",
                "validate",
                "--fail-on-warnings",
                "--config",
                "config.yml",
                "--domain",
                "domain",
                "--data",
                "data",
                str(stand_in_examples(Path(tmp))),
            ],
            capture_output=True,
        )
    output = result.stdout + result.stderr
    warnings = rasa_warnings(output)
    if result.returncode != 0:
        print(output)
    for message in warnings:
        print(f"RASA WARNING: {message}")
    ok = knowledge.returncode == 0 and result.returncode == 0 and not warnings
    print("rasa data validate:", "ok" if result.returncode == 0 and not warnings else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
