"""Make the recipe of the spliced Dutch helpline utterances (``tests/data/dutch_utterances.json``).

For every sentence in :data:`SENTENCES` and each of its preferred fillets voices:

1. the fillets lines of that voice that contain each word are force-aligned with their
   known text (Whisper base's cross-attention alignment, CTranslate2 ``align`` through
   faster-whisper's ``find_alignment``): a start, an end and the probability the model
   gives the known word there;
2. each occurrence is cut a little wider than the alignment (it is coarse: 20 ms steps)
   and then tightened to where the voice is (energy), so a cut holds one whole word;
3. the sentence is spliced from the most probable occurrence of each word, decoded by
   Whisper base as the gateway runs it (Dutch, beam 1, the hallucination guard) at
   16 kHz and after a G.711 round trip; while that is wrong, one word at a time is
   swapped for its next occurrence (a bounded search);
4. only sentences recognised word for word at 16 kHz *and* through G.711 are kept
   (WER 0 after normalisation), with what Whisper heard. (``--words``: measured
   2026-12-03, none of SENTENCES was kept this way.)

By default only PHRASES are made: sentences of one or two phrases cut from named lines
where the speaker pauses, kept when their key words are heard after G.711 (see PHRASES).

Run: ``nice -n 10 .venv/bin/python -m tests.tools.dutch_splice`` (no servers; about a
minute, ``--words`` much longer). The output is deterministic for a given faster-whisper
and CPU; the committed recipe is what the tests build from.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.tools.dutch_utterances import RECIPE, WordCut, splice
from tests.tools.fillets import (
    RATE,
    Line,
    fillets_lines,
    g711_round_trip,
    line_by_id,
    load_pcm,
    normalise,
    wer,
)

# (name, text, intent, voices to try in order). Every word must occur in the fillets
# lines; request_human and faq/* sentences are examples from dialogue/rasa/data/nlu/
# whose words the corpus has (plus "ik wil met een mens praten", close to one).
SENTENCES: tuple[tuple[str, str, str, str], ...] = (
    ("iemand_praten", "ik wil met iemand praten", "request_human", "v"),
    ("iemand_helpen", "is er iemand die mij kan helpen", "request_human", "vm"),
    ("liever_mens", "ik heb liever een mens", "request_human", "v"),
    ("mens_praten", "ik wil met een mens praten", "request_human", "v"),
    ("geen_computer", "ik wil niet met een computer praten", "request_human", "v"),
    ("geen_computer_graag", "geen computer alsjeblieft", "request_human", "vm"),
    ("mens_geven", "geef me een mens", "request_human", "v"),
    ("geen_werk", "ik heb geen werk meer", "faq/uwv", "vm"),
    ("geen_werk_kort", "ik heb geen werk", "faq/uwv", "vm"),
    ("mijn_pensioen", "mijn pensioen", "faq/pension_overview", "v"),
    ("pensioen_later", "hoeveel pensioen krijg ik later", "faq/pension_overview", "v"),
    ("pensioen_zien", "waar zie ik mijn pensioen", "faq/pension_overview", "v"),
    ("auto_naam", "hoe zet ik een auto op mijn naam", "faq/vehicle_registration", "m"),
    ("auto_zetten", "auto op naam zetten", "faq/vehicle_registration", "m"),
)
# Word-by-word splices of this fast acted speech are heard as another sentence (Whisper
# base: "ik wil met iemand praten" -> "ik wil hier even met de moeiteen moeite", often
# rejected by the guard or identified as Italian). So the recipe's sentences are made
# of few PHRASES, each cut from a named line where the speaker pauses (a line's start
# or end, a comma or dash), and kept when Whisper hears the words the intent hangs on
# (KEY words) after G.711 and the guard takes it as speech; the WER of
# what it heard is recorded. (name, text, intent, key words, [(level, id, run), ...]).
PHRASES: tuple[tuple[str, str, str, tuple[str, ...], tuple[tuple[str, str, str], ...]], ...] = (
    ("een_mens", "een mens", "request_human", ("mens",),
     (("computer", "poc-v-kam0", "een mens"),)),
    ("geen_werk_zwaar", "ik heb geen werk", "faq/uwv", ("geen", "werk"),
     (("start", "1st-v-netusim", "ik heb geen"), ("puzzle", "puc-v-fuska1", "werk"))),
    ("geen_werk_aan", "ik heb geen werk", "faq/uwv", ("geen", "werk"),
     (("start", "1st-v-netusim", "ik heb geen"), ("labyrinth", "bl-v-pozadi", "werk"))),
    ("geen_werk_nevim", "ik heb geen werk", "faq/uwv", ("geen", "werk"),
     (("labyrinth", "bl-v-nevim0", "ik heb geen"), ("puzzle", "puc-v-fuska1", "werk"))),
    ("iemand_daar", "hallo is daar iemand", "request_human", ("iemand",),
     (("submarine", "zr-v-hej", "hallo is daar iemand"),)),
)  # fmt: skip
END_SHIFTS_S = (0.0, 0.06, -0.04, 0.12)  # where a phrase's cut ends, around the pause
LINES_PER_WORD = 6  # lines aligned per run and voice (shortest first: alignment is sharper)
TRIES = 20  # splices decoded per sentence and voice at most
REFINE = 4  # occurrences per run whose cut is refined by decoding (slow: ~12 decodes)
PAD_S = 0.06  # cut this much wider than the alignment before tightening
PAUSES_S = (0.12, 0.25)  # the pause between runs: short first, then as a slow speaker


@dataclass(frozen=True, slots=True)
class Occurrence:
    cut: WordCut
    probability: float


class Aligner:
    """Whisper base: forced alignment of a known text, and the gateway's decoder."""

    def __init__(self, model_dir: Path) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        from voice.stt_whisper import WhisperStt

        self.model = WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=2, local_files_only=True
        )
        self.tokenizer = Tokenizer(self.model.hf_tokenizer, True, task="transcribe", language="nl")
        self.stt = WhisperStt(model_dir, "nl")  # as the gateway: beam 1, the guard, no prompt
        self.cache: dict[str, list[dict[str, Any]]] = {}
        self.refined: dict[WordCut, WordCut | None] = {}

    def align(self, line: Line) -> list[dict[str, Any]]:
        """[{word, start, end, probability}] for the line's known text."""
        from faster_whisper.audio import pad_or_trim

        audio = np.frombuffer(load_pcm(line.path), dtype="<i2").astype(np.float32) / 32768
        features = self.model.feature_extractor(audio)
        frames = features.shape[-1]
        encoded = self.model.encode(pad_or_trim(features))
        tokens = self.tokenizer.encode(" " + line.text.strip())
        found = self.model.find_alignment(self.tokenizer, [tokens], encoded, frames)
        return list(found[0]) if found else []

    def decode(self, pcm: bytes) -> str:
        """What the gateway would take from the caller ('' when the guard says noise)."""
        return self.stt.transcribe(pcm).text

    def raw(self, pcm: bytes) -> str:
        """What the model said, guard or not (for a piece of a line)."""
        return self.stt.decode(pcm).raw_text


