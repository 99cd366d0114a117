"""Shared helpers for the Rasa scripts: paths, the project's data hash, running Rasa.

Runs on any Python >= 3.10 (the gateway's or the Rasa venv's); only the standard
library. The Rasa commands themselves run from the Rasa venv (RASA_VENV).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RASA_DIR = ROOT / "dialogue" / "rasa"
MODELS_DIR = RASA_DIR / "models"
RESULTS_DIR = RASA_DIR / "results"
STAMP_FILE = MODELS_DIR / "stamp.json"
KEEP_MODELS = 3

# What the trained model depends on. Actions, tests and the knowledge file are not
# part of the model, so changing them needs no retraining.
# components/ holds pipeline code whose train() shapes the model (the safety net's lists)
MODEL_INPUTS = ("config.yml", "domain", "data", "components")


def utc_now() -> str:
    """Current time, ISO 8601 in UTC (timezone.utc: these scripts also run on 3.10)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")  # noqa: UP017


def rasa_venv() -> Path:
    venv = Path(os.environ.get("RASA_VENV", ROOT / ".venv-rasa"))
    return venv if venv.is_absolute() else ROOT / venv


def rasa_bin() -> str:
    return str(rasa_venv() / "bin" / "rasa")


def rasa_env() -> dict[str, str]:
    """Environment for Rasa processes: quiet, no telemetry, no GPU probing."""
    env = dict(os.environ)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    env.setdefault("CUDA_VISIBLE_DEVICES", "")
    return env


INPUT_SUFFIXES = {".yml", ".yaml", ".py"}


def input_files(paths: tuple[str, ...] = MODEL_INPUTS) -> list[Path]:
    files: list[Path] = []
    for name in paths:
        path = RASA_DIR / name
        if path.is_dir():
            found = path.rglob("*")
            files += sorted(p for p in found if p.is_file() and p.suffix in INPUT_SUFFIXES)
        elif path.exists():
            files.append(path)
    return files


def data_hash(paths: tuple[str, ...] = MODEL_INPUTS, extra: str = "") -> str:
    """SHA-256 over the names and contents of the files the model is trained from."""
    digest = hashlib.sha256()
    digest.update(rasa_version().encode())
    digest.update(extra.encode())
    for path in input_files(paths):
        digest.update(str(path.relative_to(RASA_DIR)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def rasa_version() -> str:
    """Installed Rasa version (part of the hash: another Rasa needs another model)."""
    pattern = "rasa-*.dist-info"
    for site in (rasa_venv() / "lib").glob("python3*/site-packages"):
        for dist in site.glob(pattern):
            return dist.name[len("rasa-") : -len(".dist-info")]
    return "unknown"


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def current_model() -> Path | None:
    """The model the last `make train` produced (or the newest one in models/)."""
    stamp = read_json(STAMP_FILE)
    if stamp.get("model"):
        path = MODELS_DIR / str(stamp["model"])
        if path.exists():
            return path
    models = sorted(MODELS_DIR.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command in the Rasa project folder, echoing it."""
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=RASA_DIR, env=rasa_env(), text=True, check=False, **kwargs)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until `url` answers 200, failing early if `proc` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} was up")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def servers(
    model: Path | None = None,
    rasa_port: int = 5005,
    actions_port: int = 5055,
    log_dir: Path | None = None,
    tracker_db: str | None = None,
    redis_port: int | None = None,
) -> Iterator[str]:
    """Start the action server and the Rasa server (127.0.0.1 only); yield Rasa's URL.

    Both are stopped on exit. `tracker_db` sets another SQLite file (tests use a
    temporary one); `redis_port` adds a Redis lock store on 127.0.0.1 (as
    endpoints-scaled.yml configures for several replicas); by default the project's
    endpoints.yml is used as is.
    """
    model = model or current_model()
    if model is None:
        raise FileNotFoundError("no trained model in dialogue/rasa/models: run `make train`")
    for port in (rasa_port, actions_port):
        if port_open(port):
            raise RuntimeError(f"port {port} is already in use on 127.0.0.1")
    log_dir = log_dir or RESULTS_DIR / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = rasa_env()
    env["SANIC_HOST"] = "127.0.0.1"  # rasa-sdk 3.6 has no --host flag; it reads this
    endpoints = RASA_DIR / "endpoints.yml"
    if tracker_db is not None or actions_port != 5055 or redis_port is not None:
        text = endpoints.read_text(encoding="utf-8")
        text = text.replace("127.0.0.1:5055", f"127.0.0.1:{actions_port}")
        if tracker_db is not None:
            text = text.replace("db: var/tracker.sqlite", f"db: {tracker_db}")
        if redis_port is not None:
            text += (
                "\nlock_store:\n  type: redis\n  url: 127.0.0.1\n"
                f"  port: {redis_port}\n  db: 0\n  key_prefix: loket\n"
            )
        endpoints = log_dir / f"endpoints-{rasa_port}.yml"
        endpoints.write_text(text, encoding="utf-8")
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        actions_log = (log_dir / f"actions-{actions_port}.log").open("wb")
        logs.append(actions_log)
        actions = subprocess.Popen(
            [rasa_bin(), "run", "actions", "--actions", "actions", "-p", str(actions_port)],
            cwd=RASA_DIR,
            env=env,
            stdout=actions_log,
            stderr=subprocess.STDOUT,
        )
        procs.append(actions)
        rasa_log = (log_dir / f"rasa-{rasa_port}.log").open("wb")
        logs.append(rasa_log)
        server = subprocess.Popen(
            [
                rasa_bin(),
                "run",
                "--enable-api",
                "-i",
                "127.0.0.1",
                "-p",
                str(rasa_port),
                "--model",
                str(model),
                "--endpoints",
                str(endpoints),
                "--credentials",
                "credentials.yml",
            ],
            cwd=RASA_DIR,
            env=env,
            stdout=rasa_log,
            stderr=subprocess.STDOUT,
        )
        procs.append(server)
        wait_http(f"http://127.0.0.1:{actions_port}/health", 120, actions)
        wait_http(f"http://127.0.0.1:{rasa_port}/status", 300, server)
        yield f"http://127.0.0.1:{rasa_port}"
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


def main_guard() -> None:
    """Refuse to run without the Rasa venv, with the command that creates it."""
    if not Path(rasa_bin()).exists():
        sys.exit(f"no Rasa at {rasa_bin()}: run `make rasa-venv` (or set RASA_VENV)")
