"""Build speech engines from (engine name, model path or voice, language).

Model *paths* come from the model registry (:mod:`voice.model_registry`); this
module only loads them. Engines are cached per process, so every call to
:func:`build_stt` / :func:`build_tts` with the same arguments returns the same
loaded model — one model per process, shared by all calls. Loading takes
seconds (Vosk, Whisper) and blocks: at start-up, or ``await workers.run(build_stt, …)``.

Engine modules are imported only when an engine is built, so a gateway without
Whisper installed can still run Vosk.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from voice.contracts import SttEngine, TtsEngine

if TYPE_CHECKING:
    from voice.stt_whisper import LanguageSwitch

log = logging.getLogger(__name__)

STT_ENGINES = ("vosk", "whisper")
TTS_ENGINES = ("piper", "espeak")

_lock = threading.Lock()
_cache: dict[tuple[object, ...], object] = {}


def build_stt(
    engine: str,
    model: str | Path,
    language: str,
    *,
    threads: int = 1,
    prompt: str | None = None,
    switch: LanguageSwitch | None = None,
    beam_size: int = 1,
) -> SttEngine:
    """A loaded STT engine: ``vosk`` (model directory) or ``whisper`` (CTranslate2 directory).

    ``threads``: compute threads per utterance (Whisper); see :mod:`voice.workers`.
    ``prompt``: Whisper's previous-text prompt (ignored by Vosk).
    ``beam_size``: Whisper's decoder beams (ignored by Vosk).
    ``switch``: which other languages multilingual Whisper decodes in when it identifies
    them (ignored by Vosk and English-only Whisper).
    Raises ``FileNotFoundError`` (naming the fix) when the model is not there.
    """
    key = (
        "stt", engine, str(Path(model).resolve()), language, threads, prompt, switch, beam_size,
    )  # fmt: skip
    with _lock:
        found = _cache.get(key)
        if found is None:
            found = _load_stt(engine, Path(model), language, threads, prompt, switch, beam_size)
            _cache[key] = found
    return found  # type: ignore[return-value]


def _load_stt(
    engine: str,
    model: Path,
    language: str,
    threads: int,
    prompt: str | None,
    switch: LanguageSwitch | None,
    beam_size: int = 1,
) -> SttEngine:
    if engine == "vosk":
        from voice.stt_vosk import VoskStt

        return VoskStt(model, language)
    if engine == "whisper":
        from voice.stt_whisper import WhisperStt

        return WhisperStt(
            model, language, threads=threads, prompt=prompt, switch=switch, beam_size=beam_size
        )
    raise ValueError(f"unknown STT engine {engine!r}; choose one of {', '.join(STT_ENGINES)}")


def build_tts(
    engine: str,
    voice: str | Path,
    language: str,
    *,
    threads: int = 1,
    length_scale: float | None = None,
) -> TtsEngine:
    """A loaded TTS engine: ``piper`` (path of the voice's .onnx; its .onnx.json beside it)
    or ``espeak`` (an espeak-ng voice name such as "nl" or "en-us")."""
    if engine == "piper":
        ident = str(Path(voice).resolve())
    elif engine == "espeak":
        ident = str(voice)
    else:
        raise ValueError(f"unknown TTS engine {engine!r}; choose one of {', '.join(TTS_ENGINES)}")
    key = ("tts", engine, ident, language, threads, length_scale)
    with _lock:
        found = _cache.get(key)
        if found is None:
            found = _load_tts(engine, voice, language, threads, length_scale)
            _cache[key] = found
    return found  # type: ignore[return-value]


def _load_tts(
    engine: str, voice: str | Path, language: str, threads: int, length_scale: float | None
) -> TtsEngine:
    if engine == "piper":
        from voice.tts_piper import PiperTts

        return PiperTts(voice, language, threads=threads, length_scale=length_scale)
    from voice.tts_espeak import EspeakTts

    rate = 160 if length_scale is None else round(160 / length_scale)
    return EspeakTts(str(voice), language, rate_wpm=rate)


def clear_cache() -> None:
    """Forget loaded engines (tests; a model reload)."""
    with _lock:
        _cache.clear()
