"""espeak-ng text-to-speech: the fallback voice for any language (Debian ``espeak-ng``).

Robotic but always there, with voices for Dutch ("nl"), English ("en-us"),
Korean ("ko") and ~100 more. Each sentence is one run of the ``espeak-ng``
binary as an asyncio subprocess (``--stdout`` WAV, parsed here), so nothing runs
on the event loop or the worker pool; a semaphore caps how many run at once so a
burst of calls cannot start dozens of processes on two cores.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator

from voice.audio import parse_wav
from voice.contracts import AudioChunk
from voice.sentences import split_sentences

SAMPLE_RATE = 22050  # what espeak-ng writes for its own (non-MBROLA) voices

_MAX_PARALLEL = 2
_semaphore: asyncio.Semaphore | None = None
_semaphore_loop: asyncio.AbstractEventLoop | None = None


def _limit() -> asyncio.Semaphore:
    # One semaphore per event loop (tests run several loops in one process).
    global _semaphore, _semaphore_loop
    loop = asyncio.get_running_loop()
    if _semaphore is None or _semaphore_loop is not loop:
        _semaphore, _semaphore_loop = asyncio.Semaphore(_MAX_PARALLEL), loop
    return _semaphore


class EspeakError(RuntimeError):
    pass


class EspeakTts:
    """espeak-ng with one voice. ``rate_wpm``: speed in words per minute (espeak's -s)."""

    name = "espeak"

    def __init__(
        self,
        voice: str,
        language: str,
        *,
        rate_wpm: int = 160,
        amplitude: int = 100,
        binary: str = "espeak-ng",
        timeout_s: float = 10.0,
    ) -> None:
        found = shutil.which(binary)
        if found is None:
            raise FileNotFoundError(f"{binary} not found; install the Debian package espeak-ng")
        self.binary = found
        self.voice = voice
        self.language = language
        self.rate_wpm = rate_wpm
        self.amplitude = amplitude
        self.timeout_s = timeout_s
        self.sample_rate = SAMPLE_RATE
        self.last_compute_s = 0.0
        """Wall time of the most recent sentence (process start to exit)."""

    @property
    def cache_key(self) -> str:
        return f"espeak:{self.voice}:s={self.rate_wpm}:a={self.amplitude}:{self.sample_rate}"

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        """Audio for ``text``, one chunk per sentence."""
        for sentence in split_sentences(text):
            chunk = await self.synthesize_sentence(sentence)
            if chunk.pcm:
                yield chunk

    async def synthesize_sentence(self, sentence: str) -> AudioChunk:
        args = [
            self.binary,
            "--stdout",
            "--stdin",
            "-b",
            "1",  # input is UTF-8
            "-v",
            self.voice,
            "-s",
            str(self.rate_wpm),
            "-a",
            str(self.amplitude),
        ]
        async with _limit():
            started = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                out, err = await asyncio.wait_for(
                    proc.communicate(sentence.replace("\n", " ").encode()), self.timeout_s
                )
            except BaseException:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
                raise
            self.last_compute_s = time.perf_counter() - started
        if proc.returncode != 0 or not out:
            problem = err.decode(errors="replace").strip() or f"exit status {proc.returncode}"
            raise EspeakError(f"espeak-ng failed for voice {self.voice!r}: {problem}")
        chunk = parse_wav(out)
        if chunk.rate != self.sample_rate:  # e.g. an MBROLA voice (16 kHz)
            self.sample_rate = chunk.rate
        return chunk
