"""Load a newly trained model into the running Rasa server, without a restart.

Usage: python scripts/rasa/reload.py [--url http://127.0.0.1:5005] [--model PATH]
                                     [--token TOKEN] [--timeout 120]

Uses Rasa's HTTP API (the server must run with --enable-api): PUT /model with the
model file, then GET /status to confirm. Without --model it takes the model of the
last `make train` (dialogue/rasa/models/stamp.json); when the server already runs
that model it does nothing. Exit 0 when the server runs the model afterwards.

What callers notice (Rasa 3.6 with channels/tuning.py, which the REST channel loads):
the new model is loaded in a worker thread while the old one keeps answering, then
swapped in; messages are a little slower meanwhile (the load takes about 10-30 s of
CPU on two cores), none wait for the whole load. Without the tuning module Rasa loads
on its event loop and messages wait until loading is done. Conversations continue on
the new model with their history: trackers live in the SQL tracker store
(endpoints.yml), not in the model; the lock store is carried over. If loading fails,
the old model stays in service and this command exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


def _request(method: str, url: str, body: dict[str, Any] | None, timeout: float) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _with_token(url: str, token: str | None) -> str:
    return f"{url}?{urllib.parse.urlencode({'token': token})}" if token else url


def loaded_model(url: str, token: str | None, timeout: float = 5) -> str | None:
    """File name of the model the server runs (None when it has none)."""
    status, text = _request("GET", _with_token(f"{url}/status", token), None, timeout)
    if status != 200:
        raise RuntimeError(f"GET /status answered {status}: {text[:200]}")
    name = json.loads(text).get("model_file")
    return Path(str(name)).name if name else None


def reload(url: str, model: Path, token: str | None = None, timeout: float = 120) -> float:
    """PUT the model into the server; returns the seconds the load took."""
    started = time.monotonic()
    status, text = _request(
        "PUT", _with_token(f"{url}/model", token), {"model_file": str(model.resolve())}, timeout
    )
    seconds = time.monotonic() - started
    if status != 204:
        raise RuntimeError(f"PUT /model answered {status}: {text[:300]}")
    running = loaded_model(url, token)
    if running != model.name:
        raise RuntimeError(f"server runs {running!r} after loading {model.name!r}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--token", default=None, help="Rasa's --auth-token, if set")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--force", action="store_true", help="load even if already running")
    args = parser.parse_args(argv)
    import project  # the sibling script module; imported here so tests can load this file alone

    model = args.model or project.current_model()
    if model is None or not model.exists():
        print("no trained model: run `make train` first", file=sys.stderr)
        return 1
    try:
        running = loaded_model(args.url, args.token)
        if running == model.name and not args.force:
            print(f"Rasa at {args.url} already runs {model.name}.")
            return 0
        seconds = reload(args.url, model, args.token, args.timeout)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"reload failed: {exc}", file=sys.stderr)
        return 1
    print(f"Rasa at {args.url} now runs {model.name} (was {running}); load took {seconds:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
