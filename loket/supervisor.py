"""``make run``: start the action server, Rasa and the gateway; keep them up; stop them cleanly.

Each child runs in its own process group, so Ctrl-C reaches only us and we
choose the order: the gateway first (it stops taking calls and lets calls in
progress finish), then Rasa and the action server. A child that dies is
restarted with a growing back-off; while Rasa is down the gateway sends
callers to the queue, so nobody is stranded meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml

from config.settings import PROJECT_DIR, ConfigError, Settings, load_settings
from telephony.sip.endpoint import route_source_ip


@dataclass
class Child:
    name: str
    argv: list[str]
    cwd: Path
    ready_url: str
    ready_key: str | None = None
    """A JSON key that must be truthy in the ready URL's answer (Rasa: model_file)."""
    log_path: Path | None = None
    stop_timeout_s: float = 10.0
    proc: asyncio.subprocess.Process | None = None
    restarts: int = 0
    env: dict[str, str] = field(default_factory=dict)
    started_at: float = 0.0
    seen_ready: bool = False
    """Ready at least once since its last start: only then do failed checks count."""
    failed_checks: int = 0


def rasa_bin(venv: Path) -> str:
    return str(venv / "bin" / "rasa")


def rasa_endpoints(settings: Settings, run_dir: Path) -> Path:
    """The project's endpoints.yml with the action server where our settings put it.

    One source of truth for ports: the typed settings, not a second copy in YAML.
    """
    project = settings.rasa.project_dir
    endpoints = yaml.safe_load((project / "endpoints.yml").read_text(encoding="utf-8")) or {}
    endpoints["action_endpoint"] = {"url": f"http://127.0.0.1:{settings.rasa.actions_port}/webhook"}
    tracker = endpoints.get("tracker_store")
    if isinstance(tracker, dict) and tracker.get("dialect") == "sqlite":
        db = Path(str(tracker.get("db", "var/tracker.sqlite")))
        tracker["db"] = str(db if db.is_absolute() else run_dir / db.name)
    run_dir.mkdir(parents=True, exist_ok=True)
    out = run_dir / "rasa-endpoints.yml"
    out.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
    return out


def children(settings: Settings, rasa_venv: Path, log_dir: Path) -> list[Child]:
    project = settings.rasa.project_dir
    port = settings.rasa.url.rsplit(":", 1)[-1].split("/")[0]
    actions_port = str(settings.rasa.actions_port)
    endpoints = rasa_endpoints(settings, log_dir.parent)
    return [
        Child(
            "actions",
            [rasa_bin(rasa_venv), "run", "actions", "--actions", "actions", "-p", actions_port],
            project,
            f"http://127.0.0.1:{actions_port}/health",
            log_path=log_dir / "actions.log",
            # rasa_sdk binds 0.0.0.0 unless told: only Rasa, on this machine, may call it
            env={"SANIC_HOST": "127.0.0.1"},
        ),
        Child(
            "rasa",
            [
                rasa_bin(rasa_venv),
                "run",
                "--enable-api",
                "-i",
                "127.0.0.1",
                "-p",
                port,
                "-m",
                "models",
                "--endpoints",
                str(endpoints),
                "--credentials",
                "credentials.yml",
            ],
            project,
            f"{settings.rasa.url}/status",
            ready_key="model_file",
            log_path=log_dir / "rasa.log",
            # Rasa closes its server at once on SIGTERM and then spends ~2 s tearing down
            # (measured by bench/stop_time.py: 1.9-2.2 s). By then nothing talks to it (the
            # gateway stops first when it has calls) and its tracker store is SQLite, which
            # a kill cannot leave half-written: after 1 s it is killed.
            stop_timeout_s=1.0,
        ),
        Child(
            "gateway",
            [sys.executable, "-m", "loket.cli", "serve"],
            PROJECT_DIR,
            f"http://{settings.http.host}:{settings.http.port}/healthz",
            stop_timeout_s=settings.sip.shutdown_grace_s + 10,
        ),
    ]


async def _is_ready(http: aiohttp.ClientSession, child: Child, timeout_s: float = 2.0) -> bool:
    try:
        async with asyncio.timeout(timeout_s), http.get(child.ready_url) as resp:
            if resp.status != 200:
                return False
            if child.ready_key is None:
                return True
            data = await resp.json(content_type=None)
            return bool(isinstance(data, dict) and data.get(child.ready_key))
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError):
        return False


