"""What a model registry entry is: its role, engine, source, size and licence.

The entries themselves are in :mod:`voice.model_catalog`; finding them on this machine
is :mod:`voice.model_registry`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Literal

from voice.model_parts import (
    SplitPackageSource,
)

Role = Literal["stt", "tts", "vad"]
Engine = Literal["vosk", "whisper", "piper", "espeak", "silero"]
VAD_MODEL = "silero-vad-6.2"
"""The voice activity model every call uses (any language)."""

PROVENANCE_FILE = ".loket-source.json"
"""Written by ``loket models fetch`` next to verified downloads (URL, SHA-256, time)."""

ENGINE_LICENCES: Mapping[Engine, str] = {
    "vosk": "Apache-2.0 (vosk)",
    "whisper": "MIT (faster-whisper, CTranslate2)",
    "piper": "GPL-3.0 (piper-tts)",
    "espeak": "GPL-3.0 (espeak-ng)",
    "silero": "MIT (Silero VAD, run with onnxruntime)",
}


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One downloadable file: where from, its size in bytes and what it must hash to."""

    url: str
    size: int
    sha256: str | None
    """``None`` when no verified value is known: fetch refuses unless told to trust the size."""

    @property
    def filename(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


@dataclass(frozen=True, slots=True)
class UrlSource:
    files: tuple[RemoteFile, ...]
    archive: Literal["zip", "tar.gz"] | None = None
    """Set when ``files`` is one archive to unpack into ``<models.dir>/<name>/``."""
    checksum_origin: str = ""
    """Where the SHA-256 values came from (they are not computed here)."""

    def describe(self) -> str:
        kind = f" ({self.archive} archive)" if self.archive else ""
        return "download: " + ", ".join(f.url for f in self.files) + kind


@dataclass(frozen=True, slots=True)
class PackageSource:
    distribution: str
    """The name given to ``pip install``."""
    module: str
    locate: Callable[[ModuleType], Path]
    """Given the imported module, the path handed to the engine."""
    how: str
    """``locate`` in words, for listings."""

    def describe(self) -> str:
        return f"package {self.distribution} ({self.how})"


@dataclass(frozen=True, slots=True)
class SystemSource:
    apt_package: str
    binary: str
    voice: str

    def describe(self) -> str:
        return f"system: {self.binary} voice {self.voice!r} (Debian {self.apt_package})"


@dataclass(frozen=True, slots=True)
class LocalSource:
    hint: str
    """Where a site gets the files, said to whoever has to copy them in."""

    def describe(self) -> str:
        return f"local files ({self.hint})"


Source = UrlSource | PackageSource | SystemSource | LocalSource | SplitPackageSource


@dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str
    role: Role
    engine: Engine
    language: str
    source: Source
    size: int
    """Bytes: the download for URL entries, the files on disk otherwise (0 when not known)."""
    licence: str
    homepage: str
    required: tuple[str, ...] = ()
    """Files that must exist for the entry to count as present, relative to the model
    directory (``<models.dir>/<name>/``; for packages: the located path, or its folder)."""
    engine_path: str = ""
    """For URL/local entries: what the engine loads, relative to the model directory
    ('' = the directory itself)."""
    note: str = ""
    quality: str = ""
    """Expected quality for its language (STT), with where the figure comes from."""
