"""Train the Rasa model, or skip when the project's data has not changed.

Usage: python scripts/rasa/train.py [--force]

The hash of config.yml, domain/ and data/ (and the Rasa version) is kept in
dialogue/rasa/models/stamp.json with the model file it produced; when it matches and
that model still exists, training is skipped. The newest KEEP_MODELS models are kept
(a running server may still be using the previous one).
"""

from __future__ import annotations

import argparse
import sys
import time

import project


def prune_models(keep: int = project.KEEP_MODELS) -> None:
    models = sorted(project.MODELS_DIR.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for old in models[:-keep]:
        old.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="train even if nothing changed")
    args = parser.parse_args(argv)
    project.main_guard()

    digest = project.data_hash()
    stamp = project.read_json(project.STAMP_FILE)
    model = project.MODELS_DIR / str(stamp.get("model", "-"))
    if not args.force and stamp.get("hash") == digest and model.exists():
        print(f"Rasa model up to date ({model.name}); nothing to train.")
        return 0

    project.MODELS_DIR.mkdir(parents=True, exist_ok=True)
    before = set(project.MODELS_DIR.glob("*.tar.gz"))
    started = time.monotonic()
    result = project.run(
        [
            project.rasa_bin(),
            "train",
            "--config",
            "config.yml",
            "--domain",
            "domain",
            "--data",
            "data",
            "--out",
            "models",
        ]
    )
    seconds = time.monotonic() - started
    new = sorted(set(project.MODELS_DIR.glob("*.tar.gz")) - before, key=lambda p: p.stat().st_mtime)
    if result.returncode != 0 or not new:
        print(f"rasa train failed (exit {result.returncode})", file=sys.stderr)
        return result.returncode or 1
    project.write_json(
        project.STAMP_FILE,
        {
            "hash": digest,
            "model": new[-1].name,
            "train_seconds": round(seconds, 1),
            "trained_at": project.utc_now(),
            "rasa_version": project.rasa_version(),
        },
    )
    prune_models()
    print(f"Trained {new[-1].name} in {seconds:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
