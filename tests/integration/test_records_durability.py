"""Call records survive ``kill -9`` of the gateway in the middle of a call."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.gateway_fixture import gateway_env
from tests.tools.peers import SIPP, free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_http(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("gateway did not come up")


@pytest.mark.skipif(SIPP is None, reason="sipp not installed")
def test_kill_9_mid_call_loses_nothing_already_written(tmp_path: Path) -> None:
    env = {**os.environ, **gateway_env(tmp_path)}
    gateway = subprocess.Popen(
        [sys.executable, "-m", "loket.cli", "serve"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    caller = None
    try:
        wait_http(int(env["LOKET_HTTP__PORT"]), gateway)
        caller = subprocess.Popen(
            [str(SIPP), "-sn", "uac", f"127.0.0.1:{env['LOKET_SIP__PORT']}", "-i", "127.0.0.1",
             "-p", str(free_port()), "-m", "1", "-d", "60000", "-nostdin"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        db = tmp_path / "records.sqlite"
        deadline = time.monotonic() + 30
        seen: list[str] = []
        while time.monotonic() < deadline and "disclosure" not in seen:
            time.sleep(0.2)
            if db.exists():
                with sqlite3.connect(db) as conn:
                    seen = [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY seq")]
        assert "disclosure" in seen, seen
        gateway.send_signal(signal.SIGKILL)
        gateway.wait(10)
    finally:
        for proc in (caller, gateway):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
    with sqlite3.connect(db) as conn:
        calls = conn.execute("SELECT id, answered_at, ended_at FROM calls").fetchall()
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY seq")]
    assert len(calls) == 1 and calls[0][1] is not None and calls[0][2] is None  # killed mid-call
    assert kinds[: len(seen)] == seen  # everything seen before the kill is still there
    # the restarted gateway ends the call the killed one left open, and says why
    restarted = subprocess.Popen(
        [sys.executable, "-m", "loket.cli", "serve"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_http(int(env["LOKET_HTTP__PORT"]), restarted)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(30)
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT ended_at, ended_by, outcome FROM calls").fetchone()
        last = conn.execute("SELECT kind, data FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    assert row[0] is not None and row[1] == "gateway" and row[2] == "cut off", row
    assert last[0] == "ended" and '"abrupt": true' in last[1], last
