"""Real human Dutch speech from Debian: the fillets-ng voice actors' lines and their text.

``fillets-ng-data-nl`` holds the Dutch lines (``sound/<level>/nl/<id>.ogg``),
``fillets-ng-data`` their text (``script/<level>/dialogs_nl.lua``, the same ids); both are
GPL-2+ and install offline (``make apt``). Acted game dialogue, two main voices: the
small fish (ids with ``-m-``) and the big fish (``-v-``). Shared by the Dutch STT
benchmark, the Whisper test, the spliced helpline utterances and the Dutch e2e test.

Also here: the word normalisation and word edit distance that WER is counted with, and
the G.711 round trip a caller's voice takes on a phone line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiortp.codecs import get_codec

from voice.audio import from_float
from voice.resample import resample

FILLETS = Path("/usr/share/games/fillets-ng")
RATE = 16000
INSTALL_HINT = "apt-get install fillets-ng-data-nl fillets-ng-data (make apt does)"
_DIALOG = re.compile(r'dialogId\(\s*"([^"]+)"[^)]*\)\s*dialogStr\(\s*"((?:[^"\\]|\\.)*)"\s*\)')
_SPEAKER = re.compile(r"(?:^|-)([mv])(?:-|$)")


@dataclass(frozen=True, slots=True)
class Line:
    level: str
    ident: str
    text: str
    path: Path

    @property
    def speaker(self) -> str:
        """'m' (small fish), 'v' (big fish) or '?' (another character), from the id."""
        found = _SPEAKER.search(self.ident)
        return found.group(1) if found else "?"


def fillets_lines(root: Path = FILLETS) -> list[Line]:
    """Every Dutch line with both speech and text, sorted by level and id."""
    lines = []
    for script in sorted((root / "script").glob("*/dialogs_nl.lua")):
        level = script.parent.name
        for ident, text in _DIALOG.findall(script.read_text(encoding="utf-8")):
            ogg = root / "sound" / level / "nl" / f"{ident}.ogg"
            if ogg.is_file() and text.strip():
                lines.append(Line(level, ident, text.replace('\\"', '"'), ogg))
    return lines


def line_by_id(level: str, ident: str, root: Path = FILLETS) -> Line:
    """One line, or FileNotFoundError naming the packages to install."""
    for line in fillets_lines(root):
        if line.level == level and line.ident == ident:
            return line
    raise FileNotFoundError(f"no fillets line {level}/{ident}: {INSTALL_HINT}")


def subset(lines: list[Line], n: int) -> list[Line]:
    """A fixed spread of *n* lines: every k-th of the sorted list."""
    if n >= len(lines):
        return lines
    step = len(lines) / n
    return [lines[int(i * step)] for i in range(n)]


def normalise(text: str) -> list[str]:
    """Lowercase words without punctuation; digits and letters (accents too) are kept."""
    text = unicodedata.normalize("NFC", text.lower()).replace("’", "'")
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)  # quotes, not the ' of "zo'n"
    return re.sub(r"[^\w' ]+", " ", text).split()


def edits(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance: of words for word lists, of letters for strings."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def wer(ref: str, hyp: str) -> float:
    """Word error rate of one hypothesis (1.0 for an empty reference with any words)."""
    words = normalise(ref)
    return edits(words, normalise(hyp)) / max(1, len(words))


def load_pcm(path: Path) -> bytes:
    """A sound file as 16 kHz mono s16 PCM (PyAV through faster-whisper)."""
    from faster_whisper.audio import decode_audio

    return from_float(decode_audio(str(path), sampling_rate=RATE))


def g711_round_trip(pcm: bytes) -> bytes:
    """16 kHz → 8 kHz PCMU (μ-law) → 16 kHz, as a caller on a G.711 line is heard."""
    codec = get_codec(0)
    narrow = resample(pcm, RATE, 8000)
    decoded = b"".join(
        codec.decode(codec.encode(narrow[i : i + 320])) for i in range(0, len(narrow), 320)
    )
    return resample(decoded, 8000, RATE)
