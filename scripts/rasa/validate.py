"""Check the Rasa project: the knowledge file, then `rasa data validate --fail-on-warnings`.

Usage: python scripts/rasa/validate.py

Rasa 3.6's --fail-on-warnings lets some warnings pass (e.g. a response used in no
story or rule), so this also fails on any warning Rasa prints, except the one known
false alarm listed in IGNORED (every project with a retrieval intent gets it).
"""

from __future__ import annotations

import subprocess
import sys

import project

IGNORED = (
    # Rasa merges the retrieval intent `faq` from data/nlu into the domain and then
    # reports its own merge as a duplicate.
    "The following duplicated intents have been found across multiple domain files: faq",
)


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
