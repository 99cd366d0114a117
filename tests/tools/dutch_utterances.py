"""Dutch helpline utterances spliced from real human speech (the fillets-ng voice actors).

espeak-ng Dutch is not recognisable by Whisper base, and the fillets corpus is game
dialogue, not helpline questions. So each utterance here is a helpline sentence whose
words were cut out of fillets lines (one speaker per sentence) and joined with short
pauses. What is committed is the *recipe* (``tests/data/dutch_utterances.json``: for
each word the line and the cut in seconds), not audio: :func:`build` makes the audio
at test time from the installed Debian files (``fillets-ng-data-nl``, GPL-2+) — no
copy of the actors' voices in the repository, and the same samples on every machine
(Vorbis decoding and the cut are deterministic; no model runs at build time).

``python -m tests.tools.dutch_splice`` regenerates the recipe (forced alignment of the
known text with Whisper base, then a check by decoding each built utterance after a
G.711 round trip); this module only reads it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.tools.fillets import RATE, line_by_id, load_pcm

RECIPE = Path(__file__).resolve().parents[1] / "data" / "dutch_utterances.json"
FADE_S = 0.008  # no click at a cut
LEVEL_RMS = 3000.0  # every word at one loudness (≈ -21 dBFS), as one speaker would be


@dataclass(frozen=True, slots=True)
class WordCut:
    """One word: where in which fillets line."""

    word: str
    level: str
    ident: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Utterance:
    """A helpline sentence spoken by one fillets voice, with what it should lead to."""

    name: str
    text: str
    intent: str
    """The NLU intent the sentence is a training example of (or would be)."""
    speaker: str
    words: tuple[WordCut, ...]
    pause_s: float
    checked: dict[str, str]
    """What Whisper base made of it when the recipe was made: {'16k': …, 'g711': …}."""


@functools.cache
def _line_pcm(level: str, ident: str) -> np.ndarray[Any, np.dtype[np.int16]]:
    pcm = load_pcm(line_by_id(level, ident).path)
    return np.frombuffer(pcm, dtype="<i2").copy()


def cut_word(cut: WordCut) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The word's samples (float, int16 scale), levelled and faded in and out."""
    samples = _line_pcm(cut.level, cut.ident)
    piece = samples[int(cut.start * RATE) : int(cut.end * RATE)].astype(np.float64)
    rms = float(np.sqrt(np.mean(piece**2))) if len(piece) else 0.0
    if rms > 0:
        piece *= LEVEL_RMS / rms
    fade = min(int(FADE_S * RATE), len(piece) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        piece[:fade] *= ramp
        piece[-fade:] *= ramp[::-1]
    return piece


def splice(cuts: tuple[WordCut, ...], pause_s: float) -> bytes:
    """The words one after another with *pause_s* of silence between them (16 kHz s16)."""
    gap = np.zeros(int(pause_s * RATE))
    parts: list[np.ndarray[Any, np.dtype[np.float64]]] = []
    for i, cut in enumerate(cuts):
        if i:
            parts.append(gap)
        parts.append(cut_word(cut))
    joined = np.concatenate(parts) if parts else np.zeros(0)
    return bytes(np.clip(np.round(joined), -32768, 32767).astype("<i2").tobytes())


def load(path: Path = RECIPE) -> list[Utterance]:
    """The utterances of the committed recipe."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        Utterance(
            name=u["name"],
            text=u["text"],
            intent=u["intent"],
            speaker=u["speaker"],
            words=tuple(WordCut(**w) for w in u["words"]),
            pause_s=u["pause_s"],
            checked=dict(u.get("checked", {})),
        )
        for u in data["utterances"]
    ]


def by_name(name: str, path: Path = RECIPE) -> Utterance:
    for utterance in load(path):
        if utterance.name == name:
            return utterance
    raise KeyError(f"no utterance {name!r} in {path}")


def build(utterance: Utterance) -> bytes:
    """The utterance's audio, 16 kHz mono s16, from the installed Debian files."""
    return splice(utterance.words, utterance.pause_s)
