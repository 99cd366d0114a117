"""Piper text-to-speech (piper-tts 1.8, ONNX, espeak-ng phonemes bundled).

One :class:`PiperTts` (one onnxruntime session) per voice per process, shared
by all calls. ``synthesize()`` yields one :class:`AudioChunk` per sentence
(:mod:`voice.sentences` decides where sentences end), each synthesized on the
worker pool just before it is needed, so playback starts after the first one.

Threads. The session is built here rather than by ``PiperVoice.load`` so that
it uses ``threads`` intra-op threads (default 1) with no spin-waiting: the
worker pool supplies the parallelism across calls, and 2 pool threads × 1
session thread fill 2 cores without oversubscription. ``InferenceSession.run``
is documented thread-safe for concurrent calls (onnxruntime #114, #22967) and
Piper's espeak phonemizer takes a module-level lock, so no extra serialization
is needed; the integration test synthesizes from two threads at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np

from voice import workers
from voice.audio import from_float
from voice.contracts import AudioChunk
from voice.sentences import split_sentences


class PiperTts:
    """A loaded Piper voice. ``length_scale``/``noise_scale``/``noise_w_scale``: None = the
    voice's own defaults (noise 0 makes synthesis deterministic)."""

    name = "piper"

    def __init__(
        self,
        model_path: str | Path,
        language: str,
        *,
        config_path: str | Path | None = None,
        threads: int = 1,
        length_scale: float | None = None,
        noise_scale: float | None = None,
        noise_w_scale: float | None = None,
        volume: float = 0.8,
    ) -> None:
        model = Path(model_path)
        config = Path(config_path) if config_path is not None else Path(f"{model}.json")
        for needed in (model, config):
            if not needed.is_file():
                raise FileNotFoundError(
                    f"Piper voice file missing: {needed}; "
                    "`loket models list` shows what is missing and `loket models fetch` gets it"
                )
        import onnxruntime  # type: ignore[import-untyped]
        from piper import PiperVoice
        from piper.config import PiperConfig, SynthesisConfig

        started = time.perf_counter()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._voice = PiperVoice(
            session=session,
            config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
        )
        self.load_s = time.perf_counter() - started
        self.language = language
        self.model_path = model
        self.voice_name = model.name.removesuffix(".onnx")
        self.sample_rate = int(self._voice.config.sample_rate)
        self.threads = threads
        self.length_scale = length_scale
        self.noise_scale = noise_scale
        self.noise_w_scale = noise_w_scale
        self.volume = volume
        # normalize_audio scales every sentence to full scale; volume keeps headroom for
        # the resampler and codec (a full-scale sentence clips after resampling).
        self._syn = SynthesisConfig(
            length_scale=length_scale,
            noise_scale=noise_scale,
            noise_w_scale=noise_w_scale,
            volume=volume,
        )

    @property
    def cache_key(self) -> str:
        """Everything that changes the audio for a given text (for a synthesis cache)."""
        return (
            f"piper:{self.voice_name}:ls={self.length_scale}:vol={self.volume}:{self.sample_rate}"
        )

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        """Audio for ``text``, one chunk per sentence (16-bit mono at ``sample_rate``)."""
        for sentence in split_sentences(text):
            chunk = await workers.run(self.synthesize_sentence, sentence)
            if chunk.pcm:
                yield chunk

    def synthesize_sentence(self, sentence: str) -> AudioChunk:
        """One sentence's audio (blocking: call on the pool). Piper may split further
        on its own; the parts are joined so each of *our* sentences is one chunk."""
        parts: list[Any] = [
            c.audio_float_array for c in self._voice.synthesize(sentence, self._syn)
        ]
        if not parts:
            return AudioChunk(b"", self.sample_rate)
        return AudioChunk(from_float(np.concatenate(parts)), self.sample_rate)
