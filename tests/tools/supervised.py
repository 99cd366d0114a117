"""The supervisor ``make run`` starts (``python -m loket.supervisor``), run on free
loopback ports with its own var directory, for tests and benchmarks that kill, stop or
time its children."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.gateway_fixture import gateway_env
from tests.stack import RASA_VENV, ROOT
from tests.tools.peers import free_port


def get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read() or b"null")


@dataclass
class Supervised:
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    workdir: Path
    log: Path

    @property
    def sip_port(self) -> int:
        return int(self.env["LOKET_SIP__PORT"])

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.env['LOKET_HTTP__PORT']}/healthz"

    @property
    def rasa_port(self) -> str:
        return self.env["LOKET_RASA__URL"].rsplit(":", 1)[1]

    def health(self) -> dict[str, Any] | None:
        try:
            data = get_json(self.health_url, timeout=5)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def component(self, name: str) -> dict[str, Any]:
        health = self.health()
        if health is None:
            raise ValueError("no answer from /healthz")  # wait() tries again
        return dict(health["components"][name])

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait(self, what: str, check: Any, timeout: float) -> float:
        """Seconds until *check()* is truthy; fails the test with the supervisor's output."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            assert self.proc.poll() is None, f"supervisor exited:\n{self.output()}"
            try:
                if check():
                    return time.monotonic() - started
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"{what} not within {timeout:.0f} s:\n{self.output()}")


def start_supervisor(workdir: Path, **env_overrides: str) -> Supervised:
    """Start it and wait for its banner (Rasa, actions and gateway all up)."""
    env = {**os.environ, **gateway_env(workdir)}
    env["LOKET_RASA__URL"] = f"http://127.0.0.1:{free_port('tcp')}"
    env["LOKET_RASA__ACTIONS_PORT"] = str(free_port("tcp"))
    env["LOKET_SIP__SELFCHECK_S"] = "1"
    env.update(env_overrides)
    log = workdir / "supervisor.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loket.supervisor", "--rasa-venv", str(RASA_VENV),
             "--var-dir", str(workdir / "var"), "--check-every", "1"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    running = Supervised(proc, env, workdir, log)
    try:
        running.wait("the banner", lambda: "Loket is running" in running.output(), 300)
    except BaseException:
        stop_supervisor(running)
        raise
    return running


def stop_supervisor(running: Supervised, timeout: float = 60) -> None:
    proc = running.proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@contextmanager
def supervisor(workdir: Path, **env_overrides: str) -> Iterator[Supervised]:
    running = start_supervisor(workdir, **env_overrides)
    try:
        yield running
    finally:
        stop_supervisor(running)
