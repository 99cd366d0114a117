"""The real service as processes on free loopback ports: action server, Rasa, gateway.

Used by the end-to-end tests and the benchmarks. Whoever starts a stack stops it
(``with Stack(...) as stack``); every process binds 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from tests.gateway_fixture import gateway_env
from tests.tools.peers import free_port

ROOT = Path(__file__).resolve().parents[1]
RASA_PROJECT = ROOT / "dialogue" / "rasa"
RASA_VENV = Path(os.environ.get("RASA_VENV", ROOT / ".venv-rasa"))


def rasa_model() -> Path | None:
    models = sorted((RASA_PROJECT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def _get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read() or b"null")


class Proc:
    def __init__(
        self, name: str, argv: list[str], cwd: Path, env: dict[str, str], log: Path
    ) -> None:
        self.name = name
        self.log = log
        self._log = open(log, "ab")
        self.popen = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        if self.alive():
            try:
                os.killpg(self.popen.pid, sig)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
            except ProcessLookupError:
                pass
        self._log.close()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_until(what: str, check: Any, proc: Proc, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.tail()}")
        try:
            if check():
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s:\n{proc.tail()}")


class Stack:
    """Action server + Rasa (optional) + gateway, wired together on free ports."""

    def __init__(self, workdir: Path, *, rasa: bool = True, **gateway_overrides: str) -> None:
        self.workdir = workdir
        self.with_rasa = rasa
        self.overrides = gateway_overrides
        self.procs: dict[str, Proc] = {}
        self.env: dict[str, str] = {}

    # --- lifecycle

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = gateway_env(self.workdir, **self.overrides)
        if self.with_rasa:
            self._start_rasa()
        self._start_gateway()

    def stop(self) -> None:
        for name in ("gateway", "rasa", "actions"):
            proc = self.procs.pop(name, None)
            if proc is not None:
                proc.stop()

    def stop_rasa(self) -> None:
        proc = self.procs.pop("rasa", None)
        if proc is not None:
            proc.stop()

    def signal_rasa(self, sig: int) -> None:
        """Send *sig* to the Rasa server's process group (SIGKILL, SIGSTOP, SIGCONT)."""
        os.killpg(self.procs["rasa"].popen.pid, sig)

    def restart_rasa(self, timeout: float = 240) -> None:
        """Start the Rasa server again on the same port (after a kill), and wait for it."""
        old = self.procs.pop("rasa")
        old.stop(signal.SIGKILL)
        server = Proc(
            "rasa", [str(a) for a in old.popen.args], RASA_PROJECT,  # type: ignore[union-attr]
            self._rasa_env(), self.workdir / "rasa.log",
        )  # fmt: skip
        self.procs["rasa"] = server
        wait_until(
            "Rasa",
            lambda: bool(_get_json(f"{self.rasa_url}/status").get("model_file")),
            server, timeout,
        )  # fmt: skip

    # --- pieces

    def _rasa_env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
        env.pop("PYTHONPATH", None)
        return env

    def _start_rasa(self) -> None:
        model = rasa_model()
        rasa = RASA_VENV / "bin" / "rasa"
        if model is None or not rasa.exists():
            raise RuntimeError("no trained Rasa model or Rasa venv: run `make train` first")
        actions_port = free_port("tcp")
        rasa_port = free_port("tcp")
        endpoints = yaml.safe_load((RASA_PROJECT / "endpoints.yml").read_text()) or {}
        endpoints["action_endpoint"] = {"url": f"http://127.0.0.1:{actions_port}/webhook"}
        tracker = endpoints.get("tracker_store")
        if isinstance(tracker, dict) and tracker.get("dialect") == "sqlite":
            tracker["db"] = str(self.workdir / "tracker.sqlite")
        endpoints_file = self.workdir / "endpoints.yml"
        endpoints_file.write_text(yaml.safe_dump(endpoints))
        shutil.copy(RASA_PROJECT / "credentials.yml", self.workdir / "credentials.yml")
        env = self._rasa_env()
        actions = Proc(
            "actions",
            [str(rasa), "run", "actions", "--actions", "actions", "-p", str(actions_port)],
            RASA_PROJECT, env, self.workdir / "actions.log",
        )  # fmt: skip
        self.procs["actions"] = actions
        server = Proc(
            "rasa",
            [str(rasa), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(rasa_port),
             "-m", str(model), "--endpoints", str(endpoints_file),
             "--credentials", str(self.workdir / "credentials.yml")],
            RASA_PROJECT, env, self.workdir / "rasa.log",
        )  # fmt: skip
        self.procs["rasa"] = server
        self.env["LOKET_RASA__URL"] = f"http://127.0.0.1:{rasa_port}"
        self.env["LOKET_RASA__ACTIONS_PORT"] = str(actions_port)
        self.env["LOKET_RASA__TIMEOUT_S"] = "5"
        wait_until(
            "action server",
            lambda: _get_json(f"http://127.0.0.1:{actions_port}/health") is not None,
            actions, 120,
        )  # fmt: skip
        wait_until(
            "Rasa",
            lambda: bool(_get_json(f"http://127.0.0.1:{rasa_port}/status").get("model_file")),
            server, 240,
        )  # fmt: skip

    def _start_gateway(self) -> None:
        env = {**os.environ, **self.env}
        gateway = Proc(
            "gateway", [sys.executable, "-m", "loket.cli", "serve"], ROOT, env,
            self.workdir / "gateway.log",
        )  # fmt: skip
        self.procs["gateway"] = gateway
        wait_until("gateway", lambda: self.health() is not None, gateway, 120)

    # --- views

    @property
    def sip_uri(self) -> str:
        return f"sip:helpline@127.0.0.1:{self.env['LOKET_SIP__PORT']}"

    @property
    def rasa_url(self) -> str:
        return self.env["LOKET_RASA__URL"]

    @property
    def records_path(self) -> Path:
        return Path(self.env["LOKET_RECORDS__PATH"])

    def health(self) -> dict[str, Any] | None:
        data = _get_json(f"http://127.0.0.1:{self.env['LOKET_HTTP__PORT']}/healthz")
        return data if isinstance(data, dict) else None
