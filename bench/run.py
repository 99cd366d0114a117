"""``make bench``: every benchmark in turn; each writes its JSON to bench/results/."""

from __future__ import annotations

import subprocess
import sys

from bench.common import ROOT

STEPS = [
    ("speech engines", [sys.executable, "-m", "bench.engines"]),
    ("start-up synthesis", [sys.executable, "-m", "bench.warmup"]),
    ("Dutch speech recognition (fillets-ng)", [sys.executable, "-m", "bench.dutch_stt"]),
    (
        "Dutch outcomes from speech (answer, confirmation, person)",
        [sys.executable, "-m", "bench.dutch_outcomes"],
    ),
    ("spoken form of the answers", [sys.executable, "-m", "bench.speech_text"]),
    ("Whisper confidence against WER (fillets-ng)", [sys.executable, "-m", "bench.asr_confidence"]),
    ("confirmation when unsure", [sys.executable, "-m", "bench.confirmation"]),
    (
        "Rasa REST round trip",
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "scripts/rasa/bench_rest.py"],
    ),
    ("turn latency, one call", [sys.executable, "-m", "bench.turn_latency", "--turns", "24"]),
    ("barge-in", [sys.executable, "-m", "bench.barge_in", "--rounds", "3"]),
    (
        "load: concurrent callers",
        [sys.executable, "-m", "bench.load", "--levels", "1", "5", "10", "20", "--profile"],
    ),
    ("agent desk", [sys.executable, "-m", "bench.desk", "--calls", "6"]),
    ("SIP load: SIPp at 200 set-ups/s, 100 at once", [sys.executable, "-m", "bench.sip_load"]),
    ("redaction: recall, precision, time", [sys.executable, "-m", "bench.redaction"]),
    ("capacity on paper (Erlang B/C)", [sys.executable, "-m", "bench.capacity"]),
]


def main() -> None:
    failed = []
    for name, argv in STEPS:
        print(f"== {name}: {' '.join(argv)}", flush=True)
        if subprocess.run(argv, cwd=ROOT).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
