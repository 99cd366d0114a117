"""Benchmark the Rasa REST round trip and record the assistant's figures as JSON.

Usage: python scripts/rasa/bench_rest.py [--url URL] [--requests 300]
                                         [--out bench/results/rasa.json]

Without --url it starts the action server and Rasa on spare ports with the current
model (a temporary tracker database) and stops them afterwards. It measures:
* sequential REST round trips (one client, keep-alive), p50/p95/max;
* the same with 8 clients at once (8 calls talking in parallel);
* a hot reload (PUT /model) while a client keeps talking: load time, the slowest
  round trip meanwhile, failed requests.
and adds the training time (models/stamp.json) and the NLU cross-validation figures
(nlu-cv/summary.json) with machine info and the git commit.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import project
import reload as reloader

CONVERSATIONS = [
    (
        "nl",
        [
            "wanneer wordt de aow betaald",
            "ja",
            "hoe vraag ik een paspoort aan",
            '/dtmf{"digit":"5"}',
            "nee dat was het",
        ],
    ),
    (
        "en",
        [
            "When is the AOW paid?",
            "Yes",
            "How do I apply for a passport?",
            "/no_input",
            "No, that was all, thanks.",
        ],
    ),
    ("nl", ["eh ik wil verhuizen wat moet ik doen", "medewerker"]),
    ("nl", ['/set_language{"language":"en"}', "What is the minimum wage?", "thank you"]),
]


class Client:
    """One keep-alive HTTP connection to Rasa's REST channel."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def send(self, sender: str, message: str, language: str) -> tuple[float, int, list[Any]]:
        body = json.dumps(
            {
                "sender": sender,
                "message": message,
                "metadata": {"channel": "text", "language": language},
            }
        )
        started = time.perf_counter()
        try:
            self.conn.request(
                "POST", "/webhooks/rest/webhook", body, {"Content-Type": "application/json"}
            )
            resp = self.conn.getresponse()
            payload = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            return time.perf_counter() - started, 0, []
        elapsed = time.perf_counter() - started
        try:
            replies = json.loads(payload)
        except ValueError:
            replies = []
        return elapsed, resp.status, replies if isinstance(replies, list) else []


def talk(
    url: str,
    count: int,
    latencies: list[float],
    failures: list[str],
    stop: threading.Event | None = None,
    kinds: dict[str, list[float]] | None = None,
) -> None:
    """Send `count` messages (or until `stop`), conversation after conversation.

    `kinds` collects the latencies by kind of message: the first of a call (starts the
    session: one action-server call), a spoken text, or an /intent event.
    """
    client = Client(url)
    sent = 0
    while sent < count and not (stop and stop.is_set()):
        for language, messages in CONVERSATIONS:
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            for index, message in enumerate(messages):
                if sent >= count or (stop and stop.is_set()):
                    return
                elapsed, status, replies = client.send(sender, message, language)
                sent += 1
                latencies.append(elapsed)
                if kinds is not None:
                    kind = (
                        "first_of_call"
                        if index == 0
                        else ("intent_event" if message.startswith("/") else "spoken_text")
                    )
                    kinds.setdefault(kind, []).append(elapsed)
                if status != 200 or not replies:
                    failures.append(f"{status} {message!r} -> {replies!r}")


def stats(latencies: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in latencies)
    if not ms:
        return {}
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "n": len(ms),
        "p50_ms": round(q[49], 1),
        "p95_ms": round(q[94], 1),
        "max_ms": round(ms[-1], 1),
        "mean_ms": round(statistics.fmean(ms), 1),
    }


def sequential(url: str, n: int) -> dict[str, Any]:
    talk(url, 10, [], [])  # warm-up, not measured
    latencies: list[float] = []
    failures: list[str] = []
    kinds: dict[str, list[float]] = {}
    talk(url, n, latencies, failures, kinds=kinds)
    return {
        **stats(latencies),
        "failures": failures[:5],
        "failed": len(failures),
        "by_kind": {kind: stats(values) for kind, values in sorted(kinds.items())},
    }


def parallel(url: str, n: int, clients: int = 8) -> dict[str, Any]:
    latencies: list[float] = []
    failures: list[str] = []
    threads = [
        threading.Thread(target=talk, args=(url, n // clients, latencies, failures))
        for _ in range(clients)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        **stats(latencies),
        "clients": clients,
        "failed": len(failures),
        "requests_per_s": round(len(latencies) / wall, 1),
    }


def during_reload(url: str, model: Path) -> dict[str, Any]:
    latencies: list[float] = []
    failures: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=talk, args=(url, 10**6, latencies, failures, stop))
    thread.start()
    time.sleep(1.0)
    before = len(latencies)
    try:
        seconds = reloader.reload(url, model)
        error = None
    except RuntimeError as exc:
        seconds, error = float("nan"), str(exc)
    time.sleep(1.0)
    stop.set()
    thread.join()
    during = latencies[before:]
    return {
        "load_seconds": round(seconds, 2),
        "error": error,
        "slowest_round_trip_ms": round(max(during) * 1000, 1) if during else None,
        "requests_meanwhile": len(during),
        "failed": len(failures),
        "failures": failures[:5],
    }


def git_commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project.ROOT, text=True, capture_output=True, check=False
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "dialogue/rasa", "scripts/rasa"],
        cwd=project.ROOT,
        text=True,
        capture_output=True,
        check=False,
    )
    return result.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def run_bench(url: str, n: int, model: Path) -> dict[str, Any]:
    return {
        "sequential": sequential(url, n),
        "parallel": parallel(url, n),
        "reload": during_reload(url, model),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="an already running Rasa (else started)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--out", type=Path, default=project.ROOT / "bench/results/rasa.json")
    args = parser.parse_args(argv)
    model = project.current_model()
    if model is None:
        print("no trained model: run `make train` first", file=sys.stderr)
        return 1
    load_before = os.getloadavg()  # the machine may be shared: say how busy it was
    if args.url:
        figures = run_bench(args.url, args.requests, model)
    else:
        with (
            tempfile.TemporaryDirectory() as tmp,
            project.servers(
                model, rasa_port=5105, actions_port=5155, tracker_db=f"{tmp}/tracker.sqlite"
            ) as url,
        ):
            figures = run_bench(url, args.requests, model)
    stamp = project.read_json(project.STAMP_FILE)
    nlu = project.read_json(project.RASA_DIR / "nlu-cv" / "summary.json")
    result = {
        "benchmark": "rasa",
        "date": project.utc_now(),
        "commit": git_commit(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "rasa_version": project.rasa_version(),
        "model": model.name,
        "train_seconds": stamp.get("train_seconds"),
        "rest_round_trip": figures,
        "nlu_cross_validation": {
            k: nlu.get(k)
            for k in ("folds", "cv_seconds", "examples", "weighted_f1", "macro_f1", "accuracy")
        }
        | {
            "topic_f1": {t: s["f1"] for t, s in (nlu.get("topics") or {}).items()},
            "intent_f1": {t: s["f1"] for t, s in (nlu.get("intents") or {}).items()},
        },
    }
    project.write_json(args.out, result)
    seq = figures["sequential"]
    print(
        f"REST round trip p50 {seq.get('p50_ms')} ms, p95 {seq.get('p95_ms')} ms "
        f"({seq.get('n')} requests); written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