def _levels(samples: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """RMS of each 10 ms frame."""
    hop = RATE // 100
    frames = len(samples) // hop
    x = samples[: frames * hop].astype(np.float64).reshape(frames, hop)
    levels: np.ndarray[Any, Any] = np.sqrt(np.mean(x**2, axis=1))
    return levels


def snap(levels: np.ndarray[Any, Any], at: float, before: float, after: float) -> float:
    """The quietest 10 ms frame boundary within [at - before, at + after] (a cut there
    splits least of a neighbouring word)."""
    a = max(0, int((at - before) * 100))
    b = min(len(levels), int((at + after) * 100) + 1)
    if a >= b:
        return at
    return round((a + int(np.argmin(levels[a:b]))) / 100, 3)


def segments(words: list[str], lines: list[Line]) -> list[tuple[int, int]]:
    """The sentence cut into as few runs of words as the lines say in one go."""
    said = [normalise(line.text) for line in lines]

    def occurs(run: list[str]) -> bool:
        n = len(run)
        return any(t[k : k + n] == run for t in said for k in range(len(t) - n + 1))

    best: list[list[tuple[int, int]] | None] = [[]] + [None] * len(words)
    for j in range(1, len(words) + 1):
        for i in range(j):
            prior = best[i]
            if prior is not None and occurs(words[i:j]):
                if best[j] is None or len(prior) + 1 < len(best[j] or []):
                    best[j] = [*prior, (i, j)]
    return best[-1] or []


def occurrences(
    aligner: Aligner, lines: list[Line], runs: list[list[str]]
) -> dict[str, list[Occurrence]]:
    """Every aligned occurrence of each run of words in *lines*, most probable first."""
    found: dict[str, list[Occurrence]] = {}
    for run in runs:
        key, n = " ".join(run), len(run)
        found[key] = []
        having = [
            line
            for line in lines
            if any(normalise(line.text)[k : k + n] == run for k in range(len(normalise(line.text))))
        ]
        for line in sorted(having, key=lambda line: len(line.text))[:LINES_PER_WORD]:
            if line.ident not in aligner.cache:
                aligner.cache[line.ident] = aligner.align(line)
            aligned = [a for a in aligner.cache[line.ident] if normalise(a["word"])]
            levels = _levels(np.frombuffer(load_pcm(line.path), dtype="<i2"))
            for k in range(len(aligned) - n + 1):
                if [normalise(a["word"])[0] for a in aligned[k : k + n]] != run:
                    continue
                start = snap(levels, float(aligned[k]["start"]), 0.06, 0.02)
                end = snap(levels, float(aligned[k + n - 1]["end"]), 0.02, 0.08)
                probability = float(np.prod([a["probability"] for a in aligned[k : k + n]]))
                cut = WordCut(key, line.level, line.ident, max(0.0, start), end)
                found[key].append(Occurrence(cut, probability ** (1 / n)))
        found[key].sort(key=lambda o: -o.probability)
    return found


def refine(aligner: Aligner, cut: WordCut) -> WordCut | None:
    """The cut moved to where Whisper hears the run begin and end, or None.

    The alignment is coarse (±0.1 s on this fast acted speech). The start is the latest
    of a few nearby points from which the rest of the line is heard beginning with the
    run's first word (among the first two heard); the end the earliest up to which the
    line is heard ending with the run's last word (among the last two: Whisper completes
    a word cut short) (the line around the run gives Whisper the context one
    word alone lacks)."""
    if cut in aligner.refined:
        return aligner.refined[cut]
    line = line_by_id(cut.level, cut.ident)
    pcm = load_pcm(line.path)
    run = normalise(cut.word)

    def byte(t: float) -> int:
        return max(0, int(t * RATE)) * 2

    starts = [cut.start + d for d in (0.08, 0.04, 0.0, -0.04, -0.08, -0.12)]
    start = next((t for t in starts if run[0] in normalise(aligner.raw(pcm[byte(t) :]))[:2]), None)
    ends = [cut.end + d for d in (-0.06, -0.02, 0.02, 0.06, 0.10, 0.14)]
    end = next((t for t in ends if run[-1] in normalise(aligner.raw(pcm[: byte(t)]))[-2:]), None)
    found = None
    if start is not None and end is not None and end > start:
        found = WordCut(cut.word, cut.level, cut.ident, round(max(0.0, start), 3), round(end, 3))
    aligner.refined[cut] = found
    print(f"    refine {cut.word!r} {cut.ident} {cut.start}-{cut.end} -> {found}", flush=True)
    return found


def candidates(keys: list[str], found: dict[str, list[Occurrence]]) -> Iterator[list[int]]:
    """Choices of occurrence per run: the best of each, then one run at a time swapped,
    then pairs."""
    yield [0] * len(keys)
    for rank in range(1, LINES_PER_WORD):
        for i, key in enumerate(keys):
            if rank < len(found[key]):
                yield [rank if j == i else 0 for j in range(len(keys))]
    for i, a in enumerate(keys):
        for j in range(i + 1, len(keys)):
            for ra in range(1, min(3, len(found[a]))):
                for rb in range(1, min(3, len(found[keys[j]]))):
                    yield [ra if k == i else rb if k == j else 0 for k in range(len(keys))]


def make(aligner: Aligner, name: str, text: str, intent: str, voices: str) -> dict[str, Any] | None:
    lines = fillets_lines()
    words = normalise(text)
    for voice in voices:
        mine = [line for line in lines if line.speaker == voice]
        spans = segments(words, mine)
        if not spans:
            print(f"  {name} {voice}: some word is never said", flush=True)
            continue
        runs = [words[i:j] for i, j in spans]
        keys = [" ".join(r) for r in runs]
        found = occurrences(aligner, mine, runs)
        if any(not found[k] for k in keys):
            print(f"  {name} {voice}: not aligned {[k for k in keys if not found[k]]}", flush=True)
            continue
        refined: dict[str, list[Occurrence]] = {}
        for key in keys:
            # The occurrences whose cut Whisper hears begin and end with the run first
            # (refined), then the plain alignment cuts: the refinement needs Whisper to
            # hear the rest of the line right, which it often does not on acted speech,
            # and the decode of the whole splice below is the check that counts.
            moved = [refine(aligner, o.cut) for o in found[key][:REFINE]]
            refined[key] = [
                Occurrence(m, o.probability)
                for m, o in zip(moved, found[key], strict=False)
                if m is not None
            ]
            refined[key] += [o for o in found[key] if o.cut not in {r.cut for r in refined[key]}]
        tries = ((c, p) for c in candidates(keys, refined) for p in PAUSES_S)
        for n, (choice, pause) in enumerate(tries):
            if n >= TRIES:
                break
            cuts = tuple(refined[k][c].cut for k, c in zip(keys, choice, strict=True))
            pcm = splice(cuts, pause)
            wide = aligner.decode(pcm)
            narrow = aligner.decode(g711_round_trip(pcm)) if wer(text, wide) == 0 else ""
            said = f"16k {wide!r} g711 {narrow!r}"
            print(f"  {name} {voice} {keys} {choice} {pause}: {said}", flush=True)
            if wer(text, wide) == 0 and wer(text, narrow) == 0:
                return {
                    "name": name,
                    "text": text,
                    "intent": intent,
                    "speaker": voice,
                    "pause_s": pause,
                    "words": [asdict(c) for c in cuts],
                    "checked": {"16k": wide, "g711": narrow},
                }
    return None


def phrase_cut(aligner: Aligner, level: str, ident: str, run: str, shift: float) -> WordCut:
    """The run of words in the line, cut at the quiet before it and after it (+ shift)."""
    line = line_by_id(level, ident)
    if line.ident not in aligner.cache:
        aligner.cache[line.ident] = aligner.align(line)
    aligned = [a for a in aligner.cache[line.ident] if normalise(a["word"])]
    said = [normalise(a["word"])[0] for a in aligned]
    words = normalise(run)
    k = next(i for i in range(len(said)) if said[i : i + len(words)] == words)
    levels = _levels(np.frombuffer(load_pcm(line.path), dtype="<i2"))
    start = snap(levels, float(aligned[k]["start"]), 0.08, 0.02) if k else 0.0
    end = snap(levels, float(aligned[k + len(words) - 1]["end"]), 0.02, 0.15) + shift
    end = min(end, len(levels) / 100)
    return WordCut(run, level, ident, round(max(0.0, start), 3), round(end, 3))


def make_phrases(
    aligner: Aligner,
    name: str,
    text: str,
    intent: str,
    keys: tuple[str, ...],
    pieces: tuple[tuple[str, str, str], ...],
) -> dict[str, Any] | None:
    """The sentence from its phrases, kept when its key words are heard (see PHRASES)."""
    for shift in END_SHIFTS_S:
        cuts = tuple(phrase_cut(aligner, lv, ident, run, shift) for lv, ident, run in pieces)
        for pause in PAUSES_S[: 1 if len(cuts) == 1 else None]:
            # (0.3 s of quiet either side was tried: Whisper heard less, not more)
            pcm = splice(cuts, pause)
            wide = aligner.decode(pcm)
            narrow = aligner.decode(g711_round_trip(pcm))
            print(f"  {name} {shift} {pause}: 16k {wide!r} g711 {narrow!r}", flush=True)
            # the key words after G.711: the line the phone callers (and the e2e test) use;
            # at 16 kHz Whisper base hears this acted speech no better (recorded below)
            if all(k in normalise(narrow) for k in keys):
                return {
                    "name": name,
                    "text": text,
                    "intent": intent,
                    "speaker": line_by_id(*pieces[0][:2]).speaker,
                    "pause_s": pause,
                    "words": [asdict(c) for c in cuts],
                    "keys": list(keys),
                    "checked": {"16k": wide, "g711": narrow},
                    "wer": {"16k": round(wer(text, wide), 3), "g711": round(wer(text, narrow), 3)},
                }
    return None


def main() -> None:
    from config.settings import load_settings
    from voice.model_registry import get_entry, resolve

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=RECIPE)
    parser.add_argument(
        "--words", action="store_true", help="also search word-by-word splices (slow, rarely kept)"
    )
    args = parser.parse_args()
    found = resolve(get_entry("whisper-base"), load_settings().models.dir)
    if found.path is None:
        sys.exit(f"{found.problem}; {found.provide}")
    aligner = Aligner(found.path)
    kept: list[dict[str, Any]] = []
    dropped: list[str] = []
    for name, text, intent, keys, pieces in PHRASES:
        made = make_phrases(aligner, name, text, intent, keys, pieces)
        if made:
            kept.append(made)
        else:
            dropped.append(name)
    for name, text, intent, voices in SENTENCES if args.words else ():
        made = make(aligner, name, text, intent, voices)
        if made:
            kept.append(made)
        else:
            dropped.append(name)
    result = {
        "about": (
            "Recipe of Dutch helpline utterances spliced from fillets-ng voice actors "
            "(Debian fillets-ng-data-nl, GPL-2+): built at test time by "
            "tests/tools/dutch_utterances.py; regenerate with "
            "python -m tests.tools.dutch_splice. 'checked' is what Whisper base "
            "(nl, beam 1) heard at 16 kHz and after G.711 when the recipe was made."
        ),
        "dropped": dropped,
        "utterances": kept,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"kept {len(kept)}, dropped {dropped}; wrote {args.out}")


if __name__ == "__main__":
    main()