class Supervisor:
    CHECK_EVERY_S = 5.0
    CHECK_TIMEOUT_S = 5.0
    """Generous: a gateway busy with many calls answers /healthz slowly, and a restart
    would end every one of them."""
    FAILURES_BEFORE_RESTART = 3

    def __init__(self, settings: Settings, kids: list[Child], startup_timeout: float = 240.0):
        self.settings = settings
        self.kids = kids
        self.stopping = False
        self.startup_timeout = startup_timeout

    async def start(self, child: Child) -> None:
        log_fd: int | None = None
        if child.log_path is not None:
            child.log_path.parent.mkdir(parents=True, exist_ok=True)
            log_fd = os.open(child.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        child.started_at = time.monotonic()
        child.seen_ready = False
        child.failed_checks = 0
        try:
            child.proc = await asyncio.create_subprocess_exec(
                *child.argv,
                cwd=child.cwd,
                stdout=log_fd,
                stderr=log_fd,
                start_new_session=True,
                env={**os.environ, **child.env},
            )
        finally:
            if log_fd is not None:
                os.close(log_fd)  # the child has its own copy

    async def wait_ready(self, child: Child, within_s: float) -> bool:
        deadline = time.monotonic() + within_s
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if child.proc is not None and child.proc.returncode is not None:
                    return False
                if await _is_ready(http, child):
                    return True
                await asyncio.sleep(0.5)
        return False

    async def keep_alive(self, child: Child) -> None:
        """Restart *child* whenever it exits, until we are stopping."""
        backoff = 1.0
        while not self.stopping:
            assert child.proc is not None
            started = time.monotonic()
            code = await child.proc.wait()
            if self.stopping:
                return
            child.restarts += 1
            where = f" (see {child.log_path})" if child.log_path else ""
            print(
                f"loket: {child.name} exited with {code}; restarting in {backoff:.0f} s{where}",
                flush=True,
            )
            await asyncio.sleep(backoff)
            backoff = 1.0 if time.monotonic() - started > 60 else min(backoff * 2, 30.0)
            if not self.stopping:
                await self.start(child)

    async def watch_health(self, child: Child) -> None:
        """Restart *child* when it stops answering its health URL (hung, or not ready).

        A process that exits is restarted by :meth:`keep_alive`; this catches the ones
        that live on but do not work: a stopped (SIGSTOP) or wedged Rasa, a gateway whose
        /healthz says 503 (its own SIP self-check failed) or does not answer at all.
        """
        async with aiohttp.ClientSession() as http:
            while not self.stopping:
                await asyncio.sleep(self.CHECK_EVERY_S)
                proc = child.proc
                if self.stopping or proc is None or proc.returncode is not None:
                    continue
                if await _is_ready(http, child, self.CHECK_TIMEOUT_S):
                    child.seen_ready, child.failed_checks = True, 0
                    continue
                if child.seen_ready:
                    child.failed_checks += 1
                    if child.failed_checks < self.FAILURES_BEFORE_RESTART:
                        continue
                    why = f"failed {child.failed_checks} health checks in a row"
                elif time.monotonic() - child.started_at > self.startup_timeout:
                    why = f"not ready {self.startup_timeout:.0f} s after its start"
                else:
                    continue  # still starting
                print(f"loket: {child.name} {why} ({child.ready_url}); restarting", flush=True)
                child.failed_checks = 0
                child.seen_ready = False
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # keep_alive starts it again

    async def stop_child(self, child: Child) -> None:
        proc = child.proc
        if proc is None or proc.returncode is not None:
            return
        started = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        how = ""
        try:
            await asyncio.wait_for(proc.wait(), child.stop_timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            how = f" (killed: still running {child.stop_timeout_s:g} s after SIGTERM)"
        took = time.monotonic() - started
        print(f"loket: {child.name} stopped in {took:.1f} s{how}", flush=True)

    async def stop_all(self) -> None:
        """All at once; while the gateway has calls (they still talk to Rasa), the others
        wait until it has ended them: it exits, or its grace time is over and it hangs up."""
        self.stopping = True
        gateway = next((c for c in self.kids if c.name == "gateway"), None)
        first: asyncio.Task[None] | None = None
        if gateway is not None and await self._calls_in_progress(gateway) != 0:
            first = asyncio.ensure_future(self.stop_child(gateway))
            await asyncio.wait({first}, timeout=self.settings.sip.shutdown_grace_s)
        await asyncio.gather(
            *(self.stop_child(c) for c in self.kids if c is not gateway or not first)
        )
        if first is not None:
            await first

    async def _calls_in_progress(self, gateway: Child) -> int | None:
        """Active calls by the gateway's /healthz; None when it does not say (assume some)."""
        try:
            async with aiohttp.ClientSession() as http, asyncio.timeout(1):
                async with http.get(gateway.ready_url) as resp:
                    data = await resp.json(content_type=None)
            return int(data["calls"]["active"]) + int(data["calls"].get("queued", 0))
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError, KeyError, TypeError):
            return None


def banner(settings: Settings) -> str:
    sip = settings.sip
    host = sip.public_host or (route_source_ip("192.0.2.1") if sip.host == "0.0.0.0" else sip.host)
    http = settings.http
    lines = [
        "",
        "Loket is running.",
        f"  Call:    sip:{sip.user}@{host}:{sip.port}   ({', '.join(sip.transports).upper()})",
        f"  Web:     http://{http.host}:{http.port}/bel           (citizens: bel ons via internet)",
        f"  Desk:    http://{http.host}:{http.port}/desk          (agents: loket users add NAME)",
        f"  Health:  http://{http.host}:{http.port}/healthz",
        f"  Records: loket records   (database {settings.records.path})",
        "  Stop:    Ctrl-C (calls in progress may finish first)",
    ]
    return "\n".join(lines)


async def run(
    settings: Settings,
    rasa_venv: Path,
    startup_timeout: float,
    var_dir: Path = PROJECT_DIR / "var",
    check_every_s: float = Supervisor.CHECK_EVERY_S,
) -> int:
    kids = children(settings, rasa_venv, var_dir / "log")
    sup = Supervisor(settings, kids, startup_timeout)
    sup.CHECK_EVERY_S = check_every_s
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    watchers: list[asyncio.Task[None]] = []
    try:
        for child in kids:
            print(f"loket: starting {child.name} …", flush=True)
            await sup.start(child)
        waits = {c.name: asyncio.ensure_future(sup.wait_ready(c, startup_timeout)) for c in kids}
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait([stopped, *waits.values()], return_when=asyncio.FIRST_COMPLETED)
        while not stop.is_set() and not all(w.done() for w in waits.values()):
            await asyncio.wait([stopped, *waits.values()], return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            return 0
        failed = [name for name, w in waits.items() if not w.result()]
        for name in failed:
            child = next(c for c in kids if c.name == name)
            where = f"; see {child.log_path}" if child.log_path else ""
            print(f"loket: {name} did not become ready{where}", flush=True)
        if "gateway" in failed:
            return 1
        if failed:
            print("loket: continuing — callers are sent to an agent while the assistant is down.")
        print(banner(settings), flush=True)
        for child in kids:
            child.seen_ready = waits[child.name].result()
        watchers = [loop.create_task(sup.keep_alive(c)) for c in kids]
        watchers += [loop.create_task(sup.watch_health(c)) for c in kids]
        await stop.wait()
        return 0
    finally:
        print("\nloket: stopping (gateway first, then Rasa) …", flush=True)
        for task in watchers:
            task.cancel()
        await sup.stop_all()
        print("loket: stopped.", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rasa-venv", type=Path, default=PROJECT_DIR / ".venv-rasa")
    parser.add_argument("--startup-timeout", type=float, default=240.0)
    parser.add_argument(
        "--var-dir", type=Path, default=PROJECT_DIR / "var", help="logs, Rasa tracker store"
    )
    parser.add_argument(
        "--check-every", type=float, default=Supervisor.CHECK_EVERY_S, help="health checks (s)"
    )
    args = parser.parse_args()
    try:
        settings = load_settings()
    except ConfigError as err:
        print(f"loket: {err}\nRun `loket config check` after fixing it.", file=sys.stderr)
        raise SystemExit(2) from None
    rasa_venv = args.rasa_venv.resolve()  # the children run in other directories
    code = asyncio.run(
        run(settings, rasa_venv, args.startup_timeout, args.var_dir.resolve(), args.check_every)
    )
    raise SystemExit(code)


if __name__ == "__main__":
    main()
