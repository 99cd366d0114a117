"""Rasa with the Redis lock store (the several-replicas setup), against a real Redis.

Needs redis-server (Debian package `redis-server`) and the Rasa environment; skipped
locally without them, failing in CI (CI=true).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import SCRIPTS_DIR, load_module

project = load_module("loket_rasa_project", SCRIPTS_DIR / "project.py")
pytestmark = pytest.mark.slow


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(what)
    pytest.skip(what)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis(port: int, *args: str) -> str:
    out = subprocess.run(
        ["redis-cli", "-p", str(port), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    return out.stdout


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        _missing("redis-server is not installed (Debian package redis-server)")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            if project.port_open(port):
                break
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def rasa_url(redis_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = project.current_model()
    if not (project.rasa_venv() / "bin" / "rasa").exists() or model is None:
        _missing("no Rasa environment or trained model: run `make train`")
    tmp: Path = tmp_path_factory.mktemp("rasa-redis")
    with project.servers(
        model,
        rasa_port=5305,
        actions_port=5355,
        log_dir=tmp,
        tracker_db=str(tmp / "tracker.sqlite"),
        redis_port=redis_port,
    ) as url:
        yield url


def post(url: str, sender: str, message: str) -> list[dict[str, object]]:
    body = json.dumps(
        {"sender": sender, "message": message, "metadata": {"channel": "text", "language": "nl"}}
    ).encode()
    req = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        replies = json.loads(resp.read())
    assert isinstance(replies, list)
    return replies


def test_messages_of_one_call_are_serialised_through_redis(rasa_url: str, redis_port: int) -> None:
    before = int(
        _redis(redis_port, "INFO", "stats").split("total_commands_processed:")[1].split()[0]
    )
    results: list[list[dict[str, object]]] = []
    messages = [
        "wanneer wordt de aow betaald",
        "hoe vraag ik een paspoort aan",
        "wat is het minimumloon",
        "hoe verleng ik mijn rijbewijs",
    ]
    threads = [
        threading.Thread(target=lambda m=m: results.append(post(rasa_url, "same-call", m)))
        for m in messages
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r for r in results)
    after = int(
        _redis(redis_port, "INFO", "stats").split("total_commands_processed:")[1].split()[0]
    )
    assert after > before + 4  # the lock store took and released locks in Redis
    # the four turns were handled one after the other: all four answers are in the tracker
    with urllib.request.urlopen(f"{rasa_url}/conversations/same-call/tracker", timeout=10) as r:
        tracker = json.loads(r.read())
    answers = [
        e
        for e in tracker["events"]
        if e.get("event") == "bot"
        and str(e.get("metadata", {}).get("utter_action", "")).startswith("utter_faq/")
    ]
    assert len(answers) == 4
