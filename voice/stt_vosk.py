"""Vosk (Kaldi) speech recognition: one model per process, one recogniser per call.

Streaming: every ``accept()`` decodes the new audio at once (on the worker pool)
and returns the partial text, so the turn loop can watch words appear (barge-in
on real words, adaptive end of turn). ``finish()`` returns the utterance's final
text and leaves the recogniser ready for the next utterance.

Vosk's own endpointer may close a segment in the middle of what the turn loop
considers one utterance (after ~0.5 s of silence, by the model's ``model.conf``);
the recogniser keeps those segments and ``finish()`` joins them, so no words are
lost either way. :attr:`VoskRecognizer.endpointed` tells whether that happened —
an end-of-turn signal the turn loop may use.

A grammar (a list of phrases) restricts recognition to those phrases — much
faster and far more robust for menus and yes/no questions. Include ``"[unk]"``
to let out-of-grammar speech come out as ``[unk]`` instead of the nearest phrase
(when the model has that word; phrases with words the model lacks are dropped,
with a log message, instead of Vosk's warning on stderr).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voice import workers
from voice.contracts import SAMPLE_WIDTH, Transcript

log = logging.getLogger(__name__)

RATE = 16000

_vosk_lock = threading.Lock()
_vosk_quiet = False


def _vosk() -> Any:
    """The vosk module, with Kaldi's info logging silenced (once per process)."""
    global _vosk_quiet
    import vosk

    with _vosk_lock:
        if not _vosk_quiet:
            vosk.SetLogLevel(-1)
            _vosk_quiet = True
    return vosk


class VoskStt:
    """A loaded Vosk model (shared by all calls in the process)."""

    name = "vosk"

    def __init__(self, model_path: str | Path, language: str) -> None:
        path = Path(model_path)
        if not (path / "am").is_dir() and not (path / "conf").is_dir():
            raise FileNotFoundError(
                f"Vosk model not found at {path} (expected a model directory with am/ and conf/); "
                "`loket models list` shows what is missing and `loket models fetch` gets it"
            )
        self.language = language
        self.model_path = path
        vosk = _vosk()
        started = time.perf_counter()
        self._model = vosk.Model(str(path))
        self.load_s = time.perf_counter() - started
        self._grammars: dict[tuple[str, ...], list[str]] = {}

    def has_word(self, word: str) -> bool:
        return int(self._model.vosk_model_find_word(word)) >= 0

    def usable_grammar(self, phrases: Sequence[str]) -> list[str]:
        """The phrases whose every word the model knows (others are logged once and dropped)."""
        key = tuple(phrases)
        known = self._grammars.get(key)
        if known is not None:
            return known
        usable: list[str] = []
        for phrase in phrases:
            missing = [w for w in phrase.split() if not self.has_word(w)]
            if missing:
                log.warning("grammar phrase %r dropped: the model lacks %s", phrase, missing)
            else:
                usable.append(phrase)
        if not usable:
            raise ValueError("none of the grammar phrases can be recognised by this model")
        self._grammars[key] = usable
        return usable

    def recognizer(self, grammar: Sequence[str] | None = None) -> VoskRecognizer:
        """A recogniser for one call (16 kHz input); ``grammar`` restricts it to phrases."""
        vosk = _vosk()
        if grammar is None:
            rec = vosk.KaldiRecognizer(self._model, RATE)
        else:
            phrases = self.usable_grammar(grammar)
            rec = vosk.KaldiRecognizer(self._model, RATE, json.dumps(phrases, ensure_ascii=False))
        rec.SetWords(True)  # per-word confidences for Transcript.confidence
        return VoskRecognizer(rec)


def _words(result: dict[str, Any]) -> list[dict[str, Any]]:
    words = result.get("result")
    return words if isinstance(words, list) else []


class VoskRecognizer:
    """Recogniser for one call. Not shared between calls; calls are serialized."""

    def __init__(self, rec: Any) -> None:
        self._rec = rec
        self._lock = asyncio.Lock()
        self._segments: list[str] = []
        self._confidences: list[float] = []
        self._partial = ""
        self._bytes = 0
        self._compute_s = 0.0
        self._closed = False
        self.endpointed = False
        """Vosk's own endpointer closed a segment since the last ``finish()``."""

    async def accept(self, pcm: bytes) -> str:
        """Feed 16 kHz mono s16le audio; returns the partial text of the utterance so far."""
        async with self._lock:
            self._check_open()
            if pcm:
                await workers.run(self._accept, pcm)
            return self._text_so_far()

    async def peek(self) -> Transcript:
        """The partial result so far (Vosk decodes as it goes: nothing to wait for)."""
        return Transcript(self._text_so_far())

    async def finish(self) -> Transcript:
        async with self._lock:
            self._check_open()
            return await workers.run(self._finish)

    def accept_sync(self, pcm: bytes) -> str:
        """:meth:`accept` on the calling thread (benchmarks, tools)."""
        self._check_open()
        if pcm:
            self._accept(pcm)
        return self._text_so_far()

    def finish_sync(self) -> Transcript:
        self._check_open()
        return self._finish()

    def close(self) -> None:
        self._closed = True
        self._rec = None  # frees the Kaldi recogniser (KaldiRecognizer.__del__)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("recogniser is closed")

    def _text_so_far(self) -> str:
        return " ".join(t for t in [*self._segments, self._partial] if t)

    def _accept(self, pcm: bytes) -> None:
        rec = self._rec  # one reference for the whole job: close() may run meanwhile
        if rec is None:
            return
        started = time.perf_counter()
        self._bytes += len(pcm)
        if rec.AcceptWaveform(pcm):
            self._take_segment(json.loads(rec.Result()))
            self._partial = ""
            self.endpointed = True
        else:
            self._partial = str(json.loads(rec.PartialResult()).get("partial", ""))
        self._compute_s += time.perf_counter() - started

    def _take_segment(self, result: dict[str, Any]) -> None:
        text = str(result.get("text", "")).strip()
        if text:
            self._segments.append(text)
        self._confidences += [float(w.get("conf", 0.0)) for w in _words(result)]

    def _finish(self) -> Transcript:
        rec = self._rec
        started = time.perf_counter()
        # FinalResult flushes the decoder; the next AcceptWaveform starts a new utterance.
        if rec is not None:
            self._take_segment(json.loads(rec.FinalResult()))
        compute = self._compute_s + time.perf_counter() - started
        text = " ".join(self._segments)
        conf = sum(self._confidences) / len(self._confidences) if self._confidences else None
        transcript = Transcript(
            text=text,
            confidence=conf,
            audio_s=self._bytes / SAMPLE_WIDTH / RATE,
            compute_s=compute,
        )
        self._segments, self._confidences, self._partial = [], [], ""
        self._bytes, self._compute_s, self.endpointed = 0, 0.0, False
        return transcript
