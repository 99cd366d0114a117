"""Dutch speech recognition on real human speech: WER, real-time factor, load time, memory.

Speech and text come from Debian (offline): ``fillets-ng-data-nl`` holds the Dutch voice
actors' lines (``sound/<level>/nl/<id>.ogg``), ``fillets-ng-data`` their text
(``script/<level>/dialogs_nl.lua``, the same ids). A fixed subset (every k-th line of the
sorted list, ``--lines``, default 120) keeps a run of the whole matrix under ten minutes on
two cores. Acted game dialogue, not helpline questions: a lower bound on what callers get.

Per Dutch STT engine present (``loket models list``): WER at 16 kHz and after a G.711
(PCMU, 8 kHz) round trip; for Whisper also beam 1 and 5, with and without the helpline
vocabulary prompt, and language identification (how often ``nl`` is ranked first).
The real-time factor is compute seconds / audio seconds, one thread, the way the gateway
runs an utterance. WER is word edits / reference words after lowercasing and removing
punctuation; numbers are left as written (Whisper writing "3" for "drie" counts as an
error — a caller's number matters).

Run: ``.venv/bin/python -m bench.dutch_stt`` → ``bench/results/dutch_stt.json``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.common import RESULTS, write_result
from config.settings import load_settings
from tests.tools.fillets import (
    FILLETS,
    INSTALL_HINT,
    RATE,
    Line,
    edits,
    fillets_lines,
    g711_round_trip,
    load_pcm,
    normalise,
    subset,
)
from voice.audio import noise, silence_bytes
from voice.model_registry import ENTRIES, resolve
from voice.stt_whisper import WhisperStt

OUT = RESULTS / "dutch_stt.json"
VOCABULARY_PROMPT = (
    "Vragen aan de Rijksoverheid over de AOW, het UWV, DUO, DigiD, de Belastingdienst, "
    "de SVB, toeslagen, zorgtoeslag, huurtoeslag, kinderbijslag of een medewerker."
)


def rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


Transcribe = Callable[[bytes], tuple[str, float, tuple[tuple[str, float], ...]]]


def score(
    lines: list[Line], audio: list[bytes], transcribe: Transcribe, keep: int = 0
) -> dict[str, Any]:
    """WER, RTF and language identification of *transcribe* over the lines."""
    errors = words = 0
    compute = seconds = 0.0
    nl_first = 0
    p_nl: list[float] = []
    samples: list[dict[str, str]] = []
    for line, pcm in zip(lines, audio, strict=True):
        text, spent, languages = transcribe(pcm)
        ref, hyp = normalise(line.text), normalise(text)
        errors += edits(ref, hyp)
        words += len(ref)
        compute += spent
        seconds += len(pcm) / 2 / RATE
        if languages:
            nl_first += languages[0][0] == "nl"
            p_nl.append(dict(languages).get("nl", 0.0))
        if len(samples) < keep:
            samples.append({"id": line.ident, "ref": line.text, "hyp": text})
    result: dict[str, Any] = {
        "wer": round(errors / words, 4) if words else None,
        "words": words,
        "rtf": round(compute / seconds, 4) if seconds else None,
        "compute_s": round(compute, 2),
    }
    if p_nl:
        result["language_nl_first"] = round(nl_first / len(p_nl), 4)
        result["language_p_nl_median"] = round(statistics.median(p_nl), 4)
    if samples:
        result["samples"] = samples
    return result


def noise_clips() -> Iterator[tuple[str, bytes]]:
    """Line noise a recogniser must not turn into words (the hallucination guard's job)."""
    yield "silence 2 s", silence_bytes(2.0, RATE)
    for level in (-45, -35, -25):
        yield f"white noise {level} dBFS 2 s", noise(2.0, RATE, level, seed=-level).pcm


def whisper_runs(
    model_dir: Path,
    lines: list[Line],
    wide: list[bytes],
    narrow: list[bytes],
    beams: list[int],
    pad_with_silence: bool = False,
) -> list[dict[str, Any]]:
    runs = []
    for prompt in (None, VOCABULARY_PROMPT):
        for beam in beams:
            before = rss_mb()
            started = time.perf_counter()
            engine = WhisperStt(
                model_dir, "nl", beam_size=beam, prompt=prompt, pad_with_silence=pad_with_silence
            )
            load_s = time.perf_counter() - started
            loaded_mb = rss_mb() - before

            def transcribe(
                pcm: bytes, engine: WhisperStt = engine
            ) -> tuple[str, float, tuple[tuple[str, float], ...]]:
                t = engine.transcribe(pcm)
                return t.text, t.compute_s, t.languages

            run: dict[str, Any] = {
                "beam": beam,
                "prompt": prompt is not None,
                "load_s": round(load_s, 2),
                "rss_after_load_mb": round(loaded_mb, 1),
                "16k": score(lines, wide, transcribe, keep=5),
                "g711": score(lines, narrow, transcribe),
                "noise_transcribed": [
                    label for label, pcm in noise_clips() if engine.transcribe(pcm).text
                ],
            }
            run["rss_peak_mb"] = round(rss_mb("VmHWM"), 1)
            runs.append(run)
            print(
                f"  whisper beam {beam} prompt {prompt is not None}: "
                f"WER 16k {run['16k']['wer']} g711 {run['g711']['wer']} "
                f"RTF {run['16k']['rtf']} nl-first {run['16k'].get('language_nl_first')}",
                flush=True,
            )
            del engine
    return runs


def vosk_run(model_dir: Path, lines: list[Line], wide: list[bytes], narrow: list[bytes]) -> Any:
    from voice.stt_vosk import VoskStt

    before = rss_mb()
    started = time.perf_counter()
    engine = VoskStt(model_dir, "nl")
    load_s = time.perf_counter() - started

    def transcribe(pcm: bytes) -> tuple[str, float, tuple[tuple[str, float], ...]]:
        rec = engine.recognizer()
        started = time.perf_counter()
        rec.accept_sync(pcm)
        text = rec.finish_sync().text
        rec.close()
        return text, time.perf_counter() - started, ()

    return {
        "load_s": round(load_s, 2),
        "rss_after_load_mb": round(rss_mb() - before, 1),
        "16k": score(lines, wide, transcribe, keep=5),
        "g711": score(lines, narrow, transcribe),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=120, help="size of the fixed subset")
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--pad-with-silence", action="store_true", help="WhisperStt(pad_with_silence=True)"
    )
    args = parser.parse_args()
    everything = fillets_lines()
    if not everything:
        raise SystemExit(f"no Dutch speech under {FILLETS}: {INSTALL_HINT}")
    lines = subset(everything, args.lines)
    wide = [load_pcm(line.path) for line in lines]
    narrow = [g711_round_trip(pcm) for pcm in wide]
    audio_s = sum(len(p) for p in wide) / 2 / RATE
    print(f"{len(lines)} of {len(everything)} fillets lines, {audio_s:.0f} s of speech", flush=True)

    settings = load_settings()
    engines: dict[str, Any] = {}
    for entry in ENTRIES:
        if entry.role != "stt" or entry.language != "nl":
            continue
        found = resolve(entry, settings.models.dir)
        if found.path is None:
            engines[entry.name] = {"present": False, "why": found.problem}
            continue
        print(f"{entry.name} ({entry.engine}) at {found.path}", flush=True)
        if entry.engine == "whisper":
            runs = whisper_runs(found.path, lines, wide, narrow, args.beams, args.pad_with_silence)
            engines[entry.name] = {"present": True, "runs": runs}
        else:
            engines[entry.name] = {"present": True, **vosk_run(found.path, lines, wide, narrow)}
    result = {
        "benchmark": "Dutch STT on fillets-ng voice actors (Debian fillets-ng-data-nl)",
        "lines": len(lines),
        "lines_available": len(everything),
        "audio_s": round(audio_s, 1),
        "mean_line_s": round(audio_s / len(lines), 2),
        "subset": f"every {len(everything) / len(lines):.2f}th line sorted by level/id",
        "normalisation": "lowercase, punctuation removed, numbers as written",
        "threads": 1,
        "compute_type": "int8",
        "whisper_pad_with_silence": args.pad_with_silence,
        "vocabulary_prompt": VOCABULARY_PROMPT,
        "engines": engines,
    }
    print(f"wrote {write_result('dutch_stt', result, args.out)}")


if __name__ == "__main__":
    main()
