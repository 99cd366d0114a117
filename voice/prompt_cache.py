"""Synthesized speech kept for reuse: a fixed text starts playing with no synthesis at all.

Two levels, both keyed by the voice's full identity (``cache_key``: engine, voice,
settings and native rate) and the text:

* memory — an LRU bounded in bytes, holding each text at the line rates asked for;
* disk — the voice's native-rate audio, one ``.pcm`` + ``.json`` pair per text, written
  atomically, so a restart (or another line rate) never synthesizes a text twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from voice.contracts import AudioChunk
from voice.resample import resample

log = logging.getLogger(__name__)

Key = tuple[str, str, int]  # voice key, text, rate
FORMAT = 3
"""Disk entries of another format are misses (2: sentences with their quiet trimmed; 3:
keyed by the spoken form of :mod:`voice.speech_text`, so a rendering of the written text
— "0800-0543" read by the voice's own rules — is never played again)."""


class PromptCache:
    def __init__(self, max_bytes: int = 64 * 1024 * 1024, directory: Path | None = None) -> None:
        self.max_bytes = max_bytes
        self.directory = directory
        self._items: OrderedDict[Key, tuple[bytes, ...]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.disk_hits = 0
        self.misses = 0

    # ------------------------------------------------------------------ reading

    def get(self, voice: str, rate: int, text: str) -> tuple[bytes, ...] | None:
        """The text's sentences as PCM at *rate*, or None (then synthesize and ``put``)."""
        key = (voice, text, rate)
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            self.hits += 1
            return found
        native = self._read_disk(voice, text)
        if native is None:
            self.misses += 1
            return None
        self.disk_hits += 1
        sentences = tuple(
            c.pcm if c.rate == rate else resample(c.pcm, c.rate, rate) for c in native
        )
        self._remember(key, sentences)
        return sentences

    # ------------------------------------------------------------------ writing

    def put(
        self,
        voice: str,
        rate: int,
        text: str,
        sentences: Sequence[bytes],
        native: Sequence[AudioChunk],
    ) -> None:
        """Keep *sentences* (at *rate*) in memory and the *native* audio on disk."""
        self._remember((voice, text, rate), tuple(sentences))
        self._write_disk(voice, text, native)

    def _remember(self, key: Key, sentences: tuple[bytes, ...]) -> None:
        size = sum(len(s) for s in sentences)
        if size > self.max_bytes:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= sum(len(s) for s in old)
        self._items[key] = sentences
        self._bytes += size
        while self._bytes > self.max_bytes and self._items:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= sum(len(s) for s in dropped)

    # ------------------------------------------------------------------ disk

    def _path(self, voice: str, text: str) -> Path:
        assert self.directory is not None
        digest = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()
        return self.directory / digest[:2] / digest

    def _read_disk(self, voice: str, text: str) -> list[AudioChunk] | None:
        if self.directory is None:
            return None
        path = self._path(voice, text)
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            data = path.with_suffix(".pcm").read_bytes()
        except (OSError, ValueError):
            return None
        if meta.get("voice") != voice or meta.get("text") != text:
            return None  # a hash collision or a foreign file: never play the wrong words
        if meta.get("format") != FORMAT:
            return None
        chunks, offset = [], 0
        for length in meta["lengths"]:
            chunks.append(AudioChunk(data[offset : offset + length], int(meta["rate"])))
            offset += length
        return chunks if offset == len(data) else None

    def _write_disk(self, voice: str, text: str, native: Sequence[AudioChunk]) -> None:
        if self.directory is None or not native or len({c.rate for c in native}) != 1:
            return
        path = self._path(voice, text)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            meta = {
                "format": FORMAT,
                "voice": voice,
                "text": text,
                "rate": native[0].rate,
                "lengths": [len(c.pcm) for c in native],
            }
            for suffix, payload in (
                (".pcm", b"".join(c.pcm for c in native)),
                (".json", json.dumps(meta, ensure_ascii=False).encode()),
            ):  # the .json last: it is what says "complete"
                tmp = path.with_suffix(suffix + ".tmp")
                tmp.write_bytes(payload)
                os.replace(tmp, path.with_suffix(suffix))
        except OSError:
            log.warning("tts.cache_write_failed", exc_info=True)
